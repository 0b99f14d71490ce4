-- Patient search finds its exact and prefix matches (the first two ranks) with index ranges
-- instead of testing LIKE '%term%' on every row, as the PostgreSQL engine does.

-- The words of each name (name_folded split at spaces), so "starts a word of the name" is an
-- index range on `word`. Derived data: the triggers below keep it in step with patients, so
-- create, update and the bulk loader need no code of their own.
CREATE TABLE patient_name_words (
    patient_id TEXT NOT NULL REFERENCES patients(id),
    doctor_id  TEXT NOT NULL,
    word       TEXT NOT NULL,
    PRIMARY KEY (patient_id, word)
) STRICT, WITHOUT ROWID;
CREATE INDEX patient_name_words_doctor ON patient_name_words(doctor_id, word);
-- Receptionists search every doctor's patients.
CREATE INDEX patient_name_words_word ON patient_name_words(word);

-- The words of the existing names. The split is PostgreSQL's string_to_array(name, ' '):
-- split at single spaces only, empty words dropped.
INSERT OR IGNORE INTO patient_name_words (patient_id, doctor_id, word)
WITH RECURSIVE split(patient_id, doctor_id, word, rest) AS (
    SELECT id, doctor_id, '', name_folded || ' ' FROM patients
    UNION ALL
    SELECT patient_id, doctor_id, substr(rest, 1, instr(rest, ' ') - 1),
           substr(rest, instr(rest, ' ') + 1)
    FROM split WHERE rest <> ''
)
SELECT patient_id, doctor_id, word FROM split WHERE word <> '';

CREATE TRIGGER patient_name_words_insert AFTER INSERT ON patients
BEGIN
    INSERT OR IGNORE INTO patient_name_words (patient_id, doctor_id, word)
    WITH RECURSIVE split(word, rest) AS (
        SELECT '', NEW.name_folded || ' '
        UNION ALL
        SELECT substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
        FROM split WHERE rest <> ''
    )
    SELECT NEW.id, NEW.doctor_id, word FROM split WHERE word <> '';
END;

CREATE TRIGGER patient_name_words_update AFTER UPDATE OF name_folded, doctor_id ON patients
WHEN OLD.name_folded IS NOT NEW.name_folded OR OLD.doctor_id IS NOT NEW.doctor_id
BEGIN
    DELETE FROM patient_name_words WHERE patient_id = OLD.id;
    INSERT OR IGNORE INTO patient_name_words (patient_id, doctor_id, word)
    WITH RECURSIVE split(word, rest) AS (
        SELECT '', NEW.name_folded || ' '
        UNION ALL
        SELECT substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
        FROM split WHERE rest <> ''
    )
    SELECT NEW.id, NEW.doctor_id, word FROM split WHERE word <> '';
END;

-- Patients are not deleted today; should they be, their words go first (before, because the
-- words reference the patient and foreign keys are enforced).
CREATE TRIGGER patient_name_words_delete BEFORE DELETE ON patients
BEGIN
    DELETE FROM patient_name_words WHERE patient_id = OLD.id;
END;

-- Prefix ranges of the MRN (searched lower-cased), email and phone digits, per doctor and
-- (for receptionists) across doctors. The existing patients_email and patients_phone cover the
-- latter for email and phone.
CREATE INDEX patients_doctor_mrn_folded ON patients(doctor_id, lower(mrn));
CREATE INDEX patients_mrn_folded ON patients(lower(mrn));
CREATE INDEX patients_doctor_email ON patients(doctor_id, email_folded);
CREATE INDEX patients_doctor_phone ON patients(doctor_id, phone_digits);
