-- Prefix ranges of the MRN, email and phone digits per doctor, as the SQLite engine has them:
-- without them a doctor's prefix range was intersected with a read of all of that doctor's
-- patients (8 ms for 100,000 patients, for every keystroke).
CREATE INDEX patients_doctor_mrn_folded ON patients(doctor_id, mrn_folded);
CREATE INDEX patients_doctor_email ON patients(doctor_id, email_folded);
CREATE INDEX patients_doctor_phone ON patients(doctor_id, phone_digits);

-- Search reads a doctor's patients in last-visit order when a term has thousands of candidates
-- (see store/postgres/patients.rs). With the searched columns included, that read is an
-- index-only scan. It replaces patients_doctor_visit, whose keys it has, so the list sorted by
-- last visit uses it as before.
CREATE INDEX patients_doctor_visit_search ON patients(doctor_id, last_visit_at, id)
    INCLUDE (name_folded, mrn_folded, email_folded, phone_digits);
DROP INDEX patients_doctor_visit;
