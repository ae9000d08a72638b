//! The record of what the sandbox received and what callbacks it attempted.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use tokio::sync::watch;

/// A snapshot of the sandbox's log: every request it answered (or dropped) and every callback
/// attempt, oldest first, each numbered by one shared sequence.
///
/// Over HTTP it is `GET {base}/_sandbox/log`, this struct as JSON (camelCase names). It holds
/// merchant numbers, `userId`s, statuses and codes, never a secret, a signature, a furigana or a
/// `failReason` of the sandbox's own; a callback record also keeps the first 64 bytes of the
/// answer the merchant's receiver sent (normally `OK`). The sandbox keeps the latest entries
/// only (see [`SandboxBuilder::log_capacity`](crate::SandboxBuilder::log_capacity)).
///
/// # Examples
///
/// ```
/// let log = kyc_sandbox::Log::default();
/// assert!(log.requests.is_empty());
/// assert_eq!(log.callbacks_for("abc_100008").count(), 0);
/// assert_eq!(serde_json::to_string(&log)?, r#"{"requests":[],"callbacks":[]}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Default, Serialize)]
pub struct Log {
    /// Requests, oldest first.
    pub requests: Vec<RequestRecord>,
    /// Callback attempts, oldest first.
    pub callbacks: Vec<CallbackRecord>,
}

impl Log {
    /// The requests about `user_id` (those that got far enough to name one).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::Log::default().requests_for("u").count(), 0);
    /// ```
    pub fn requests_for<'a>(
        &'a self,
        user_id: &'a str,
    ) -> impl Iterator<Item = &'a RequestRecord> + 'a {
        self.requests
            .iter()
            .filter(move |record| record.user_id.as_deref() == Some(user_id))
    }

    /// The callback attempts for `user_id`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::Log::default().callbacks_for("u").count(), 0);
    /// ```
    pub fn callbacks_for<'a>(
        &'a self,
        user_id: &'a str,
    ) -> impl Iterator<Item = &'a CallbackRecord> + 'a {
        self.callbacks
            .iter()
            .filter(move |record| record.user_id == user_id)
    }

    /// Whether a callback for `user_id` was answered `OK`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!kyc_sandbox::Log::default().is_delivered("u"));
    /// ```
    #[must_use]
    pub fn is_delivered(&self, user_id: &str) -> bool {
        self.callbacks_for(user_id)
            .any(|record| record.outcome == CallbackOutcome::Delivered)
    }
}

/// Which endpoint a request was for.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::Endpoint;
///
/// assert_eq!(serde_json::to_string(&Endpoint::StatusQuery)?, r#""statusQuery""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Endpoint {
    /// `POST {base}/v1/vexora/kycApplyFor`.
    Apply,
    /// `POST {base}/v1/vexora/kycStatusQuery`.
    StatusQuery,
    /// Any other path or method.
    Other,
}

/// One request and how it was answered.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Position in the log's shared sequence, from 1.
    pub seq: u64,
    /// The sandbox clock when the answer was decided (epoch milliseconds).
    pub at_millis: u64,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The `merchantNo` header, when it named a configured merchant.
    pub merchant_no: Option<String>,
    /// The `userId`, when the body got far enough to carry one.
    pub user_id: Option<String>,
    /// The HTTP status sent; `None` when the connection was dropped on purpose.
    pub http_status: Option<u16>,
    /// The envelope `code` sent (`0000`, `8000`, `S103`, ...), if an envelope was sent.
    pub code: Option<String>,
    /// The `authenticationStatus` sent, on success.
    pub authentication_status: Option<String>,
    /// The scenario fault injected (`fault500`, `slow`, ...), if any.
    pub fault: Option<String>,
}

