-- Synapse schema for the embedded SQLite engine.
-- Times are fixed-width RFC 3339 UTC text ("2026-11-26T06:33:23.123Z"), so text order is time order.
-- Ids are UUID text. JSON columns hold the structured parts of a patient and a report.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('doctor', 'admin', 'receptionist')),
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoke_reason TEXT
) STRICT;
CREATE INDEX sessions_user_open ON sessions(user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

CREATE TABLE patients (
    id               TEXT PRIMARY KEY,
    doctor_id        TEXT NOT NULL REFERENCES users(id),
    mrn_seq          INTEGER NOT NULL UNIQUE,
    mrn              TEXT NOT NULL UNIQUE,
    full_name        TEXT NOT NULL,
    -- lower-cased name with a leading space, so " smi" finds the start of any word by LIKE
    name_folded      TEXT NOT NULL,
    date_of_birth    TEXT NOT NULL,
    sex              TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    phone            TEXT,
    phone_digits     TEXT NOT NULL DEFAULT '',
    email            TEXT,
    email_folded     TEXT NOT NULL DEFAULT '',
    address          TEXT,
    referred_by      TEXT,
    illness_duration TEXT,
    allergies        TEXT NOT NULL,
    alerts           TEXT NOT NULL,
    symptoms         TEXT NOT NULL,
    -- '' when never seen, so the column sorts and indexes without NULL special cases
    last_visit_at    TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX patients_doctor_name ON patients(doctor_id, name_folded, id);
CREATE INDEX patients_doctor_visit ON patients(doctor_id, last_visit_at, id);
CREATE INDEX patients_doctor_created ON patients(doctor_id, created_at, id);
CREATE INDEX patients_name ON patients(name_folded, id);
CREATE INDEX patients_visit ON patients(last_visit_at, id);
CREATE INDEX patients_created ON patients(created_at, id);
CREATE INDEX patients_phone ON patients(phone_digits);
CREATE INDEX patients_email ON patients(email_folded);

CREATE TABLE consultations (
    id              TEXT PRIMARY KEY,
    session_code    TEXT NOT NULL UNIQUE,
    patient_id      TEXT NOT NULL REFERENCES patients(id),
    doctor_id       TEXT NOT NULL REFERENCES users(id),
    session_type    TEXT NOT NULL CHECK (session_type IN ('new_patient', 'follow_up', 'consultation', 'emergency')),
    status          TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'cancelled')),
    chief_complaint TEXT,
    notes           TEXT NOT NULL DEFAULT '',
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    cancel_reason   TEXT,
    updated_at      TEXT NOT NULL
) STRICT;
-- One consultation in progress per patient, enforced by the database.
CREATE UNIQUE INDEX consultations_one_active ON consultations(patient_id) WHERE status = 'in_progress';
CREATE INDEX consultations_doctor_active ON consultations(doctor_id, started_at) WHERE status = 'in_progress';
CREATE INDEX consultations_patient ON consultations(patient_id, started_at, id);

CREATE TABLE reports (
    id              TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL UNIQUE REFERENCES consultations(id),
    patient_id      TEXT NOT NULL REFERENCES patients(id),
    doctor_id       TEXT NOT NULL REFERENCES users(id),
    session_type    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'generating', 'completed', 'signed', 'failed')),
    report_type     TEXT NOT NULL,
    confidence      REAL,
    version         INTEGER NOT NULL DEFAULT 1,
    content         TEXT NOT NULL DEFAULT '{}',
    generator       TEXT,
    failure_reason  TEXT,
    -- set while the report waits for (or is in) generation; survives restarts
    queued_at       TEXT,
    signed_at       TEXT,
    signed_by       TEXT REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX reports_doctor_created ON reports(doctor_id, created_at, id);
CREATE INDEX reports_doctor_status ON reports(doctor_id, status, created_at, id);
CREATE INDEX reports_doctor_type ON reports(doctor_id, session_type, created_at, id);
CREATE INDEX reports_patient ON reports(patient_id, created_at, id);
CREATE INDEX reports_queued ON reports(queued_at) WHERE queued_at IS NOT NULL;

CREATE TABLE report_addenda (
    id         TEXT PRIMARY KEY,
    report_id  TEXT NOT NULL REFERENCES reports(id),
    author_id  TEXT NOT NULL REFERENCES users(id),
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX report_addenda_report ON report_addenda(report_id, created_at);

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

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
