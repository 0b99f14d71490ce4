-- Synapse schema for the PostgreSQL engine: the same tables as the SQLite engine, in native types.
-- Ids are uuid, times timestamptz (written with millisecond precision, so they read back exactly
-- as the API prints them), dates date, and the structured parts of a patient and a report jsonb.
-- Text that lists sort on or search ranges over is COLLATE "C": byte order, which is the SQLite
-- engine's BINARY order (so both engines page identically), and in which a prefix is a plain
-- B-tree range whatever the database locale.
-- The migrator runs this under a PostgreSQL advisory lock, so instances starting together apply
-- it once.

-- Trigram indexes answer the substring part of the patient search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text COLLATE "C" NOT NULL UNIQUE,
    full_name     text NOT NULL,
    role          text NOT NULL CHECK (role IN ('doctor', 'admin', 'receptionist')),
    password_hash text NOT NULL,
    -- The lockout state lives here, not in a server's memory, so every instance enforces it.
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users(id),
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text
);
CREATE INDEX sessions_user_open ON sessions(user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash text PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions(id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

CREATE TABLE patients (
    id               uuid PRIMARY KEY,
    doctor_id        uuid NOT NULL REFERENCES users(id),
    mrn_seq          bigint NOT NULL UNIQUE,
    mrn              text NOT NULL UNIQUE,
    -- ASCII-lower-cased like SQLite's lower(), which the SQLite engine searches the MRN with
    mrn_folded       text COLLATE "C" GENERATED ALWAYS AS (lower(mrn COLLATE "C")) STORED,
    full_name        text NOT NULL,
    -- lower-cased name with a leading space, so ' smi' marks the start of any word
    name_folded      text COLLATE "C" NOT NULL,
    date_of_birth    date NOT NULL,
    sex              text NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    phone            text,
    phone_digits     text COLLATE "C" NOT NULL DEFAULT '',
    email            text,
    email_folded     text COLLATE "C" NOT NULL DEFAULT '',
    address          text,
    referred_by      text,
    illness_duration jsonb,
    allergies        jsonb NOT NULL,
    alerts           jsonb NOT NULL,
    symptoms         jsonb NOT NULL,
    -- '-infinity' when never seen (SQLite: ''), so the column sorts last in the default
    -- "-last_visit" order and indexes without NULL special cases
    last_visit_at    timestamptz NOT NULL DEFAULT '-infinity',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
-- Keyset orders, per doctor and (for receptionists) across doctors.
CREATE INDEX patients_doctor_name ON patients(doctor_id, name_folded, id);
CREATE INDEX patients_doctor_visit ON patients(doctor_id, last_visit_at, id);
CREATE INDEX patients_doctor_created ON patients(doctor_id, created_at, id);
CREATE INDEX patients_name ON patients(name_folded, id);
CREATE INDEX patients_visit ON patients(last_visit_at, id);
CREATE INDEX patients_created ON patients(created_at, id);
-- Prefix ranges of the search (exact and prefix ranks).
CREATE INDEX patients_mrn_folded ON patients(mrn_folded);
CREATE INDEX patients_email ON patients(email_folded);
CREATE INDEX patients_phone ON patients(phone_digits);
-- Substrings of the search (the third rank, and list filters).
CREATE INDEX patients_name_trgm ON patients USING gin (name_folded gin_trgm_ops);
CREATE INDEX patients_mrn_trgm ON patients USING gin (mrn_folded gin_trgm_ops);
CREATE INDEX patients_email_trgm ON patients USING gin (email_folded gin_trgm_ops);
CREATE INDEX patients_phone_trgm ON patients USING gin (phone_digits gin_trgm_ops);

-- The words of each name (name_folded split at spaces), so "starts a word of the name" is a
-- B-tree prefix range. Derived data: the trigger below keeps it in step with patients.
CREATE TABLE patient_name_words (
    patient_id uuid NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    doctor_id  uuid NOT NULL,
    word       text COLLATE "C" NOT NULL,
    PRIMARY KEY (patient_id, word)
);
CREATE INDEX patient_name_words_doctor ON patient_name_words(doctor_id, word);
CREATE INDEX patient_name_words_word ON patient_name_words(word);

CREATE FUNCTION patient_name_words_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM patient_name_words WHERE patient_id = OLD.id;
    END IF;
    INSERT INTO patient_name_words (patient_id, doctor_id, word)
    SELECT DISTINCT NEW.id, NEW.doctor_id, w
    FROM unnest(string_to_array(NEW.name_folded, ' ')) AS w
    WHERE w <> '';
    RETURN NULL;
END
$$;
CREATE TRIGGER patient_name_words_insert AFTER INSERT ON patients
FOR EACH ROW EXECUTE FUNCTION patient_name_words_sync();
CREATE TRIGGER patient_name_words_update AFTER UPDATE OF name_folded, doctor_id ON patients
FOR EACH ROW WHEN (OLD.name_folded IS DISTINCT FROM NEW.name_folded
                   OR OLD.doctor_id IS DISTINCT FROM NEW.doctor_id)
EXECUTE FUNCTION patient_name_words_sync();

CREATE TABLE consultations (
    id              uuid PRIMARY KEY,
    session_code    text NOT NULL UNIQUE,
    patient_id      uuid NOT NULL REFERENCES patients(id),
    doctor_id       uuid NOT NULL REFERENCES users(id),
    session_type    text NOT NULL CHECK (session_type IN ('new_patient', 'follow_up', 'consultation', 'emergency')),
    status          text NOT NULL CHECK (status IN ('in_progress', 'completed', 'cancelled')),
    chief_complaint text,
    notes           text NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    cancel_reason   text,
    updated_at      timestamptz NOT NULL
);
-- One consultation in progress per patient, enforced by the database.
CREATE UNIQUE INDEX consultations_one_active ON consultations(patient_id) WHERE status = 'in_progress';
CREATE INDEX consultations_doctor_active ON consultations(doctor_id, started_at) WHERE status = 'in_progress';
CREATE INDEX consultations_patient ON consultations(patient_id, started_at, id);

CREATE TABLE reports (
    id              uuid PRIMARY KEY,
    consultation_id uuid NOT NULL UNIQUE REFERENCES consultations(id),
    patient_id      uuid NOT NULL REFERENCES patients(id),
    doctor_id       uuid NOT NULL REFERENCES users(id),
    session_type    text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'generating', 'completed', 'signed', 'failed')),
    report_type     text NOT NULL,
    confidence      double precision,
    version         integer NOT NULL DEFAULT 1,
    content         jsonb NOT NULL DEFAULT '{}',
    generator       text,
    failure_reason  text,
    -- set while the report waits for (or is in) generation; survives restarts
    queued_at       timestamptz,
    signed_at       timestamptz,
    signed_by       uuid REFERENCES users(id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX reports_doctor_created ON reports(doctor_id, created_at, id);
CREATE INDEX reports_doctor_status ON reports(doctor_id, status, created_at, id);
CREATE INDEX reports_doctor_type ON reports(doctor_id, session_type, created_at, id);
CREATE INDEX reports_patient ON reports(patient_id, created_at, id);
CREATE INDEX reports_queued ON reports(queued_at) WHERE queued_at IS NOT NULL;

CREATE TABLE report_addenda (
    id         uuid PRIMARY KEY,
    report_id  uuid NOT NULL REFERENCES reports(id),
    author_id  uuid NOT NULL REFERENCES users(id),
    text       text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX report_addenda_report ON report_addenda(report_id, created_at);

CREATE TABLE audit_events (
    id            uuid PRIMARY KEY,
    at            timestamptz NOT NULL,
    user_id       uuid,
    action        text NOT NULL,
    resource_type text,
    resource_id   text,
    patient_id    uuid,
    outcome       text NOT NULL,
    request_id    text NOT NULL,
    ip            text
);
CREATE INDEX audit_at ON audit_events(at, id);
CREATE INDEX audit_user ON audit_events(user_id, at);
CREATE INDEX audit_patient ON audit_events(patient_id, at);
CREATE INDEX audit_action ON audit_events(action, at);

-- The audit trail is append-only: no UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);
