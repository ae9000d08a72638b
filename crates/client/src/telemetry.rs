//! What the client and the callback service report through the [`metrics`] facade, and the
//! names they report under.
//!
//! Nothing is recorded until the application installs a `metrics` recorder (a Prometheus or
//! OpenTelemetry exporter, for example); until then every call below is a no-op. Names follow
//! OpenTelemetry's semantic conventions for HTTP clients where one applies; durations are in
//! seconds. Every attribute has few values: no `userId`, URL path or message is ever one.
//!
//! | metric | kind | attributes |
//! | --- | --- | --- |
//! | [`HTTP_CLIENT_REQUEST_DURATION`] (`http.client.request.duration`) | histogram, s, one per attempt | `http.request.method`, `server.address`, `kyc.operation`, `http.response.status_code` (when answered), `error.type` (when failed) |
//! | [`CALL_DURATION`] (`kyc.client.call.duration`) | histogram, s, one per call, retries and backoff included | `kyc.operation`, `server.address`, `error.type` (when failed) |
//! | [`RETRIES`] (`kyc.client.retries`) | counter, one per retry | `kyc.operation`, `error.type` (of the attempt retried) |
//! | [`CALLBACK_OUTCOMES`] (`kyc.callback.outcomes`) | counter, one per callback request | `kyc.outcome`, `error.type` (when refused) |
//!
//! Values:
//!
//! - `kyc.operation`: `apply`, `status`.
//! - `error.type` of a call or attempt: `invalid_request` (nothing sent), `connect`, `timeout`,
//!   `deadline` (the call's total timeout), `transport` (another exchange failure), `decode`
//!   (an answer not in the documented shape), or for a refusal the provider's `code` (such as
//!   `8000`), or the HTTP status (`502`) when the answer had no envelope; `_OTHER` for a code
//!   that is not a short run of letters and digits.
//! - `kyc.outcome`: `verified` (verified, stored, answered `OK`), `duplicate` (verified, already
//!   stored, answered `OK`; see [`Handled`]), `refused` with `error.type`
//!   `method_not_allowed`, `body_too_large`, `body_unreadable`, `malformed` or
//!   `signature_mismatch`, `handler_failed`, `timed_out`. Through the
//!   `VerifiedCallback` extractor (feature `axum`), `verified` counts callbacks handed
//!   to the merchant's handler.
//!
//! The client's `tracing` spans carry the same attributes: `kyc.call` (`kyc.operation`,
//! `kyc.attempts`, `kyc.outcome`, `error.type`) and `kyc.attempt` (`kyc.attempt`,
//! `http.request.method`, `server.address`, `http.response.status_code`, `kyc.code`,
//! `error.type`, `latency_ms`).
//!
//! # Examples
//!
//! ```
//! // Once, at start-up, after installing a recorder: units and descriptions for exporters.
//! kyc_client::telemetry::describe();
//! assert_eq!(kyc_client::telemetry::CALL_DURATION, "kyc.client.call.duration");
//! ```

use std::time::Duration;

use metrics::{Label, SharedString, Unit};

use crate::Handled;
use crate::error::Error;
use crate::types::CallbackError;

/// The duration of one HTTP attempt, in seconds (OpenTelemetry's HTTP client metric).
pub const HTTP_CLIENT_REQUEST_DURATION: &str = "http.client.request.duration";
/// The duration of one call (`apply`, `status`) with its retries and backoff, in seconds.
pub const CALL_DURATION: &str = "kyc.client.call.duration";
/// How many attempts were retried.
pub const RETRIES: &str = "kyc.client.retries";
/// How callback requests ended.
pub const CALLBACK_OUTCOMES: &str = "kyc.callback.outcomes";

/// Registers the units and descriptions of the metrics above with the installed recorder.
///
/// # Examples
///
/// ```
/// kyc_client::telemetry::describe(); // a no-op without a recorder
/// ```
pub fn describe() {
    metrics::describe_histogram!(
        HTTP_CLIENT_REQUEST_DURATION,
        Unit::Seconds,
        "Duration of one HTTP attempt to the KYC provider"
    );
    metrics::describe_histogram!(
        CALL_DURATION,
        Unit::Seconds,
        "Duration of one KYC call, retries and backoff included"
    );
    metrics::describe_counter!(RETRIES, Unit::Count, "KYC attempts that were retried");
    metrics::describe_counter!(
        CALLBACK_OUTCOMES,
        Unit::Count,
        "KYC result callbacks received, by outcome"
    );
}

