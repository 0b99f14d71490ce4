-- Failed logins, keyed on the email as typed (lowercased) rather than on the account, so an
-- email without an account counts and locks exactly like one with: the answers never tell
-- which emails have accounts. `scope` is the client address for the lock of one account from
-- one address, or '*' for the slower back-off of the account from everywhere. The count from
-- everywhere and the latest lock of any scope are mirrored onto `users.failed_logins` /
-- `users.locked_until` for the administrators' screens; unlocking deletes every row.
CREATE TABLE login_locks (
    email        text NOT NULL,
    scope        text NOT NULL,
    failures     integer NOT NULL,
    locked_until timestamptz,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (email, scope)
);

-- Pruning the rows of addresses that stopped trying.
CREATE INDEX login_locks_updated ON login_locks (updated_at);
