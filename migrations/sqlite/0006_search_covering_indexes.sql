-- Indexes that answer search's reads without visiting the table:
-- - the last-visit index holds the searched columns, so a search read in last-visit order (a
--   term with thousands of candidates, see store/sqlite/patients.rs) filters inside the index
--   and fetches rows only for the page found. It replaces patients_doctor_visit, whose columns
--   it starts with, so the list sorted by last visit uses it as before;
-- - the per-doctor MRN, email and phone indexes carry the patient id, so the index ranges and
--   equalities of search yield ids from the index alone. Without the id SQLite preferred to
--   read the doctor's whole last-visit index, which holds the id, to the narrow range.
CREATE INDEX patients_doctor_visit_search
    ON patients(doctor_id, last_visit_at, id, name_folded, email_folded, phone_digits, lower(mrn));
DROP INDEX patients_doctor_visit;
DROP INDEX patients_doctor_email;
CREATE INDEX patients_doctor_email ON patients(doctor_id, email_folded, id);
DROP INDEX patients_doctor_phone;
CREATE INDEX patients_doctor_phone ON patients(doctor_id, phone_digits, id);
DROP INDEX patients_doctor_mrn_folded;
CREATE INDEX patients_doctor_mrn_folded ON patients(doctor_id, lower(mrn), id);
