-- The ledger, version 1. Times are milliseconds since the Unix epoch; statuses are the wire
-- values ("0".."3" or a later one); `rank` is 1 for a final status, 0 for another status and
-- -1 for an event that carries none (a refused application).

-- Every recorded event, once: `identity` is a digest of the event's content (for a callback,
-- of every signed field), so the provider's retries and concurrent receivers meet here.
CREATE TABLE kyc_event (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    identity    BYTEA   NOT NULL UNIQUE,
    user_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('application', 'callback', 'status')),
    status      TEXT,
    rank        BIGINT  NOT NULL CHECK (rank IN (-1, 0, 1)),
    at          BIGINT  NOT NULL,
    fail_reason TEXT,
    code        TEXT,
    retryable   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX kyc_event_by_user ON kyc_event (user_id, at, id);

-- One row per user: the current status (the event that decided it, by the ordering rule) and
-- what reconciliation needs.
CREATE TABLE kyc_user (
    user_id         TEXT    PRIMARY KEY,
    status          TEXT,
    status_rank     BIGINT,
    status_at       BIGINT,
    status_reason   TEXT,
    status_identity BYTEA,
    applications    BIGINT  NOT NULL DEFAULT 0,
    last_event_at   BIGINT,
    lease_until     BIGINT
);
CREATE INDEX kyc_user_due ON kyc_user (status_rank, last_event_at);
