-- The patient list's name order: surname first, then the given names (" smith anna maria"),
-- written with every patient by `store::values::name_sort_key`. For the rows already stored it
-- is derived here from `name_folded` the same way: the last word, then the words before it. A
-- migration that folds `name_folded` anew runs this UPDATE again after it.
ALTER TABLE patients ADD COLUMN name_sort text COLLATE "C" NOT NULL DEFAULT '';
UPDATE patients SET name_sort =
    ' ' || substring(name_folded from '([^ ]*)$')
    || CASE WHEN btrim(coalesce(substring(name_folded from '^(.*) '), '')) = '' THEN ''
            ELSE ' ' || btrim(substring(name_folded from '^(.*) '))
       END;
-- Every writer sets it; a row without it would sort first unnoticed.
ALTER TABLE patients ALTER COLUMN name_sort DROP DEFAULT;
-- The keyset order of the name sort, per doctor and (for receptionists) across doctors, as
-- patients_doctor_name and patients_name serve the search's whole-name matches.
CREATE INDEX patients_doctor_name_sort ON patients(doctor_id, name_sort, id);
CREATE INDEX patients_name_sort ON patients(name_sort, id);
