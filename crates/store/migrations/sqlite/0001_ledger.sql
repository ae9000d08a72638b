-- The ledger, version 1. Times are milliseconds since the Unix epoch; statuses are the wire
-- values ("0".."3" or a later one); `rank` is 1 for a final status, 0 for another status and
-- -1 for an event that carries none (a refused application).

-- Every recorded event, once: `identity` is a digest of the event's content (for a callback,
-- of every signed field), so the provider's retries and concurrent receivers meet here.
CREATE TABLE kyc_event (
    id          INTEGER PRIMARY KEY,
    identity    BLOB    NOT NULL UNIQUE,
    user_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('application', 'callback', 'status')),
    status      TEXT,
    rank        INTEGER NOT NULL CHECK (rank IN (-1, 0, 1)),
    at          INTEGER NOT NULL,
    fail_reason TEXT,
    code        TEXT,
    retryable   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kyc_event_by_user ON kyc_event (user_id, at, id);

-- One row per user: the current status (the event that decided it, by the ordering rule) and
-- what reconciliation needs.
CREATE TABLE kyc_user (
    user_id         TEXT    PRIMARY KEY,
    status          TEXT,
    status_rank     INTEGER,
    status_at       INTEGER,
    status_reason   TEXT,
    status_identity BLOB,
    applications    INTEGER NOT NULL DEFAULT 0,
    last_event_at   INTEGER,
    lease_until     INTEGER
);
CREATE INDEX kyc_user_due ON kyc_user (status_rank, last_event_at);
