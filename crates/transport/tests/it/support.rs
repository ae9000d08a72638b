//! In-test servers on `127.0.0.1:0`: each test binds its own port and owns its tasks.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use kyc_transport::{Proxy, Transport, TransportBuilder};
use tokio::net::TcpListener;

/// What the echo server saw, returned in response headers (the body is echoed back).
pub(crate) const SEEN_LENGTH: &str = "x-seen-content-length";
pub(crate) const SEEN_CHUNKED: &str = "x-seen-transfer-encoding";
pub(crate) const SEEN_TYPE: &str = "x-seen-content-type";
pub(crate) const SEEN_BODY_LEN: &str = "x-seen-body-length";
pub(crate) const SEEN_VERSION: &str = "x-seen-version";
pub(crate) const SEEN_TARGET: &str = "x-seen-target";

/// A builder for tests: no proxy from the environment, short timeouts.
pub(crate) fn builder() -> TransportBuilder {
    Transport::builder()
        .proxy(Proxy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(20))
}

/// Serves `handler` over HTTP/1.1 and HTTP/2 (prior knowledge) on a fresh loopback port.
pub(crate) async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(hyper::Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = hyper::Response<Full<Bytes>>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let handler = Arc::clone(&handler);
                    async move { Ok::<_, Infallible>(handler(request).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Reads the request and describes it: the headers say what framing it had, the body echoes.
pub(crate) async fn echo(request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.expect("request body").to_bytes();
    let header = |name: http::header::HeaderName| {
        parts
            .headers
            .get(name)
            .map_or_else(|| "-".to_owned(), |v| v.to_str().expect("ASCII").to_owned())
    };
    hyper::Response::builder()
        .header(SEEN_LENGTH, header(http::header::CONTENT_LENGTH))
        .header(SEEN_CHUNKED, header(http::header::TRANSFER_ENCODING))
        .header(SEEN_TYPE, header(http::header::CONTENT_TYPE))
        .header(SEEN_BODY_LEN, body.len().to_string())
        .header(SEEN_VERSION, format!("{:?}", parts.version))
        .header(SEEN_TARGET, parts.uri.to_string())
        .body(Full::new(body))
        .expect("valid response")
}

/// Like [`echo`], but answers with the body length only (for bodies larger than the cap).
pub(crate) async fn count(request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, mut body) = request.into_parts();
    let mut total = 0_u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("request body").into_data() {
            total += data.len() as u64;
        }
    }
    let length = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .map_or("-", |v| v.to_str().expect("ASCII"))
        .to_owned();
    hyper::Response::builder()
        .header(SEEN_LENGTH, length)
        .header(
            SEEN_CHUNKED,
            parts
                .headers
                .get(http::header::TRANSFER_ENCODING)
                .map_or("-", |v| v.to_str().expect("ASCII")),
        )
        .body(Full::new(Bytes::from(total.to_string())))
        .expect("valid response")
}

/// Parses a multipart body with multer, using the boundary from its content type.
pub(crate) async fn parse_form(
    content_type: &str,
    body: Bytes,
) -> Vec<(String, Option<String>, Bytes)> {
    let boundary = multer::parse_boundary(content_type).expect("a multipart content type");
    let stream = futures_util::stream::iter([Ok::<_, Infallible>(body)]);
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    while let Some(field) = multipart.next_field().await.expect("multer parses") {
        let name = field.name().expect("named").to_owned();
        let filename = field.file_name().map(str::to_owned);
        out.push((name, filename, field.bytes().await.expect("readable")));
    }
    out
}

pub(crate) fn header<'a>(response: &'a kyc_transport::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("<missing>")
}

/// Runs `test` (a path such as `proxy::env_proxy_child`) alone in a child process of this test
/// binary, with `set` added to and `remove` taken from its environment, and fails unless it
/// ran and passed. For checks of what a process reads from its environment, which a test
/// cannot change for itself without touching every other test in the process. Waited for on
/// the blocking pool, so the caller's runtime keeps serving the child.
pub(crate) async fn run_child(test: &str, set: &[(&str, &std::ffi::OsStr)], remove: &[&str]) {
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command.args(["--exact", test, "--nocapture"]);
    for (name, value) in set {
        command.env(name, value);
    }
    for name in remove {
        command.env_remove(name);
    }
    let child = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joins")
        .expect("the child test runs");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run:\n{stdout}"
    );
}
