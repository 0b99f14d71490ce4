-- The live events of `GET /api/v1/events`: one row per change a doctor's workstation should
-- hear of, written in the transaction of the change. Only ids, a kind and a status: no patient
-- data. `id` is the stream position: rows are inserted under a transaction-level advisory
-- lock held until commit (store/events.rs), so ids become visible in increasing order and a
-- reader that has seen id N has seen every id below it. The identity caches one value at a
-- time (the default), so ids are dense across instances. The newest rows are kept for replay
-- and older ones pruned. No foreign keys: pruning and the records' own lifecycle stay
-- independent.
CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id        uuid NOT NULL,
    kind            text NOT NULL,
    patient_id      uuid,
    consultation_id uuid,
    report_id       uuid,
    report_status   text,
    created_at      timestamptz NOT NULL
);

-- A doctor's replay: their events after a position.
CREATE INDEX events_owner ON events (owner_id, id);
