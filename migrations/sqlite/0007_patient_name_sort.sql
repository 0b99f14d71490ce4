-- The patient list's name order: surname first, then the given names (" smith anna maria"),
-- written with every patient by `store::values::name_sort_key`. For the rows already stored it
-- is derived here from `name_folded` the same way: the last word, then the words before it.
-- (`rtrim(x, <the letters of x>)` keeps x up to and including its last space.) A migration
-- that folds `name_folded` anew runs this UPDATE again after it.
ALTER TABLE patients ADD COLUMN name_sort TEXT NOT NULL DEFAULT '';
UPDATE patients SET name_sort =
    ' ' || substr(name_folded, length(rtrim(name_folded, replace(name_folded, ' ', ''))) + 1)
    || CASE WHEN rtrim(rtrim(name_folded, replace(name_folded, ' ', '')), ' ') = '' THEN ''
            ELSE ' ' || ltrim(rtrim(rtrim(name_folded, replace(name_folded, ' ', '')), ' '), ' ')
       END;
-- The keyset order of the name sort, per doctor and (for receptionists) across doctors, as
-- patients_doctor_name and patients_name serve the search's whole-name matches.
CREATE INDEX patients_doctor_name_sort ON patients(doctor_id, name_sort, id);
CREATE INDEX patients_name_sort ON patients(name_sort, id);
