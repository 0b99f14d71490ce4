-- Field encryption at rest (store::cipher). Contacts, notes and report text are sealed under
-- data keys kept outside the database, and search compares the contacts by blind indexes
-- (HMAC-SHA256 under the index key): phone_digits and email_folded now hold the blind index of
-- the normalised phone and email, and phone_last4 that of the phone's last four digits. No
-- clear contact stays in an index: the trigram index holds the name and MRN only.
--
-- Neither the keys nor HMAC are in SQL, so this records what is due and the start that follows
-- does it in Rust: store::refold derives the blind indexes, store::reseal seals the values
-- stored in clear (and the SQLite file is vacuumed after, so their old pages go too).
ALTER TABLE patients ADD COLUMN phone_last4 TEXT NOT NULL DEFAULT '';
CREATE INDEX patients_phone_last4 ON patients(phone_last4);
CREATE INDEX patients_doctor_phone_last4 ON patients(doctor_id, phone_last4, id);

-- The last-visit read of search filters inside the index: it now holds the last four too.
DROP INDEX patients_doctor_visit_search;
CREATE INDEX patients_doctor_visit_search
    ON patients(doctor_id, last_visit_at, id, name_folded, email_folded, phone_digits,
                phone_last4, lower(mrn));

DROP TRIGGER patient_trigrams_insert;
DROP TRIGGER patient_trigrams_update;
INSERT INTO patient_trigrams (patient_trigrams) VALUES ('delete-all');
INSERT INTO patient_trigrams (rowid, name, mrn, email, phone)
SELECT mrn_seq, name_folded, lower(mrn), '', '' FROM patients;

CREATE TRIGGER patient_trigrams_insert AFTER INSERT ON patients
BEGIN
    INSERT INTO patient_trigrams (rowid, name, mrn, email, phone)
    VALUES (NEW.mrn_seq, NEW.name_folded, lower(NEW.mrn), '', '');
END;

CREATE TRIGGER patient_trigrams_update
AFTER UPDATE OF mrn_seq, name_folded, mrn ON patients
WHEN OLD.mrn_seq IS NOT NEW.mrn_seq OR OLD.name_folded IS NOT NEW.name_folded
  OR OLD.mrn IS NOT NEW.mrn
BEGIN
    DELETE FROM patient_trigrams WHERE rowid = OLD.mrn_seq;
    INSERT INTO patient_trigrams (rowid, name, mrn, email, phone)
    VALUES (NEW.mrn_seq, NEW.name_folded, lower(NEW.mrn), '', '');
END;

INSERT INTO settings (key, value) VALUES ('search_refold_due', 'phone_digits, email_folded, phone_last4')
ON CONFLICT (key) DO NOTHING;
INSERT INTO settings (key, value) VALUES ('encryption_due', 'contacts, notes, reports')
ON CONFLICT (key) DO NOTHING;
