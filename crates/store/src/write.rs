//! How events reach the database: the rows of one transaction, the ordering rule that
//! decides what each row did (applied here, to a batch of rows at once, so that a write is a
//! few statements whatever its size), SQLite's writer task that commits the records waiting
//! together, and the detached task that lets a transaction end whole whatever the caller
//! does.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::future::Future;

use kyc_proto::{AuthenticationStatus, Timestamp, UserId};
use tokio::sync::{mpsc, oneshot};

use crate::record::{ApplicationOutcome, EventKind, Recorded, rank};
use crate::rows::millis;
use crate::{Error, Ledger, identity};

/// Rows to record, and where to send what became of them once committed (or why not).
pub(crate) type Job = (Vec<Write>, oneshot::Sender<Result<Vec<Recorded>, Error>>);

/// One event as the caller gave it.
pub(crate) struct Row_<'a> {
    pub(crate) identity: [u8; 32],
    pub(crate) user_id: &'a UserId,
    pub(crate) kind: EventKind,
    pub(crate) status: Option<&'a AuthenticationStatus>,
    pub(crate) at: Timestamp,
    pub(crate) fail_reason: Option<&'a str>,
    pub(crate) code: Option<&'a str>,
    pub(crate) retryable: bool,
    /// 1 for an accepted application: it opens an attempt.
    pub(crate) opens_attempt: i64,
}

/// An application as an event row.
pub(crate) fn application_row<'a>(
    user_id: &'a UserId,
    at: Timestamp,
    outcome: &'a ApplicationOutcome,
) -> Row_<'a> {
    let identity = identity::of_application(user_id, at, outcome);
    match outcome {
        ApplicationOutcome::Accepted(status) => Row_ {
            identity,
            user_id,
            kind: EventKind::Application,
            status: Some(status),
            at,
            fail_reason: None,
            code: None,
            retryable: false,
            opens_attempt: 1,
        },
        ApplicationOutcome::Refused {
            code,
            reason,
            retryable,
        } => Row_ {
            identity,
            user_id,
            kind: EventKind::Application,
            status: None,
            at,
            fail_reason: reason.as_deref(),
            code: Some(code),
            retryable: *retryable,
            opens_attempt: 0,
        },
    }
}

/// The row owned, ready to move to the task that writes it.
pub(crate) fn owned(row: Row_<'_>) -> Result<Write, Error> {
    Ok(Write {
        identity: row.identity,
        user_id: row.user_id.as_str().to_owned(),
        kind: row.kind,
        status: row.status.map(|status| status.as_str().to_owned()),
        rank: rank(row.status),
        at: millis("timestamp", row.at)?,
        fail_reason: row.fail_reason.map(str::to_owned),
        code: row.code.map(str::to_owned),
        retryable: row.retryable,
        opens_attempt: row.opens_attempt,
    })
}

/// One event ready to store, owned: it moves to the task that writes it.
pub(crate) struct Write {
    pub(crate) identity: [u8; 32],
    pub(crate) user_id: String,
    pub(crate) kind: EventKind,
    pub(crate) status: Option<String>,
    pub(crate) rank: i64,
    pub(crate) at: i64,
    pub(crate) fail_reason: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) retryable: bool,
    pub(crate) opens_attempt: i64,
}

/// Rows per statement in [`Ledger::write`]: nine binds each keeps a statement well inside
/// both backends' limits on binds (SQLite 32,766, PostgreSQL 65,535).
pub(crate) const CHUNK: usize = 1024;

/// The event that decides a user's state, as far as the ordering rule (crate docs, rule 2)
/// needs it.
#[derive(Debug, Clone)]
pub(crate) struct Decider {
    pub(crate) at: i64,
    pub(crate) rank: i64,
    pub(crate) status: String,
    pub(crate) reason: Option<String>,
    pub(crate) identity: Vec<u8>,
}

impl Decider {
    /// The row's decider when it carries a status.
    fn of(row: &Write) -> Option<Self> {
        Some(Self {
            at: row.at,
            rank: row.rank,
            status: row.status.clone()?,
            reason: row.fail_reason.clone(),
            identity: row.identity.to_vec(),
        })
    }

    /// The ordering rule: field by field in this order, numbers as numbers, texts and
    /// identities byte by byte, and no `failReason` the same as an empty one. Byte order, not
    /// the database's collation, so both backends decide alike.
    fn key(&self) -> (i64, i64, &str, &str, &[u8]) {
        (
            self.at,
            self.rank,
            &self.status,
            self.reason.as_deref().unwrap_or(""),
            &self.identity,
        )
    }
}

/// `user_id, status_at, status_rank, status, status_reason, status_identity`, as step 2 of a
/// write returns them.
pub(crate) type DeciderRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
);

