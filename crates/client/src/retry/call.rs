//! The retry loop every operation goes through: build (stamped now), send, classify, back off,
//! within one deadline for the whole call.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use kyc_transport::{Request, Sender, Transport};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::{Instrument, field};

use super::{RetryPolicy, jitter_unit};
use crate::Clock;
use crate::error::{ApiError, DecodeError, Error, RequestError, RequestKind, TransportError};
use crate::telemetry::{self, Target};
use crate::types::{Response, Timestamp};

/// The operations, as named in traces and metrics (`kyc.operation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    Apply,
    Status,
}

impl Operation {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Apply => "apply",
            Self::Status => "status",
        }
    }
}

/// Where requests go: the built-in transport, called directly, or a caller's [`Sender`].
pub(crate) enum Sending {
    Transport {
        transport: Transport,
        /// The transport's own per-attempt timeout.
        timeout: Duration,
    },
    Custom(Arc<dyn Sender>),
}

/// What a call needs besides its request: where to send, when it is, how often to try and for
/// how long in all.
pub(crate) struct Caller {
    pub(crate) sender: Sending,
    /// The provider's host, as `server.address` in metrics and spans.
    pub(crate) server_address: metrics::SharedString,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) retry: RetryPolicy,
    pub(crate) total_timeout: Duration,
}

/// The time on tokio's monotonic clock, which tests can pause and advance.
///
/// The workspace's one read of `tokio::time::Instant::now` (clippy.toml bans it elsewhere):
/// deadlines and backoff of calls and of polling are measured from here.
pub(crate) fn monotonic_now() -> Instant {
    #[allow(clippy::disallowed_methods)]
    Instant::now()
}

impl Caller {
    /// Runs `operation`: each attempt's request is built by `build` from the clock's current
    /// time, and the call ends on success, on an error that is not retryable, after the
    /// policy's last attempt, or when the next backoff would pass the total deadline.
    pub(crate) async fn call<T, B, F>(&self, operation: Operation, build: B) -> Result<T, Error>
    where
        T: DeserializeOwned,
        B: Fn(Timestamp) -> F,
        F: Future<Output = Result<Request, Error>>,
    {
        let span = tracing::info_span!(
            "kyc.call",
            kyc.operation = operation.name(),
            kyc.attempts = field::Empty,
            kyc.outcome = field::Empty,
            "error.type" = field::Empty,
        );
        let target = Target {
            operation: operation.name(),
            server_address: self.server_address.clone(),
        };
        async move {
            let started = monotonic_now();
            let deadline = started + self.total_timeout;
            let mut attempt: u32 = 0;
            let result = loop {
                attempt += 1;
                let request = match build(self.clock.now()).await {
                    Ok(request) => request,
                    Err(err) => break Err(err),
                };
                let error = match self
                    .attempt(&target, operation, attempt, request, deadline)
                    .await
                {
                    Ok(data) => break Ok(data),
                    Err(err) => err,
                };
                let now = monotonic_now();
                if !error.is_retryable() || attempt >= self.retry.max_attempts() {
                    break Err(error);
                }
                let backoff = self.retry.backoff(attempt - 1, jitter_unit());
                if now + backoff >= deadline {
                    break Err(Error::Transport(TransportError::deadline(
                        self.total_timeout,
                        error.request_may_have_been_sent(),
                    )));
                }
                telemetry::retry(&target, &error);
                tracing::info!(
                    attempt,
                    backoff_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    error = %error,
                    "retrying"
                );
                tokio::time::sleep(backoff).await;
            };
            let elapsed = monotonic_now().saturating_duration_since(started);
            telemetry::call(&target, elapsed, result.as_ref().err());
            let span = tracing::Span::current();
            span.record("kyc.attempts", attempt);
            span.record("kyc.outcome", if result.is_ok() { "ok" } else { "error" });
            if let Err(error) = &result {
                span.record("error.type", telemetry::error_type(error).as_ref());
            }
            result
        }
        .instrument(span)
        .await
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        target: &Target,
        operation: Operation,
        attempt: u32,
        request: Request,
        deadline: Instant,
    ) -> Result<T, Error> {
        let span = tracing::info_span!(
            "kyc.attempt",
            kyc.attempt = attempt,
            http.request.method = "POST",
            server.address = target.server_address.as_ref(),
            http.response.status_code = field::Empty,
            kyc.code = field::Empty,
            "error.type" = field::Empty,
            latency_ms = field::Empty,
        );
        let started = monotonic_now();
        let sending = self.sender.send(request, started, deadline);
        // Without a subscriber that wants the span, entering and leaving it on every poll is
        // pure cost.
        let sent = if span.is_disabled() {
            sending.await
        } else {
            sending.instrument(span.clone()).await
        };
        let latency = monotonic_now().saturating_duration_since(started);
        if !span.is_disabled() {
            span.record(
                "latency_ms",
                u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            );
        }
        let response = match sent {
            None => Err(Error::Transport(TransportError::deadline(
                self.total_timeout,
                true,
            ))),
            Some(Err(err)) => Err(classify_transport(operation, err)),
            Some(Ok(response)) => Ok(response),
        };
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                telemetry::attempt(target, latency, None, Some(&error));
                span.record("error.type", telemetry::error_type(&error).as_ref());
                return Err(error);
            }
        };
        let (status, _headers, body) = response.into_parts();
        span.record("http.response.status_code", status.as_u16());
        let result = decode::<T>(status, &body);
        match &result {
            Err(Error::Api(err)) => {
                if let Some(code) = err.code() {
                    span.record("kyc.code", code.as_str());
                }
            }
            Ok(_) => {
                span.record("kyc.code", "0000");
            }
            Err(_) => {}
        }
        if let Err(error) = &result {
            span.record("error.type", telemetry::error_type(error).as_ref());
        }
        telemetry::attempt(
            target,
            latency,
            Some(status.as_u16()),
            result.as_ref().err(),
        );
        result
    }
}