/// What one attempt or call was about, for its attributes.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) operation: &'static str,
    pub(crate) server_address: SharedString,
}

/// Records one attempt: `status` when the provider answered, `error` when it failed.
pub(crate) fn attempt(
    target: &Target,
    elapsed: Duration,
    status: Option<u16>,
    error: Option<&Error>,
) {
    let mut labels = vec![
        Label::from_static_parts("http.request.method", "POST"),
        Label::new("server.address", target.server_address.clone()),
        Label::from_static_parts("kyc.operation", target.operation),
    ];
    if let Some(status) = status {
        labels.push(Label::new("http.response.status_code", status.to_string()));
    }
    if let Some(error) = error {
        labels.push(Label::new("error.type", error_type(error)));
    }
    metrics::histogram!(HTTP_CLIENT_REQUEST_DURATION, labels).record(elapsed.as_secs_f64());
}

/// Records one call.
pub(crate) fn call(target: &Target, elapsed: Duration, error: Option<&Error>) {
    let mut labels = vec![
        Label::from_static_parts("kyc.operation", target.operation),
        Label::new("server.address", target.server_address.clone()),
    ];
    if let Some(error) = error {
        labels.push(Label::new("error.type", error_type(error)));
    }
    metrics::histogram!(CALL_DURATION, labels).record(elapsed.as_secs_f64());
}

/// Records one retry, caused by `error`.
pub(crate) fn retry(target: &Target, error: &Error) {
    let labels = vec![
        Label::from_static_parts("kyc.operation", target.operation),
        Label::new("error.type", error_type(error)),
    ];
    metrics::counter!(RETRIES, labels).increment(1);
}

/// How a callback request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallbackOutcome {
    Handled(Handled),
    /// Refused before the handler, for this reason (an `error.type` value).
    Refused(&'static str),
    HandlerFailed,
    TimedOut,
}

impl CallbackOutcome {
    pub(crate) fn refused(err: &CallbackError) -> Self {
        Self::Refused(if err.is_signature_mismatch() {
            "signature_mismatch"
        } else {
            "malformed"
        })
    }
}

/// Counts one callback request.
pub(crate) fn callback_outcome(outcome: CallbackOutcome) {
    let (name, reason) = match outcome {
        CallbackOutcome::Handled(Handled::Stored) => ("verified", None),
        CallbackOutcome::Handled(Handled::Duplicate) => ("duplicate", None),
        CallbackOutcome::Refused(reason) => ("refused", Some(reason)),
        CallbackOutcome::HandlerFailed => ("handler_failed", None),
        CallbackOutcome::TimedOut => ("timed_out", None),
    };
    match reason {
        Some(reason) => {
            metrics::counter!(CALLBACK_OUTCOMES, "kyc.outcome" => name, "error.type" => reason)
                .increment(1);
        }
        None => metrics::counter!(CALLBACK_OUTCOMES, "kyc.outcome" => name).increment(1),
    }
}

/// The `error.type` of a failed call or attempt: a fixed word, or the provider's short code.
pub(crate) fn error_type(error: &Error) -> SharedString {
    match error {
        Error::Request(_) => SharedString::const_str("invalid_request"),
        Error::Transport(err) if err.is_deadline() => SharedString::const_str("deadline"),
        Error::Transport(err) if err.is_timeout() => SharedString::const_str("timeout"),
        Error::Transport(err) if err.is_connect() => SharedString::const_str("connect"),
        Error::Transport(_) => SharedString::const_str("transport"),
        Error::Decode(_) => SharedString::const_str("decode"),
        Error::Api(err) => match err.code() {
            Some(code) => {
                let code = code.as_str();
                // The provider's codes are short identifiers; anything else is not trusted to
                // keep the attribute's values few.
                if (1..=16).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    SharedString::from(code.to_owned())
                } else {
                    SharedString::const_str("_OTHER")
                }
            }
            None => SharedString::from(err.http_status().as_u16().to_string()),
        },
    }
}
