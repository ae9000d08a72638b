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

// A write is three statements per batch of rows (see `Ledger::write`), each built with
// `QueryBuilder::push_values`, whatever the number of rows: the text below, then one row of
// binds per event or user, then the `_END` text.

/// Step 1: the events, each once. The identities returned are those inserted; an event not
/// returned is a duplicate.
pub(crate) const INSERT_EVENTS: &str = "INSERT INTO kyc_event (identity, user_id, kind, status, rank, at, fail_reason, code, retryable) ";
pub(crate) const INSERT_EVENTS_END: &str = " ON CONFLICT (identity) DO NOTHING RETURNING identity";

/// Step 2, for the users of the new events, one row each: the user's row exists (and is
/// locked until commit on PostgreSQL), counts accepted applications and keeps the latest
/// status-carrying time (NULL for none). It returns the event deciding each user's state now.
pub(crate) const UPSERT_USERS: &str =
    "INSERT INTO kyc_user (user_id, applications, last_event_at) ";
pub(crate) const UPSERT_USERS_END: &str = "
ON CONFLICT (user_id) DO UPDATE SET
    applications = kyc_user.applications + excluded.applications,
    last_event_at = CASE
        WHEN kyc_user.last_event_at IS NULL OR excluded.last_event_at > kyc_user.last_event_at
        THEN excluded.last_event_at
        ELSE kyc_user.last_event_at
    END
RETURNING user_id, status_at, status_rank, status, status_reason, status_identity";

/// Step 3, for the users whose state a new event decides now: the new deciding event. Every
/// row exists since step 2, so this upsert only ever updates.
pub(crate) const SET_STATES: &str = "\
INSERT INTO kyc_user (user_id, status_at, status_rank, status, status_reason, status_identity) ";
pub(crate) const SET_STATES_END: &str = "
ON CONFLICT (user_id) DO UPDATE SET
    status_at = excluded.status_at,
    status_rank = excluded.status_rank,
    status = excluded.status,
    status_reason = excluded.status_reason,
    status_identity = excluded.status_identity";

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
