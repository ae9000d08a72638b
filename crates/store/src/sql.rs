//! The ledger's SQL: one text for both backends where the dialects agree (`$n` parameters,
//! `ON CONFLICT`, row values, `RETURNING`), and a [`Dialect`] where they do not.

/// What differs between the backends.
pub(crate) struct Dialect {
    /// Opens a write transaction. SQLite's `IMMEDIATE` takes the write lock first, so a
    /// transaction never fails half-way for want of it (a deferred one cannot wait for it).
    pub(crate) begin: &'static str,
    /// Claims due users; see [`CLAIM_POSTGRES`].
    pub(crate) claim: &'static str,
}

#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: Dialect = Dialect {
    begin: "BEGIN IMMEDIATE",
    claim: CLAIM_SQLITE,
};

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: Dialect = Dialect {
    begin: "BEGIN",
    claim: CLAIM_POSTGRES,
};

/// Step 1 of a record: the event, once. No row inserted means a duplicate.
pub(crate) const INSERT_EVENT: &str = "\
INSERT INTO kyc_event (identity, user_id, kind, status, rank, at, fail_reason, code, retryable)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (identity) DO NOTHING";

/// Step 2: the user's row exists (and is locked until commit on PostgreSQL), counts accepted
/// applications and keeps the latest status-carrying time (`$3` is NULL for none).
pub(crate) const UPSERT_USER: &str = "\
INSERT INTO kyc_user (user_id, applications, last_event_at) VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE SET
    applications = kyc_user.applications + excluded.applications,
    last_event_at = CASE
        WHEN kyc_user.last_event_at IS NULL OR excluded.last_event_at > kyc_user.last_event_at
        THEN excluded.last_event_at
        ELSE kyc_user.last_event_at
    END";

/// Step 3, for an event with a status: it becomes the current state when it comes after the
/// deciding event in the ordering `(timestamp, rank, status, failReason, identity)`. One row
/// updated means new, none means stale.
pub(crate) const ADVANCE_STATE: &str = "\
UPDATE kyc_user
SET status = $2, status_rank = $3, status_at = $4, status_reason = $5, status_identity = $6
WHERE user_id = $1
  AND (status_at IS NULL
       OR ($4, $3, $2, $7, $6)
          > (status_at, status_rank, status, COALESCE(status_reason, ''), status_identity))";

pub(crate) const SELECT_STATE: &str = "\
SELECT user_id, status, status_at, status_reason, applications, last_event_at
FROM kyc_user WHERE user_id = $1";

/// Every user's state, for export: in user order, so that an export is stable.
pub(crate) const SELECT_STATES: &str = "\
SELECT user_id, status, status_at, status_reason, applications, last_event_at
FROM kyc_user ORDER BY user_id";

/// A user's events in time order; at one instant an application first (it opens the attempt
/// the others belong to), then in the order recorded.
pub(crate) const SELECT_HISTORY: &str = "\
SELECT kind, status, at, fail_reason, code, retryable
FROM kyc_event WHERE user_id = $1
ORDER BY at, CASE kind WHEN 'application' THEN 0 ELSE 1 END, id";

pub(crate) const COUNT_BY_STATUS: &str = "\
SELECT status, COUNT(*) FROM kyc_user GROUP BY status";

/// Users due for reconciliation at `$2` (now): a non-final status whose latest event is
/// before `$1` (the cut-off) and no lease running.
pub(crate) const SELECT_DUE: &str = "\
SELECT user_id FROM kyc_user
WHERE status_rank = 0 AND last_event_at < $1 AND (lease_until IS NULL OR lease_until <= $2)
ORDER BY last_event_at, user_id
LIMIT $3";

/// SQLite: one statement in a write transaction; writers are serialised by the database lock.
#[cfg(feature = "sqlite")]
const CLAIM_SQLITE: &str = "\
UPDATE kyc_user SET lease_until = $4
WHERE user_id IN (
    SELECT user_id FROM kyc_user
    WHERE status_rank = 0 AND last_event_at < $1 AND (lease_until IS NULL OR lease_until <= $2)
    ORDER BY last_event_at, user_id
    LIMIT $3)
RETURNING user_id";

/// PostgreSQL: rows another claimer holds are skipped, not waited for; a row it committed is
/// re-checked against the lease before it is taken (`FOR UPDATE` reads the latest version).
#[cfg(feature = "postgres")]
const CLAIM_POSTGRES: &str = "\
UPDATE kyc_user SET lease_until = $4
WHERE user_id IN (
    SELECT user_id FROM kyc_user
    WHERE status_rank = 0 AND last_event_at < $1 AND (lease_until IS NULL OR lease_until <= $2)
    ORDER BY last_event_at, user_id
    LIMIT $3
    FOR UPDATE SKIP LOCKED)
RETURNING user_id";
