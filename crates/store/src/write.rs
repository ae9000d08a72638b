//! How events reach the database: the rows of one transaction, SQLite's writer task that
//! commits the records waiting together, and the detached task that lets a transaction end
//! whole whatever the caller does.

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
