-- Derives the name words, trigram index and tallies from the rows alone, after a load that ran
-- without their insert triggers (`bulk_load`). The same queries as the backfills of migrations
-- 0003, 0004 and 0005, which first built this data.
DELETE FROM patient_name_words;
INSERT OR IGNORE INTO patient_name_words (patient_id, doctor_id, word)
WITH RECURSIVE split(patient_id, doctor_id, word, rest) AS (
    SELECT id, doctor_id, '', name_folded || ' ' FROM patients
    UNION ALL
    SELECT patient_id, doctor_id, substr(rest, 1, instr(rest, ' ') - 1),
           substr(rest, instr(rest, ' ') + 1)
    FROM split WHERE rest <> ''
)
SELECT patient_id, doctor_id, word FROM split WHERE word <> '';

INSERT INTO patient_trigrams (patient_trigrams) VALUES ('delete-all');
INSERT INTO patient_trigrams (rowid, name, mrn, email, phone)
SELECT mrn_seq, name_folded, lower(mrn), email_folded, phone_digits FROM patients;

DELETE FROM report_tallies;
INSERT INTO report_tallies (doctor_id, day, status, reports, confidence_sum, confidence_count)
SELECT doctor_id, substr(created_at, 1, 10), status, COUNT(*), COALESCE(SUM(confidence), 0),
       COUNT(confidence)
FROM reports GROUP BY 1, 2, 3;

DELETE FROM patient_tallies;
INSERT INTO patient_tallies (doctor_id, patients)
SELECT doctor_id, COUNT(*) FROM patients GROUP BY doctor_id;
