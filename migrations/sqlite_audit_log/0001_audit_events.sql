-- The audit log file (store/sqlite/audit_log.rs): the audit rows the audit queue stores, that
-- is of reads, refused accesses and sign-ins. The same table as `audit_events` in the data
-- file, whose rows are those of writes, stored in the same transaction as the change.
CREATE TABLE audit_events (
    id            TEXT PRIMARY KEY,
    at            TEXT NOT NULL,
    user_id       TEXT,
    action        TEXT NOT NULL,
    resource_type TEXT,
    resource_id   TEXT,
    patient_id    TEXT,
    outcome       TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    ip            TEXT
) STRICT;
CREATE INDEX audit_at ON audit_events(at, id);
CREATE INDEX audit_user ON audit_events(user_id, at);
CREATE INDEX audit_patient ON audit_events(patient_id, at);
CREATE INDEX audit_action ON audit_events(action, at);

-- The audit trail is append-only.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

-- Which data file this audit log belongs to: the same id is kept in the data file's
-- `settings` (key `audit_log_id`), so a start can tell a missing or swapped file.
CREATE TABLE audit_log_identity (
    id TEXT PRIMARY KEY
) STRICT;
