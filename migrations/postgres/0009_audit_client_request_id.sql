-- The request id a client sent (`X-Request-ID`), kept beside the server's own `request_id`:
-- the client's claim, for correlation, never the audit row's identity.
ALTER TABLE audit_events ADD COLUMN client_request_id text;
