//! The client side of the tests, written by hand so that nothing of the workspace's own
//! client or encoder is involved.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kyc_sandbox::{FixedClock, Running, Sandbox, SandboxBuilder};
use kyc_sign::{Canonical, Settings, SigningKey};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

pub(crate) const MERCHANT: &str = "1027749636";
pub(crate) const SECRET: &str = "TEST_SECRET_DO_NOT_USE";
pub(crate) const OTHER_MERCHANT: &str = "2000000001";
pub(crate) const OTHER_SECRET: &str = "OTHER_TEST_SECRET";
/// The provider's example timestamp; every test clock starts here.
pub(crate) const NOW: u64 = 1_774_925_553_256;
pub(crate) const BOUNDARY: &str = "----kycsandboxtestboundary7MA4YWxkTrZu0gW";
pub(crate) const FURIGANA: &str = "テスト014";

/// A builder with both merchants, the provider's example clock and fast callback retries.
pub(crate) fn builder(clock: &FixedClock) -> SandboxBuilder {
    Sandbox::builder(clock.clone())
        .merchant(MERCHANT, SECRET)
        .merchant(OTHER_MERCHANT, OTHER_SECRET)
        .review_schedule(Duration::from_secs(1), Duration::from_secs(3))
        .time_scale(0.001)
        .review_tick(Duration::from_secs(3600)) // tests move reviews with `tick()`
}

pub(crate) async fn start() -> (Running, FixedClock) {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock)).await;
    (running, clock)
}

/// Builds `builder` and starts it on a loopback port of its own.
pub(crate) async fn run(builder: SandboxBuilder) -> Running {
    builder.build().unwrap().start("127.0.0.1:0").await.unwrap()
}

/// The moment a test starts timing the server on tokio's clock, for bounds on how long a real
/// socket exchange took; the tests' one read of it (see clippy.toml).
pub(crate) fn stopwatch() -> tokio::time::Instant {
    #[allow(clippy::disallowed_methods)]
    tokio::time::Instant::now()
}

pub(crate) fn sign(fields: &[(String, String)], secret: &str) -> String {
    let key = SigningKey::new(secret).unwrap();
    let settings = Settings::default();
    let canonical = Canonical::new(fields, &settings).unwrap();
    key.sign(&canonical).to_string()
}

/// The 2.0 form's fields for `user_id`, signed with `secret`, `sign` last.
pub(crate) fn apply_fields(
    user_id: &str,
    callback_url: &str,
    secret: &str,
) -> Vec<(String, String)> {
    signed(
        &[
            ("userId", user_id),
            ("callBackUrl", callback_url),
            ("usernameFurigana", FURIGANA),
            ("timestamp", &NOW.to_string()),
        ],
        secret,
    )
}

/// `fields` plus a `sign` over them.
pub(crate) fn signed(fields: &[(&str, &str)], secret: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = fields
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    let signature = sign(&fields, secret);
    fields.push(("sign".into(), signature));
    fields
}

/// `multipart/form-data` bytes, written out by hand.
pub(crate) fn multipart(fields: &[(String, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

pub(crate) fn status_json(user_id: &str, secret: &str) -> Vec<u8> {
    let fields = signed(
        &[("timestamp", &NOW.to_string()), ("userId", user_id)],
        secret,
    );
    let object: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(n, v)| (n, Value::String(v)))
        .collect();
    serde_json::to_vec(&object).unwrap()
}

/// An answer: status, body, and the body as JSON when it is JSON.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub(crate) fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts the documented failure envelope with `code` and HTTP `status`.
    pub(crate) fn assert_refused(&self, code: &str, status: u16) {
        let json = self.json();
        assert_eq!(json["code"], code, "{json}");
        assert_eq!(self.status.as_u16(), status, "{json}");
        assert_eq!(json["success"], false);
        assert!(json["data"].is_null());
        assert!(json.get("data").is_some(), "data must be present as null");
        assert!(json["msg"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            json["timestamp"]
                .as_str()
                .is_some_and(|t| t.parse::<u64>().is_ok())
        );
    }
}

/// One request on a fresh HTTP/1.1 connection.
pub(crate) async fn send(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<Answer, hyper::Error> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Answer { status, body })
}

pub(crate) fn request(
    running: &Running,
    url: &str,
    merchant: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::post(url).header("host", running.local_addr().to_string());
    if let Some(merchant) = merchant {
        builder = builder.header("merchantNo", merchant);
    }
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Full::new(Bytes::from(body))).unwrap()
}

pub(crate) async fn apply_raw(
    running: &Running,
    merchant: &str,
    fields: &[(String, String)],
) -> Answer {
    let request = request(
        running,
        &running.apply_url(),
        Some(merchant),
        Some(&multipart_type()),
        multipart(fields),
    );
    send(running.local_addr(), request).await.unwrap()
}

pub(crate) async fn apply(running: &Running, user_id: &str, callback_url: &str) -> Answer {
    apply_raw(
        running,
        MERCHANT,
        &apply_fields(user_id, callback_url, SECRET),
    )
    .await
}

pub(crate) async fn status(running: &Running, user_id: &str) -> Answer {
    let request = request(
        running,
        &running.status_url(),
        Some(MERCHANT),
        Some("application/json"),
        status_json(user_id, SECRET),
    );
    send(running.local_addr(), request).await.unwrap()
}

/// Writes `bytes` on a raw connection, then reads until the server closes it (or `limit`).
pub(crate) async fn raw(addr: SocketAddr, bytes: &[u8], limit: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    answer
}

/// The HTTP status of a raw answer (`None` when there is none).
pub(crate) fn raw_status(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    let line = text.lines().next()?;
    line.split(' ').nth(1)?.parse().ok()
}

/// A callback receiver: answers each POST with the next scripted `(status, body)` (the last
/// one repeats), and sends every body it receives down a channel.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) bodies: mpsc::UnboundedReceiver<Bytes>,
    pub(crate) hits: Arc<AtomicUsize>,
}

pub(crate) async fn receiver(script: Vec<(u16, &'static str)>) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/kyc/callback", listener.local_addr().unwrap());
    let (tx, bodies) = mpsc::unbounded_channel();
    let hits = Arc::new(AtomicUsize::new(0));
    let script = Arc::new(script);
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            let script = Arc::clone(&script);
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let tx = tx.clone();
                    let script = Arc::clone(&script);
                    let counter = Arc::clone(&counter);
                    async move {
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        let (status, text) = script[n.min(script.len() - 1)];
                        let _ = tx.send(body);
                        let mut response = hyper::Response::new(Full::new(Bytes::from(text)));
                        *response.status_mut() = StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Receiver { url, bodies, hits }
}

/// Waits (bounded) for the log to satisfy `done`.
pub(crate) async fn wait(running: &Running, done: impl FnMut(&kyc_sandbox::Log) -> bool) {
    tokio::time::timeout(Duration::from_secs(20), running.wait_until(done))
        .await
        .expect("the log reached the expected state in time");
}
