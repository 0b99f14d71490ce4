-- What the server keeps of a session beyond its tokens: when it was last used (for the idle
-- timeout), and the address and client that opened it (for the user's list of sessions).
ALTER TABLE sessions ADD COLUMN last_used_at TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN client TEXT;
UPDATE sessions SET last_used_at = created_at;
