//! A scripted provider: each request gets the next scripted answer, and is recorded.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kyc_client::{Client, ClientBuilder, FixedClock, RetryPolicy};
use tokio::net::TcpListener;

pub(crate) const SECRET: &str = "TEST_SECRET_DO_NOT_USE";
pub(crate) const MERCHANT: &str = "1027749636";
/// 2026-03-31, the 2.0 page's example timestamp.
pub(crate) const NOW: u64 = 1_774_925_553_256;

/// What the scripted provider does with one request.
#[derive(Clone)]
pub(crate) enum Answer {
    /// Answer with this status and body.
    Reply(u16, &'static str),
    /// Close the connection without answering.
    Drop,
    /// Never answer (until the client gives up).
    Stall,
}

pub(crate) const ACCEPTED: &str = r#"{"msg":"success","code":"0000","timestamp":"1774925553300","success":true,"data":{"userId":"abc_100008","authenticationStatus":"0","message":"submitted"}}"#;
pub(crate) const STATUS_APPROVED: &str = r#"{"msg":"success","code":"0000","timestamp":1774925553300,"success":"true","data":{"userId":"abc_100008","authenticationStatus":"2","message":"approved"}}"#;
pub(crate) const SYSTEM_ERROR: &str = r#"{"msg":"system error","code":"8000","timestamp":"1774925553300","success":false,"data":null}"#;

/// One received request: its headers and body.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

pub(crate) struct Provider {
    pub(crate) base_url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Provider {
    /// Starts a provider answering with `script` in order, repeating the last answer.
    pub(crate) async fn start(script: Vec<Answer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback bind");
        let base_url = format!("http://{}/japan", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log);
                let script = script.clone();
                let hang_up = Arc::new(tokio::sync::Notify::new());
                let hang_up_here = Arc::clone(&hang_up);
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request: http::Request<Incoming>| {
                            let log = Arc::clone(&log);
                            let script = script.clone();
                            let hang_up = Arc::clone(&hang_up);
                            async move {
                                let (parts, body) = request.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let index = {
                                    let mut log = log.lock().unwrap();
                                    log.push(Received {
                                        headers: parts.headers,
                                        body,
                                    });
                                    log.len() - 1
                                };
                                match script[index.min(script.len() - 1)].clone() {
                                    Answer::Reply(status, body) => Ok::<_, Infallible>(
                                        http::Response::builder()
                                            .status(status)
                                            .header("content-type", "application/json")
                                            .body(Full::new(Bytes::from_static(body.as_bytes())))
                                            .unwrap(),
                                    ),
                                    Answer::Drop => {
                                        // The connection task drops the connection unanswered.
                                        hang_up.notify_one();
                                        std::future::pending::<()>().await;
                                        unreachable!()
                                    }
                                    Answer::Stall => {
                                        std::future::pending::<()>().await;
                                        unreachable!()
                                    }
                                }
                            }
                        });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    // A `Drop` answer ends the connection at once; a `Stall` keeps it open.
                    tokio::select! {
                        _ = tokio::time::timeout(Duration::from_secs(30), connection) => {}
                        () = hang_up_here.notified() => {}
                    }
                });
            }
        });
        Self { base_url, received }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// A client for this provider with fast retries and short timeouts.
    pub(crate) fn client(&self, attempts: u32) -> Client {
        impatient(&self.base_url, attempts)
            .build()
            .expect("valid configuration")
    }
}

pub(crate) fn application() -> kyc_client::types::Application {
    use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
    Application::new(
        UserId::new("abc_100008").unwrap(),
        CallbackUrl::new("https://merchant.example.com/api/kyc/callback").unwrap(),
        Furigana::new("テスト014").unwrap(),
    )
}

/// A provider that answers every connection with `response` written raw (then closes): for
/// answers no HTTP library would produce, such as a response cut short.
pub(crate) async fn raw_provider(response: &'static [u8]) -> (String, Arc<Mutex<usize>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback bind");
    let base_url = format!("http://{}/japan", listener.local_addr().unwrap());
    let count = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            *counter.lock().unwrap() += 1;
            tokio::spawn(async move {
                // Read the request head and as much body as arrives, then answer.
                let mut buf = vec![0; 64 * 1024];
                let mut seen = Vec::new();
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if request_complete(&seen) {
                        break;
                    }
                }
                let _ = stream.write_all(response).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (base_url, count)
}

/// Whether `bytes` hold a whole request with a `Content-Length` body.
fn request_complete(bytes: &[u8]) -> bool {
    let Some(head_end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    bytes.len() >= head_end + 4 + length
}

/// A client for `base_url` with fast retries, short timeouts and a 4 KiB answer cap.
/// POSTs `body` as JSON to `url` over the transport, as the provider posts a callback.
pub(crate) async fn post(url: &http::Uri, body: Vec<u8>) -> (http::StatusCode, Bytes) {
    let transport = kyc_transport::Transport::builder().build().unwrap();
    let response = transport
        .post_json(url, http::HeaderMap::new(), body.into())
        .await
        .unwrap();
    let (status, _, body) = response.into_parts();
    (status, body)
}

pub(crate) fn client_for(base_url: &str, attempts: u32) -> Client {
    impatient(base_url, attempts)
        .max_response_body(4096)
        .build()
        .expect("valid configuration")
}

/// A builder for `base_url` with the test merchant, the example clock, fast retries and
/// short timeouts.
fn impatient(base_url: &str, attempts: u32) -> ClientBuilder {
    Client::builder()
        .environment(kyc_client::Environment::custom(base_url).unwrap())
        .merchant_no(MERCHANT)
        .app_secret(SECRET)
        .clock(Arc::new(FixedClock::new(NOW)))
        .timeout(Duration::from_millis(300))
        .total_timeout(Duration::from_secs(10))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(attempts)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
}