/// The user and the event deciding its state from a [`DeciderRow`]; `None` while no event
/// with a status was recorded.
pub(crate) fn decider_from_row(row: DeciderRow) -> (String, Option<Decider>) {
    let (user_id, at, rank, status, reason, identity) = row;
    let decider = match (at, rank, status, identity) {
        (Some(at), Some(rank), Some(status), Some(identity)) => Some(Decider {
            at,
            rank,
            status,
            reason,
            identity,
        }),
        _ => None,
    };
    (user_id, decider)
}

/// The rows of `chunk` whose identity has not come earlier in it: a later copy is a duplicate
/// whatever the database holds.
pub(crate) fn first_of_each(chunk: &[Write]) -> Vec<&Write> {
    let mut seen = HashSet::with_capacity(chunk.len());
    chunk
        .iter()
        .filter(|row| seen.insert(row.identity))
        .collect()
}

/// What step 2 of a write adds to one user for the new events: accepted applications, and the
/// latest time of those carrying a status.
#[derive(Default)]
pub(crate) struct UserCounts {
    pub(crate) applications: i64,
    pub(crate) last_event_at: Option<i64>,
}

/// The new events' users, in user order (so that PostgreSQL transactions lock users in one
/// order), with what step 2 adds to each.
pub(crate) fn user_counts<'a>(
    new: impl Iterator<Item = &'a Write>,
) -> BTreeMap<&'a str, UserCounts> {
    let mut users = BTreeMap::<&str, UserCounts>::new();
    for row in new {
        let counts = users.entry(&row.user_id).or_default();
        counts.applications += row.opens_attempt;
        if row.status.is_some() {
            counts.last_event_at = counts.last_event_at.max(Some(row.at));
        }
    }
    users
}

/// What became of each row of `chunk`, in order, as if recorded one by one: a row whose
/// identity is not in `inserted` (or was met earlier) is a duplicate; one with a status is
/// new when it sorts after the user's deciding event, which it then becomes in `deciders`,
/// and stale otherwise. Returns the users whose deciding event changed.
pub(crate) fn decide<'a>(
    chunk: &'a [Write],
    mut inserted: HashSet<Vec<u8>>,
    deciders: &mut HashMap<String, Option<Decider>>,
) -> (Vec<Recorded>, BTreeSet<&'a str>) {
    let mut recorded = Vec::with_capacity(chunk.len());
    let mut changed = BTreeSet::new();
    for row in chunk {
        if !inserted.remove(&row.identity[..]) {
            recorded.push(Recorded::Duplicate);
            continue;
        }
        let Some(decider) = Decider::of(row) else {
            recorded.push(Recorded::New);
            continue;
        };
        let current = deciders.entry(row.user_id.clone()).or_default();
        if current
            .as_ref()
            .is_none_or(|current| decider.key() > current.key())
        {
            *current = Some(decider);
            changed.insert(row.user_id.as_str());
            recorded.push(Recorded::New);
        } else {
            recorded.push(Recorded::Stale);
        }
    }
    (recorded, changed)
}

/// SQLite's writer: takes the jobs waiting (up to 256), writes them all in one transaction,
/// and answers each once it committed. SQLite has one writer at a time anyway; a commit per
/// group instead of per record turns many syncs to disk into one, under load. On an error
/// nothing of the group is stored, and every job of it gets the error.
pub(crate) async fn write_together(ledger: Ledger, mut jobs: mpsc::Receiver<Job>) {
    let mut waiting = Vec::with_capacity(256);
    while jobs.recv_many(&mut waiting, 256).await > 0 {
        let mut sizes = Vec::with_capacity(waiting.len());
        let mut rows = Vec::new();
        let mut replies = Vec::with_capacity(waiting.len());
        for (job, reply) in waiting.drain(..) {
            sizes.push(job.len());
            rows.extend(job);
            replies.push(reply);
        }
        match ledger.write(rows).await {
            Ok(recorded) => {
                let mut recorded = recorded.into_iter();
                for (size, reply) in sizes.into_iter().zip(replies) {
                    let _ = reply.send(Ok(recorded.by_ref().take(size).collect()));
                }
            }
            Err(err) => {
                for reply in replies {
                    let _ = reply.send(Err(err.shared()));
                }
            }
        }
    }
}

/// The writer task has stopped (the runtime is shutting down).
#[derive(Debug)]
pub(crate) struct WriterGone;

impl fmt::Display for WriterGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the ledger's writer task has stopped")
    }
}

impl std::error::Error for WriterGone {}

/// Runs a transaction on its own task, so that it ends whole (commit or rollback) even when
/// the caller stops waiting: a timeout dropping a half-awaited sqlx transaction can leave its
/// connection inside a transaction that was never acknowledged, and the pool would hand that
/// connection to the next writer.
pub(crate) async fn detached<T, F>(work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(Error::interrupted(err)),
    }
}
