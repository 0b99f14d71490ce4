-- The audit chain (store/audit_chain.rs): one link per audit row, in the order the rows were
-- stored, each hashing the row with the link before it, so a row changed, removed or slipped
-- in shows when `synapse admin audit verify` walks the chain. Appends take an advisory lock,
-- so the instances writing at once still make one line. The rows stored before this table
-- existed are linked at the first start after it (oldest first), which this marks as due.
CREATE TABLE audit_chain (
    seq      bigint PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    hash     text NOT NULL
);

-- The chain is append-only, as the rows are: no UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE TRIGGER audit_chain_no_change BEFORE UPDATE OR DELETE ON audit_chain
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The rows already stored are linked at the next start (`audit_chain::chain_if_due`), in Rust.
INSERT INTO settings (key, value) VALUES ('audit_chain_due', 'link the earlier audit rows');
