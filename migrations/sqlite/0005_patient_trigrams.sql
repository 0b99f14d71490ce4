-- Substring search (the third rank of patient search) through a trigram index: a term found in
-- the middle of a few names is looked up instead of read for in every patient of the doctor.
-- Contentless: it holds only the index, keyed by `mrn_seq` (unique and never renumbered, which
-- SQLite's implicit rowid may be by VACUUM). Derived data, kept in step by the triggers below.
-- The columns hold what search compares: the folded name, MRN, email and phone digits.
CREATE VIRTUAL TABLE patient_trigrams USING fts5(
    name, mrn, email, phone,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);

INSERT INTO patient_trigrams (rowid, name, mrn, email, phone)
SELECT mrn_seq, name_folded, lower(mrn), email_folded, phone_digits FROM patients;

CREATE TRIGGER patient_trigrams_insert AFTER INSERT ON patients
BEGIN
    INSERT INTO patient_trigrams (rowid, name, mrn, email, phone)
    VALUES (NEW.mrn_seq, NEW.name_folded, lower(NEW.mrn), NEW.email_folded, NEW.phone_digits);
END;

CREATE TRIGGER patient_trigrams_update
AFTER UPDATE OF mrn_seq, name_folded, mrn, email_folded, phone_digits ON patients
WHEN OLD.mrn_seq IS NOT NEW.mrn_seq OR OLD.name_folded IS NOT NEW.name_folded
  OR OLD.mrn IS NOT NEW.mrn OR OLD.email_folded IS NOT NEW.email_folded
  OR OLD.phone_digits IS NOT NEW.phone_digits
BEGIN
    DELETE FROM patient_trigrams WHERE rowid = OLD.mrn_seq;
    INSERT INTO patient_trigrams (rowid, name, mrn, email, phone)
    VALUES (NEW.mrn_seq, NEW.name_folded, lower(NEW.mrn), NEW.email_folded, NEW.phone_digits);
END;

CREATE TRIGGER patient_trigrams_delete AFTER DELETE ON patients
BEGIN
    DELETE FROM patient_trigrams WHERE rowid = OLD.mrn_seq;
END;