/// What one callback attempt came to.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::CallbackOutcome;
///
/// let json = serde_json::to_string(&CallbackOutcome::HttpStatus { status: 503 })?;
/// assert_eq!(json, r#"{"kind":"httpStatus","status":503}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CallbackOutcome {
    /// HTTP 200 with the exact body `OK`: delivered, no more attempts.
    Delivered,
    /// An HTTP status other than 200.
    HttpStatus {
        /// The status received.
        status: u16,
    },
    /// HTTP 200, but the body was not exactly `OK`.
    WrongBody,
    /// No complete answer within the callback timeout.
    TimedOut,
    /// No connection, or the connection failed before an answer (for `https://`, also a
    /// certificate the sandbox does not trust).
    Unreachable,
    /// The `callBackUrl` is not an `http://` or `https://` URL the sandbox can reach.
    /// Logged once; never retried.
    Unsupported,
    /// The `lost` scenario: the attempt failed on purpose, nothing was sent.
    Lost,
}

/// One attempt to deliver a callback.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackRecord {
    /// Position in the log's shared sequence, from 1.
    pub seq: u64,
    /// The sandbox clock when the attempt ended (epoch milliseconds).
    pub at_millis: u64,
    /// The merchant whose application it is.
    pub merchant_no: String,
    /// The application's `userId`.
    pub user_id: String,
    /// Where it was POSTed.
    pub url: String,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    /// The `authenticationStatus` the callback carries.
    pub authentication_status: String,
    /// What came of it.
    pub outcome: CallbackOutcome,
    /// The HTTP status of the answer, when there was one.
    pub http_status: Option<u16>,
    /// The first bytes (up to 64) of the answer's body, as printable text, when there was an
    /// answer.
    pub answer_excerpt: Option<String>,
    /// The unscaled delay before the next attempt (the provider's schedule); `None` when
    /// delivered or when the schedule is used up.
    pub next_retry_after_ms: Option<u64>,
}

/// The live log: a bounded queue behind a mutex, plus a version number that waiters watch.
pub(crate) struct LogBook {
    inner: Mutex<Inner>,
    version: watch::Sender<u64>,
    capacity: usize,
}

#[derive(Default)]
struct Inner {
    next_seq: u64,
    requests: VecDeque<RequestRecord>,
    callbacks: VecDeque<CallbackRecord>,
}

impl LogBook {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            version: watch::Sender::new(0),
            capacity,
        }
    }

    pub(crate) fn push_request(&self, mut record: RequestRecord) {
        {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.next_seq += 1;
            record.seq = inner.next_seq;
            if inner.requests.len() >= self.capacity {
                inner.requests.pop_front();
            }
            inner.requests.push_back(record);
        }
        self.version.send_modify(|version| *version += 1);
    }

    pub(crate) fn push_callback(&self, mut record: CallbackRecord) {
        {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.next_seq += 1;
            record.seq = inner.next_seq;
            if inner.callbacks.len() >= self.capacity {
                inner.callbacks.pop_front();
            }
            inner.callbacks.push_back(record);
        }
        self.version.send_modify(|version| *version += 1);
    }

    pub(crate) fn snapshot(&self) -> Log {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Log {
            requests: inner.requests.iter().cloned().collect(),
            callbacks: inner.callbacks.iter().cloned().collect(),
        }
    }

    /// The latest `count` callback attempts, oldest first.
    pub(crate) fn recent_callbacks(&self, count: usize) -> Vec<CallbackRecord> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let skip = inner.callbacks.len().saturating_sub(count);
        inner.callbacks.iter().skip(skip).cloned().collect()
    }

    pub(crate) fn clear(&self) {
        {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            inner.requests.clear();
            inner.callbacks.clear();
        }
        self.version.send_modify(|version| *version += 1);
    }

    /// Waits until `done` holds for a snapshot; checks again after every change.
    pub(crate) async fn wait_until(&self, mut done: impl FnMut(&Log) -> bool) {
        let mut changes = self.version.subscribe();
        loop {
            changes.borrow_and_update();
            if done(&self.snapshot()) {
                return;
            }
            if changes.changed().await.is_err() {
                // The sender lives as long as `self`: unreachable, but never spin.
                return;
            }
        }
    }
}
