//! Delivery of the signed result callback, with the provider's retries.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kyc_sign::SigningKey;
use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::config::Config;
use crate::log::LogBook;
use crate::{CallbackOutcome, CallbackRecord, Review};

/// The most of a callback answer that is read: `OK` is two bytes.
const MAX_ANSWER_BYTES: usize = 1024;

/// Spawns one delivery task per decided review.
pub(crate) struct Dispatcher {
    runtime: Handle,
    client: Client<HttpConnector, Full<Bytes>>,
    config: Arc<Config>,
    log: Arc<LogBook>,
    shutdown: watch::Receiver<bool>,
}

impl Dispatcher {
    pub(crate) fn new(
        runtime: Handle,
        config: Arc<Config>,
        log: Arc<LogBook>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        // A fresh connection per attempt: a retry must not reuse a connection the receiver
        // has given up on, and nothing stays open to a test's receiver after delivery.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(HttpConnector::new());
        Self {
            runtime,
            client,
            config,
            log,
            shutdown,
        }
    }

    /// Signs the callback for `review`'s final status now, and delivers it in the
    /// background: a first attempt at once, then one retry after each delay of the schedule
    /// (scaled), until an attempt is answered `OK`. Every attempt is logged.
    pub(crate) fn send(&self, review: &Review, key: &SigningKey, now: u64) {
        let body = Bytes::from(callback_body(review, key, now));
        let delivery = Delivery {
            client: self.client.clone(),
            config: Arc::clone(&self.config),
            log: Arc::clone(&self.log),
            merchant_no: review.merchant_no.clone(),
            user_id: review.user_id.clone(),
            url: review.callback_url.clone(),
            status: review.status.as_str().to_owned(),
            body,
        };
        let mut shutdown = self.shutdown.clone();
        self.runtime.spawn(async move {
            tokio::select! {
                () = delivery.run() => {}
                _ = shutdown.wait_for(|stopped| *stopped) => {}
            }
        });
    }
}

/// The callback JSON: `userId`, `authenticationStatus`, `failReason` (rejections only),
/// `timestamp` (a string of milliseconds) and `sign` over the others.
fn callback_body(review: &Review, key: &SigningKey, now: u64) -> Vec<u8> {
    let user_id = kyc_proto::UserId::new(review.user_id.as_str());
    match user_id {
        Ok(user_id) => kyc_proto::Callback::new(
            user_id,
            review.status.clone(),
            review.fail_reason.clone(),
            kyc_proto::Timestamp::from_millis(now),
        )
        .to_signed_json(key),
        // Stored user ids were validated on the way in; a custom store could still hand back
        // anything, and the callback is then skipped rather than sent unsigned.
        Err(_) => Vec::new(),
    }
}

struct Delivery {
    client: Client<HttpConnector, Full<Bytes>>,
    config: Arc<Config>,
    log: Arc<LogBook>,
    merchant_no: String,
    user_id: String,
    url: String,
    status: String,
    body: Bytes,
}

impl Delivery {
    async fn run(self) {
        if self.body.is_empty() {
            return;
        }
        let uri = self
            .url
            .parse::<Uri>()
            .ok()
            .filter(|uri| uri.scheme_str() == Some("http") && uri.host().is_some());
        let total = self.config.callback_delays.len() + 1;
        for attempt in 1..=total {
            let outcome = match &uri {
                Some(uri) => self.attempt(uri).await,
                None => CallbackOutcome::Unsupported,
            };
            let give_up = matches!(
                outcome,
                CallbackOutcome::Delivered | CallbackOutcome::Unsupported
            );
            let next = if give_up {
                None
            } else {
                self.config.callback_delays.get(attempt - 1).copied()
            };
            tracing::debug!(
                merchant_no = %self.merchant_no,
                user_id = %self.user_id,
                attempt,
                outcome = ?outcome,
                "callback attempt"
            );
            self.log.push_callback(CallbackRecord {
                seq: 0,
                at_millis: self.config.clock.now().as_millis(),
                merchant_no: self.merchant_no.clone(),
                user_id: self.user_id.clone(),
                url: self.url.clone(),
                attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
                authentication_status: self.status.clone(),
                outcome,
                next_retry_after_ms: next
                    .map(|delay| u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)),
            });
            let Some(delay) = next else {
                return;
            };
            tokio::time::sleep(self.config.scaled(delay)).await;
        }
    }

    /// One POST; `OK` with HTTP 200 (exact body, case-sensitive) is the only success.
    async fn attempt(&self, uri: &Uri) -> CallbackOutcome {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(self.body.clone()));
        let Ok(request) = request else {
            return CallbackOutcome::Unsupported;
        };
        let exchange = async {
            let Ok(response) = self.client.request(request).await else {
                return CallbackOutcome::Unreachable;
            };
            let status = response.status();
            if status != StatusCode::OK {
                return CallbackOutcome::HttpStatus {
                    status: status.as_u16(),
                };
            }
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes);
            match body {
                Ok(body) if body == kyc_proto::CALLBACK_ACK.as_bytes() => {
                    CallbackOutcome::Delivered
                }
                Ok(_) | Err(_) => CallbackOutcome::WrongBody,
            }
        };
        tokio::time::timeout(self.config.callback_timeout, exchange)
            .await
            .unwrap_or(CallbackOutcome::TimedOut)
    }
}
