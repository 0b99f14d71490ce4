-- The audit chain of the data file (the audit rows of writes) (store/audit_chain.rs): one link per audit row, in the order the
-- rows were stored, each hashing the row with the link before it, so a row changed, removed
-- or slipped in shows when `synapse admin audit verify` walks the chain. The rows stored
-- before this table existed are linked at the first start after it (oldest first), which this marks as due.
CREATE TABLE audit_chain (
    seq      INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    hash     TEXT NOT NULL
) STRICT;

-- The chain is append-only, as the rows are.
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;

-- The rows already stored are linked at the next start (`audit_chain::chain_if_due`), in Rust.
INSERT INTO settings (key, value) VALUES ('audit_chain_due', 'link the earlier audit rows');
