-- A load into an empty database (`synapse seed`) sets the per-row upkeep of derived data aside
-- (the name-word and tally triggers on insert) and derives it once, from all rows, at the end:
-- one set-based pass instead of a trigger per row, and batches loading side by side no longer
-- queue on the same tally rows. This function is that pass; it is also correct at any other
-- time, since it rebuilds from the rows alone. (The tally queries are those of 0002's backfill.)
CREATE FUNCTION derived_data_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM patient_name_words;
    INSERT INTO patient_name_words (patient_id, doctor_id, word)
    SELECT p.id, p.doctor_id, w
    FROM patients p, unnest(string_to_array(p.name_folded, ' ')) AS w
    WHERE w <> ''
    GROUP BY p.doctor_id, w, p.id
    -- Stored in the order search reads them (a doctor's words by prefix), so a range of
    -- candidates sits on few pages.
    ORDER BY p.doctor_id, w, p.id;

    DELETE FROM report_tallies;
    INSERT INTO report_tallies (doctor_id, day, status, reports, confidence_sum, confidence_count)
    SELECT doctor_id, (created_at AT TIME ZONE 'UTC')::date, status, COUNT(*),
           COALESCE(SUM(confidence), 0), COUNT(confidence)
    FROM reports GROUP BY 1, 2, 3;

    DELETE FROM patient_tallies;
    INSERT INTO patient_tallies (doctor_id, patients)
    SELECT doctor_id, COUNT(*) FROM patients GROUP BY doctor_id;
$$;
