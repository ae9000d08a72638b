//! Delivery of the signed result callback, with the provider's retries, over `http://` and
//! `https://`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kyc_sign::SigningKey;
use tokio::runtime::Handle;
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::log::LogBook;
use crate::schedule::Key;
use crate::{CallbackMode, CallbackOutcome, CallbackRecord, Review};

/// The most of a callback answer that is read: `OK` is two bytes.
const MAX_ANSWER_BYTES: usize = 1024;

/// How much of an answer the log keeps (for the dashboard), in bytes.
const EXCERPT_BYTES: usize = 64;

type HttpClient = Client<HttpConnector, Full<Bytes>>;
type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The two clients: plain, and TLS built on the first `https://` callback (reading the
/// system's roots takes a while, and most sandboxes never need them).
struct Clients {
    http: HttpClient,
    https: OnceLock<HttpsClient>,
}

/// Spawns one delivery task per callback.
pub(crate) struct Dispatcher {
    runtime: Handle,
    client: Arc<Clients>,
    config: Arc<Config>,
    log: Arc<LogBook>,
    shutdown: watch::Receiver<bool>,
    /// `late` callbacks waiting for a status query that shows their result.
    late: Arc<Mutex<HashMap<Key, Arc<Notify>>>>,
}

impl Dispatcher {
    pub(crate) fn new(
        runtime: Handle,
        config: Arc<Config>,
        log: Arc<LogBook>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            runtime,
            client: Arc::new(Clients {
                http: Client::builder(TokioExecutor::new())
                    .pool_max_idle_per_host(0)
                    .build(HttpConnector::new()),
                https: OnceLock::new(),
            }),
            config,
            log,
            shutdown,
            late: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Signs the callback for `review`'s final status, dated at its decision (so a resend
    /// carries the very same body), and delivers it in the background as `mode` says: a first
    /// attempt at once, then one retry after each delay of the schedule (scaled), until an
    /// attempt is answered `OK`. Every attempt is logged.
    pub(crate) fn send(&self, review: &Review, key: &SigningKey, mode: CallbackMode) {
        let decided_at = review.decided_at_millis.unwrap_or(review.changed_at_millis);
        let body = Bytes::from(callback_body(review, key, decided_at));
        let late = (mode == CallbackMode::Late).then(|| {
            let notify = Arc::new(Notify::new());
            self.late
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(
                    (review.merchant_no.clone(), review.user_id.clone()),
                    Arc::clone(&notify),
                );
            notify
        });
        let delivery = Delivery {
            client: Arc::clone(&self.client),
            config: Arc::clone(&self.config),
            log: Arc::clone(&self.log),
            merchant_no: review.merchant_no.clone(),
            user_id: review.user_id.clone(),
            url: review.callback_url.clone(),
            status: review.status.as_str().to_owned(),
            body,
        };
        let late_delay = self.config.scaled(self.config.late_callback_after);
        let waiting = Arc::clone(&self.late);
        let key = (review.merchant_no.clone(), review.user_id.clone());
        let mut shutdown = self.shutdown.clone();
        self.runtime.spawn(async move {
            let deliver = async {
                match mode {
                    CallbackMode::Lost => delivery.run(true).await,
                    CallbackMode::Twice => {
                        delivery.run(false).await;
                        delivery.run(false).await;
                    }
                    CallbackMode::Late => {
                        if let Some(notify) = late {
                            let _ = tokio::time::timeout(late_delay, notify.notified()).await;
                            // Not queried in time: forget the waiter (unless a newer one took
                            // its place).
                            let mut waiting =
                                waiting.lock().unwrap_or_else(PoisonError::into_inner);
                            if waiting.get(&key).is_some_and(|n| Arc::ptr_eq(n, &notify)) {
                                waiting.remove(&key);
                            }
                        }
                        delivery.run(false).await;
                    }
                    CallbackMode::Normal => delivery.run(false).await,
                }
            };
            tokio::select! {
                () = deliver => {}
                _ = shutdown.wait_for(|stopped| *stopped) => {}
            }
        });
    }

    /// A status query showed `user_id`'s final status: its `late` callback may go now.
    pub(crate) fn status_shown(&self, merchant_no: &str, user_id: &str) {
        let mut late = self.late.lock().unwrap_or_else(PoisonError::into_inner);
        if late.is_empty() {
            return;
        }
        if let Some(notify) = late.remove(&(merchant_no.to_owned(), user_id.to_owned())) {
            // Stores a permit when the delivery task is not waiting yet.
            notify.notify_one();
        }
    }
}

/// The callback JSON: `userId`, `authenticationStatus`, `failReason` (rejections only),
/// `timestamp` (a string of milliseconds) and `sign` over the others.
fn callback_body(review: &Review, key: &SigningKey, timestamp: u64) -> Vec<u8> {
    let user_id = kyc_proto::UserId::new(review.user_id.as_str());
    match user_id {
        Ok(user_id) => kyc_proto::Callback::new(
            user_id,
            review.status.clone(),
            review.fail_reason.clone(),
            kyc_proto::Timestamp::from_millis(timestamp),
        )
        .to_signed_json(key),
        // Stored user ids were validated on the way in; a custom store could still hand back
        // anything, and the callback is then skipped rather than sent unsigned.
        Err(_) => Vec::new(),
    }
}

struct Delivery {
    client: Arc<Clients>,
    config: Arc<Config>,
    log: Arc<LogBook>,
    merchant_no: String,
    user_id: String,
    url: String,
    status: String,
    body: Bytes,
}

/// What one attempt came to, with what the log shows of the answer.
struct Attempt {
    outcome: CallbackOutcome,
    http_status: Option<u16>,
    excerpt: Option<String>,
}

impl Attempt {
    fn without_answer(outcome: CallbackOutcome) -> Self {
        Self {
            outcome,
            http_status: None,
            excerpt: None,
        }
    }
}

impl Delivery {
    /// One delivery: attempts until `OK` or the end of the schedule. With `lost`, every
    /// attempt fails without a connection.
    async fn run(&self, lost: bool) {
        if self.body.is_empty() {
            return;
        }
        let uri = self.url.parse::<Uri>().ok().filter(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
        });
        let total = self.config.callback_delays.len() + 1;
        for attempt in 1..=total {
            let result = match &uri {
                _ if lost => Attempt::without_answer(CallbackOutcome::Lost),
                Some(uri) => self.attempt(uri).await,
                None => Attempt::without_answer(CallbackOutcome::Unsupported),
            };
            let give_up = matches!(
                result.outcome,
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
                outcome = ?result.outcome,
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
                outcome: result.outcome,
                http_status: result.http_status,
                answer_excerpt: result.excerpt,
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
    async fn attempt(&self, uri: &Uri) -> Attempt {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(self.body.clone()));
        let Ok(request) = request else {
            return Attempt::without_answer(CallbackOutcome::Unsupported);
        };
        let exchange = async {
            let response = if uri.scheme_str() == Some("https") {
                let https = &self.client.https;
                let client = match https.get() {
                    Some(client) => client,
                    None => {
                        let built = https_client(&self.config);
                        https.get_or_init(|| built)
                    }
                };
                client.request(request).await
            } else {
                self.client.http.request(request).await
            };
            let Ok(response) = response else {
                return Attempt::without_answer(CallbackOutcome::Unreachable);
            };
            let status = response.status();
            let (body, complete) = read_prefix(response.into_body(), MAX_ANSWER_BYTES).await;
            let excerpt = excerpt(&body);
            let outcome = if status != StatusCode::OK {
                CallbackOutcome::HttpStatus {
                    status: status.as_u16(),
                }
            } else if complete && body == kyc_proto::CALLBACK_ACK.as_bytes() {
                CallbackOutcome::Delivered
            } else {
                CallbackOutcome::WrongBody
            };
            Attempt {
                outcome,
                http_status: Some(status.as_u16()),
                excerpt: Some(excerpt),
            }
        };
        tokio::time::timeout(self.config.callback_timeout, exchange)
            .await
            .unwrap_or_else(|_| Attempt::without_answer(CallbackOutcome::TimedOut))
    }
}

/// Reads at most `max` bytes of `body`; whether the body ended within them.
async fn read_prefix(mut body: hyper::body::Incoming, max: usize) -> (Vec<u8>, bool) {
    let mut read = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return (read, false);
        };
        if let Some(data) = frame.data_ref() {
            let room = max.saturating_sub(read.len());
            if data.len() > room {
                read.extend_from_slice(&data[..room]);
                return (read, false);
            }
            read.extend_from_slice(data);
        }
    }
    (read, true)
}

/// The first bytes of an answer as printable text: control characters become `\u{fffd}`.
fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_BYTES)];
    String::from_utf8_lossy(head)
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// A fresh connection per attempt: a retry must not reuse a connection the receiver has given
/// up on, and nothing stays open to a test's receiver after delivery.
fn https_client(config: &Config) -> HttpsClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config.callback_tls.client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt(b"OK"), "OK");
        assert_eq!(excerpt(b"a\r\nb"), "a\u{fffd}\u{fffd}b");
        assert_eq!(excerpt(&[b'x'; 200]).len(), EXCERPT_BYTES);
        assert_eq!(excerpt(&[0xff, b'k']), "\u{fffd}k");
    }
}
