//! Criterion benches for the `kyc-*` workspace, and the callgrind instruction counts that CI
//! gates (the `instructions` bench and the `instructions-check` tool); see `benches/README.md`
//! for how to run them and the figures they produced. The benches live in `benches/`; this
//! library holds what several of them share.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// Median seconds per call of each contender, measured in interleaved batches.
///
/// Each round runs every contender once, in turn, for `calls` calls (`run(calls)` makes them),
/// starting with a different contender each round so that none always follows the same one;
/// the median over `rounds` rounds is taken per contender. Interleaving exposes all of them to
/// the same machine load, so their ratios move much less than separate measurements do on a
/// shared, noisy machine.
#[allow(clippy::disallowed_methods)] // a bench measures wall time; no business logic reads it
pub fn interleaved<const N: usize>(
    rounds: usize,
    calls: u32,
    contenders: [&mut dyn FnMut(u32); N],
) -> [f64; N] {
    let mut seconds: [Vec<f64>; N] = std::array::from_fn(|_| Vec::with_capacity(rounds));
    for round in 0..rounds {
        for turn in 0..N {
            let which = (round + turn) % N;
            let start = std::time::Instant::now();
            contenders[which](calls);
            seconds[which].push(start.elapsed().as_secs_f64() / f64::from(calls));
        }
    }
    seconds.map(|mut times| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    })
}

/// The merchant number of the shared test vectors.
pub const MERCHANT: &str = "1027749636";

/// The app secret of the shared test vectors.
pub const SECRET: &str = "TEST_SECRET_DO_NOT_USE";

/// The 2.0 example request's user id.
pub const USER_ID: &str = "abc_100008";

/// The 2.0 example request's callback URL.
pub const CALLBACK_URL: &str = "https://merchant.example.com/api/kyc/callback";

/// The 2.0 example request's name in katakana.
pub const FURIGANA: &str = "テスト014";

const TIMESTAMP: &str = "1774925553256";
const SIGN: &str = "aa3d61235fb4b1f13e44c95b98d3fff1";

/// The KYC 2.0 apply request's fields in the order the provider's curl example lists them,
/// `sign` among them (the signer must skip it).
pub const SIGN_EXAMPLE: [(&str, &str); 5] = [
    ("userId", USER_ID),
    ("callBackUrl", CALLBACK_URL),
    ("usernameFurigana", FURIGANA),
    ("sign", SIGN),
    ("timestamp", TIMESTAMP),
];

/// The KYC 2.0 apply request as a form sends it: the signed fields, then `sign`.
pub const KYC2_FORM: [(&str, &str); 5] = [
    ("userId", USER_ID),
    ("callBackUrl", CALLBACK_URL),
    ("usernameFurigana", FURIGANA),
    ("timestamp", TIMESTAMP),
    ("sign", SIGN),
];

/// The provider's answer to an accepted application, as the bench server sends it.
pub const REPLY: &str = r#"{"msg":"success","code":"0000","timestamp":"1774925553300","success":true,"data":{"userId":"abc_100008","authenticationStatus":"0","message":"accepted"}}"#;

/// Starts an HTTP/1.1 server on `runtime` that reads each request's whole body and answers
/// [`REPLY`]; returns its loopback address.
///
/// Run it on the clients' own single-threaded runtime: a request then costs its CPU work, not
/// a cross-thread wake-up. (On an idle virtual machine a wake-up costs ~150 µs, which would
/// drown every difference between the clients being compared.)
///
/// # Panics
///
/// When no loopback port can be bound.
pub fn start_server(runtime: &Runtime) -> SocketAddr {
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|request: hyper::Request<Incoming>| async move {
                    let body = request.into_body().collect().await;
                    assert!(body.is_ok(), "the bench server reads whole bodies");
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        REPLY.as_bytes(),
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// The ceiling of the `transport` and `client` benches: a body encoded once, replayed over a
/// bare hyper-util client, the answer read whole and nothing more (no signing, no encoding, no
/// decoding): what no client doing the work can beat.
pub struct Ceiling {
    client: Client<HttpConnector, Full<Bytes>>,
    uri: http::Uri,
    content_type: http::HeaderValue,
    body: Bytes,
}

impl Ceiling {
    /// Replays `body`, sent as `content_type` with `merchantNo`, to `uri`.
    #[must_use]
    pub fn new(uri: http::Uri, content_type: http::HeaderValue, body: Bytes) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        Self {
            client: Client::builder(TokioExecutor::new()).build(http),
            uri,
            content_type,
            body,
        }
    }

    /// Sends the body once and returns the answer's body.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or the answer cannot be read.
    pub async fn send(&self) -> Bytes {
        let request = hyper::Request::post(self.uri.clone())
            .header("merchantNo", MERCHANT)
            .header(http::header::CONTENT_TYPE, self.content_type.clone())
            .header(http::header::CONTENT_LENGTH, self.body.len())
            .body(Full::new(self.body.clone()))
            .expect("valid request");
        let response = self.client.request(request).await.expect("sent");
        response
            .into_body()
            .collect()
            .await
            .expect("read")
            .to_bytes()
    }
}
