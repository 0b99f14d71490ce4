-- The live events of `GET /api/v1/events`: one row per change a doctor's workstation should
-- hear of, written in the transaction of the change. Only ids, a kind and a status: no patient
-- data. `id` is the stream position; AUTOINCREMENT so a pruned id is never given again (a
-- client resuming from it must be told its events are gone, not be sent newer ones under it).
-- The newest rows are kept for replay and older ones pruned (store/events.rs). No foreign
-- keys: pruning and the records' own lifecycle stay independent.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    patient_id      TEXT,
    consultation_id TEXT,
    report_id       TEXT,
    report_status   TEXT,
    created_at      TEXT NOT NULL
) STRICT;

-- A doctor's replay: their events after a position.
CREATE INDEX events_owner ON events (owner_id, id);
