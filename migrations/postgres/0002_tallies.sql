-- Running counts that the statistics and the unfiltered list totals read instead of counting
-- every row. Derived data, kept in step by statement-level triggers over transition tables: a
-- COPY of a million reports updates each tally row once, not once per report.

-- Reports per doctor, UTC day of creation and status, with their confidence.
CREATE TABLE report_tallies (
    doctor_id        uuid NOT NULL,
    day              date NOT NULL,
    status           text NOT NULL,
    reports          bigint NOT NULL,
    confidence_sum   double precision NOT NULL,
    confidence_count bigint NOT NULL,
    PRIMARY KEY (doctor_id, day, status)
);

INSERT INTO report_tallies (doctor_id, day, status, reports, confidence_sum, confidence_count)
SELECT doctor_id, (created_at AT TIME ZONE 'UTC')::date, status, COUNT(*),
       COALESCE(SUM(confidence), 0), COUNT(confidence)
FROM reports GROUP BY 1, 2, 3;

-- Applies a change: each row counted with its sign (+1 added, -1 removed); a report whose
-- update left its tally unchanged (the same doctor, day, status and confidence) nets to zero
-- and writes nothing. Tallies are written in key order, so two transactions touching the same
-- tallies lock them in the same order and never deadlock.
CREATE FUNCTION report_tallies_apply(signs integer[], doctors uuid[], created timestamptz[],
                                     statuses text[], confidences double precision[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_tallies AS t (doctor_id, day, status, reports, confidence_sum, confidence_count)
    SELECT d, (a AT TIME ZONE 'UTC')::date, s, SUM(n), COALESCE(SUM(n * c), 0),
           COALESCE(SUM(n) FILTER (WHERE c IS NOT NULL), 0)
    FROM unnest(signs, doctors, created, statuses, confidences) AS r(n, d, a, s, c)
    GROUP BY 1, 2, 3
    HAVING SUM(n) <> 0 OR COALESCE(SUM(n * c), 0) <> 0
        OR COALESCE(SUM(n) FILTER (WHERE c IS NOT NULL), 0) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (doctor_id, day, status) DO UPDATE SET
        reports = t.reports + excluded.reports,
        confidence_sum = t.confidence_sum + excluded.confidence_sum,
        confidence_count = t.confidence_count + excluded.confidence_count;
$$;

-- (Each branch reads only the transition tables its event has; PL/pgSQL plans a statement
-- when it first runs it.)
CREATE FUNCTION report_tallies_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_tallies_apply(array_agg(1), array_agg(doctor_id), array_agg(created_at),
                                     array_agg(status), array_agg(confidence))
        FROM new_rows HAVING COUNT(*) > 0;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_tallies_apply(array_agg(-1), array_agg(doctor_id), array_agg(created_at),
                                     array_agg(status), array_agg(confidence))
        FROM old_rows HAVING COUNT(*) > 0;
    ELSE
        PERFORM report_tallies_apply(array_agg(n), array_agg(doctor_id), array_agg(created_at),
                                     array_agg(status), array_agg(confidence))
        FROM (SELECT -1 AS n, doctor_id, created_at, status, confidence FROM old_rows
              UNION ALL
              SELECT 1, doctor_id, created_at, status, confidence FROM new_rows) AS changes
        HAVING COUNT(*) > 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER report_tallies_insert AFTER INSERT ON reports
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_sync();
CREATE TRIGGER report_tallies_update AFTER UPDATE ON reports
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_sync();
CREATE TRIGGER report_tallies_delete AFTER DELETE ON reports
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_sync();

-- Patients per doctor.
CREATE TABLE patient_tallies (
    doctor_id uuid PRIMARY KEY,
    patients  bigint NOT NULL
);

INSERT INTO patient_tallies (doctor_id, patients)
SELECT doctor_id, COUNT(*) FROM patients GROUP BY doctor_id;

CREATE FUNCTION patient_tallies_apply(signs integer[], doctors uuid[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO patient_tallies AS t (doctor_id, patients)
    SELECT d, SUM(n) FROM unnest(signs, doctors) AS r(n, d)
    GROUP BY 1 HAVING SUM(n) <> 0 ORDER BY 1
    ON CONFLICT (doctor_id) DO UPDATE SET patients = t.patients + excluded.patients;
$$;

CREATE FUNCTION patient_tallies_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM patient_tallies_apply(array_agg(1), array_agg(doctor_id))
        FROM new_rows HAVING COUNT(*) > 0;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM patient_tallies_apply(array_agg(-1), array_agg(doctor_id))
        FROM old_rows HAVING COUNT(*) > 0;
    ELSE
        PERFORM patient_tallies_apply(array_agg(n), array_agg(doctor_id))
        FROM (SELECT -1 AS n, doctor_id FROM old_rows
              UNION ALL SELECT 1, doctor_id FROM new_rows) AS changes
        HAVING COUNT(*) > 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER patient_tallies_insert AFTER INSERT ON patients
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION patient_tallies_sync();
CREATE TRIGGER patient_tallies_update AFTER UPDATE ON patients
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION patient_tallies_sync();
CREATE TRIGGER patient_tallies_delete AFTER DELETE ON patients
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION patient_tallies_sync();
