-- TOTP second factor (RFC 6238). `secret` is the shared key sealed by the server (ChaCha20-
-- Poly1305 under a key derived from its signing secret), so a copy of the database alone does
-- not give the codes. `enabled_at` is set once the first code confirmed the enrolment; before
-- that the row is a pending enrolment. `last_step` is the last time step whose code was
-- accepted: a code is accepted once, and never one of an earlier step.
CREATE TABLE user_mfa (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    secret     TEXT NOT NULL,
    enabled_at TEXT,
    last_step  INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
) STRICT;

-- The single-use recovery codes of an enrolment, as SHA-256 hashes of the code.
CREATE TABLE mfa_recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
) STRICT;
