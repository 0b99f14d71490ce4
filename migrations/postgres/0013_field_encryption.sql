-- Field encryption at rest (store::cipher). Contacts, notes and report text are sealed under
-- data keys kept outside the database, and search compares the contacts by blind indexes
-- (HMAC-SHA256 under the index key): phone_digits and email_folded now hold the blind index of
-- the normalised phone and email, and phone_last4 that of the phone's last four digits. The
-- trigram indexes of the contacts go: a blind index has no substrings worth finding.
--
-- Neither the keys nor HMAC are in SQL, so this records what is due and the start that follows
-- does it in Rust: store::refold derives the blind indexes, store::reseal seals the values
-- stored in clear (docs/SECURITY.md: VACUUM FULL afterwards removes their old row versions).
ALTER TABLE patients ADD COLUMN phone_last4 text NOT NULL DEFAULT '';
CREATE INDEX patients_phone_last4 ON patients(phone_last4);
CREATE INDEX patients_doctor_phone_last4 ON patients(doctor_id, phone_last4);

DROP INDEX patients_email_trgm;
DROP INDEX patients_phone_trgm;

DROP INDEX patients_doctor_visit_search;
CREATE INDEX patients_doctor_visit_search ON patients(doctor_id, last_visit_at, id)
    INCLUDE (name_folded, mrn_folded, email_folded, phone_digits, phone_last4);

INSERT INTO settings (key, value) VALUES ('search_refold_due', 'phone_digits, email_folded, phone_last4')
ON CONFLICT (key) DO NOTHING;
INSERT INTO settings (key, value) VALUES ('encryption_due', 'contacts, notes, reports')
ON CONFLICT (key) DO NOTHING;
