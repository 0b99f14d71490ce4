-- Report statistics read status, creation time and confidence of every report of a doctor:
-- with them all in one index the statistics never touch the table.
CREATE INDEX reports_doctor_stats ON reports(doctor_id, status, created_at, confidence);