impl Sending {
    /// Sends `request`, giving up at `deadline`: `None` when the deadline came first.
    async fn send(
        &self,
        request: Request,
        now: Instant,
        deadline: Instant,
    ) -> Option<Result<kyc_transport::Response, kyc_transport::Error>> {
        match self {
            Self::Transport { transport, timeout } => {
                // The transport's own timer enforces the deadline when it is the nearer limit:
                // one timer per attempt, not two.
                let remaining = deadline.saturating_duration_since(now);
                match transport.send(request.with_timeout(remaining)).await {
                    Err(kyc_transport::Error::Timeout(elapsed))
                        if remaining < *timeout
                            && elapsed.phase() == kyc_transport::TimeoutPhase::Response =>
                    {
                        None
                    }
                    other => Some(other),
                }
            }
            Self::Custom(sender) => tokio::time::timeout_at(deadline, sender.send(request))
                .await
                .ok(),
        }
    }
}

/// Decides what a transport failure means for `operation`.
fn classify_transport(operation: Operation, err: kyc_transport::Error) -> Error {
    if matches!(err, kyc_transport::Error::Invalid(_)) {
        return Error::Request(RequestError::new(RequestKind::Transport(err)));
    }
    let retryable = match operation {
        // Only when the provider cannot have acted on the application.
        Operation::Apply => err.is_retry_safe(),
        // A read: any transient failure may be retried; an oversized answer will not shrink.
        Operation::Status => !matches!(err, kyc_transport::Error::BodyTooLarge(_)),
    };
    Error::Transport(TransportError::send(err, retryable))
}

/// Turns an answer into the data of an accepted request, or the error it reports.
fn decode<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, Error> {
    match Response::<T>::from_slice(body) {
        Ok(envelope) => match envelope.into_api_result() {
            Ok(data) if status.is_success() => Ok(data),
            Ok(_) => Err(Error::Api(ApiError::new(status, None))),
            Err(failure) => Err(Error::Api(ApiError::new(status, Some(failure)))),
        },
        Err(_) if !status.is_success() => Err(Error::Api(ApiError::new(status, None))),
        Err(err) => Err(Error::Decode(DecodeError::new(status, body, err))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ApplyData;

    #[test]
    fn decode_keeps_api_layer_and_business_apart() {
        let ok = br#"{"msg":"success","code":"0000","timestamp":"1","success":true,
            "data":{"userId":"u","authenticationStatus":"3","message":"m"}}"#;
        let data: ApplyData = decode(StatusCode::OK, ok).unwrap();
        assert_eq!(data.authentication_status().as_str(), "3");

        let refused = br#"{"msg":"system error","code":"8000","success":false,"data":null}"#;
        let err = decode::<ApplyData>(StatusCode::OK, refused).unwrap_err();
        assert!(matches!(&err, Error::Api(api) if api.code().map(|c| c.as_str()) == Some("8000")));
        assert!(err.is_retryable());

        let html = b"<html>bad gateway</html>";
        let err = decode::<ApplyData>(StatusCode::BAD_GATEWAY, html).unwrap_err();
        assert!(matches!(&err, Error::Api(api) if api.code().is_none()));
        assert!(err.is_retryable());

        let err = decode::<ApplyData>(StatusCode::OK, b"{\"code\":").unwrap_err();
        assert!(matches!(&err, Error::Decode(_)));
        assert!(!err.is_retryable());
    }
}
