//! Abuse and security of the callback receiver and the client: slow-loris connections,
//! oversized and deeply nested bodies, non-UTF-8 bytes, header and multipart injection, forged
//! and reshaped signatures, and secrets or personal data leaking into logs, errors or `Debug`.
//!
//! Every test owns its receiver or sandbox on `127.0.0.1:0`. Waits are bounded by generous
//! timeouts; nothing asserts how long something took.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kyc_client::types::{
    Application, AuthenticationStatus, Callback, CallbackUrl, FilePart, FileSource, Furigana,
    Timestamp, UserId,
};
use kyc_client::{CallbackService, Client, Environment, FixedClock, serve_callbacks};
use kyc_sandbox::Sandbox;
use kyc_sign::{Canonical, Settings, SigningKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use kyc_test_support::callbacks::{TIMESTAMP, reshaped, sign_of, signed};
use kyc_test_support::loris::{
    BOUND, http2_opening, stall, stall_http1, status_and_body as parse_answer,
};
use kyc_test_support::{assert_none_leaked, trace::Capture};

use crate::support::{MERCHANT, NOW, SECRET};

/// The provider's callback for `user`, a rejection with a reason, signed with `secret`.
fn callback_json(user: &str, secret: &str) -> Vec<u8> {
    signed(
        user,
        AuthenticationStatus::Rejected,
        Some("The file and type do not match"),
        secret,
    )
}

/// A running `serve_callbacks`: its address and every callback its handler accepted.
struct Receiver {
    addr: SocketAddr,
    accepted: Arc<Mutex<Vec<Callback>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Receiver {
    async fn start(
        configure: impl FnOnce(
            CallbackService<Box<dyn Fn(Callback) -> Handled + Send + Sync>>,
        )
            -> CallbackService<Box<dyn Fn(Callback) -> Handled + Send + Sync>>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&accepted);
        let handler: Box<dyn Fn(Callback) -> Handled + Send + Sync> =
            Box::new(move |callback: Callback| {
                store.lock().unwrap().push(callback);
                Box::pin(async { Ok(()) })
            });
        let service = configure(CallbackService::with_key(
            SigningKey::new(SECRET).unwrap(),
            handler,
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let server = tokio::spawn(serve_callbacks(listener, service, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            accepted,
            stop: Some(stop),
            server,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(BOUND, self.server)
            .await
            .expect("the receiver stops")
            .unwrap()
            .unwrap();
    }
}

type Handled = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

fn impatient(
    service: CallbackService<Box<dyn Fn(Callback) -> Handled + Send + Sync>>,
) -> CallbackService<Box<dyn Fn(Callback) -> Handled + Send + Sync>> {
    service
        .header_read_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_millis(300))
}

/// POSTs `body` on a fresh connection, raw; returns the status and the body of the answer.
async fn post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut bytes = format!(
        "POST /kyc/callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    let answer = exchange(addr, &bytes).await;
    parse_answer(&answer)
}

async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let bytes = bytes.to_vec();
    // Write and read at once: the receiver may answer before it has read everything.
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&bytes).await;
        write
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(BOUND, read.read_to_end(&mut answer)).await;
    drop(writer.await);
    answer
}

#[tokio::test]
async fn slow_loris_connections_are_cut_while_others_are_served() {
    let receiver = Receiver::start(impatient).await;
    let addr = receiver.addr;
    let partial_head = b"POST /kyc/callback HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let body_head =
        b"POST /kyc/callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n";
    // Four heads (nothing, half a preface, half a head, a head that never ends), then a
    // 300-byte body stalled and one trickled. Regression: the first two were held forever
    // (protocol detection had no deadline).
    let clients = stall_http1(addr, partial_head, b'x', body_head);
    // While all six hold their connections, the provider's callback is served.
    let (status, body) = post(addr, &callback_json("during-loris", SECRET)).await;
    assert_eq!((status, body.as_str()), (200, "OK"));
    let mut cuts = Vec::new();
    for client in clients {
        cuts.push(client.await.unwrap());
    }
    for (i, cut) in cuts.iter().enumerate() {
        assert!(cut.closed, "client {i} was never cut off");
        assert_ne!(parse_answer(&cut.answer).1, "OK", "client {i}");
    }
    for cut in &cuts[..4] {
        let (status, _) = parse_answer(&cut.answer);
        assert!(cut.answer.is_empty() || status == 408, "HTTP {status}");
    }
    assert_eq!(parse_answer(&cuts[4].answer).0, 408);
    if !cuts[5].answer.is_empty() {
        assert_eq!(parse_answer(&cuts[5].answer).0, 408);
    }
    assert_eq!(
        receiver.accepted(),
        1,
        "only the honest callback was handled"
    );
    receiver.stop().await;
}

#[tokio::test]
async fn slow_loris_over_http2_is_cut() {
    let receiver = Receiver::start(impatient).await;
    // The HTTP/2 preface and an empty SETTINGS frame...
    let mut opening = http2_opening();
    let quiet = opening.clone();
    // ...then a HEADERS frame announcing a 100-byte block, trickled one byte every 50 ms.
    opening.extend_from_slice(&[0, 0, 100, 0x1, 0x4, 0, 0, 0, 1]);
    let clients = vec![
        tokio::spawn(stall(receiver.addr, quiet, None)),
        tokio::spawn(stall(receiver.addr, opening, Some(0x82))),
    ];
    let (status, body) = post(receiver.addr, &callback_json("during-h2-loris", SECRET)).await;
    assert_eq!((status, body.as_str()), (200, "OK"));
    for (i, client) in clients.into_iter().enumerate() {
        let cut = client.await.unwrap();
        assert!(cut.closed, "HTTP/2 client {i} was never cut off");
    }
    assert_eq!(
        receiver.accepted(),
        1,
        "only the honest callback was handled"
    );
    receiver.stop().await;
}

#[tokio::test]
async fn a_quiet_keep_alive_connection_is_closed() {
    let receiver = Receiver::start(impatient).await;
    let body = callback_json("keep-alive", SECRET);
    let mut opening = format!(
        "POST /kyc/callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    opening.extend_from_slice(&body);
    let cut = stall(receiver.addr, opening, None).await;
    assert!(cut.closed, "an idle keep-alive connection was held open");
    assert_eq!(parse_answer(&cut.answer), (200, "OK".to_owned()));
    receiver.stop().await;
}

#[test]
fn timeouts_default_to_the_documented_values() {
    let service =
        CallbackService::with_key(SigningKey::new(SECRET).unwrap(), |_: Callback| async {
            Ok::<(), String>(())
        });
    let debug = format!("{service:?}");
    assert!(debug.contains("header_read_timeout: 10s"), "{debug}");
    assert!(debug.contains("request_timeout: 8s"), "{debug}");
    assert!(!debug.contains(SECRET));
}

fn nested(n: usize) -> Vec<u8> {
    let mut body = b"{\"userId\":".to_vec();
    body.extend(std::iter::repeat_n(b'[', n));
    body.extend(std::iter::repeat_n(b']', n));
    body.push(b'}');
    body
}

#[tokio::test]
async fn oversized_and_deeply_nested_bodies_are_refused() {
    const TEN_MB: usize = 10 * 1024 * 1024;
    // At the default 64 KiB limit: 413, the rest of the body never read.
    let receiver = Receiver::start(|service| service).await;
    for body in [nested(100_000), vec![b'['; TEN_MB]] {
        let (status, body) = post(receiver.addr, &body).await;
        assert_eq!(status, 413);
        assert_ne!(body, "OK");
    }
    // A head announcing 10 MB, then just over the limit: refused without waiting for more.
    let mut bytes =
        format!("POST /kyc/callback HTTP/1.1\r\nHost: x\r\nContent-Length: {TEN_MB}\r\n\r\n")
            .into_bytes();
    bytes.extend(vec![b' '; 64 * 1024 + 1]);
    let cut = stall(receiver.addr, bytes, None).await;
    assert!(cut.closed);
    assert_eq!(parse_answer(&cut.answer).0, 413);
    assert_eq!(receiver.accepted(), 0);
    receiver.stop().await;

    // With the limit raised, the whole body is read and the decoder refuses it: 400.
    let roomy = Receiver::start(|service| service.max_body(16 * 1024 * 1024)).await;
    let mut objects = Vec::new();
    for _ in 0..100_000 {
        objects.extend_from_slice(b"{\"a\":");
    }
    objects.push(b'1');
    objects.extend(std::iter::repeat_n(b'}', 100_000));
    let huge_string = format!("{{\"userId\":\"{}\",\"sign\":\"x\"}}", "u".repeat(TEN_MB));
    for body in [
        nested(100_000),
        nested(TEN_MB / 2),
        objects,
        vec![b'['; TEN_MB],
        huge_string.into_bytes(),
    ] {
        let (status, answer) = post(roomy.addr, &body).await;
        assert!((400..500).contains(&status), "HTTP {status}");
        assert_ne!(answer, "OK");
    }
    // A 10 MB callback that is otherwise valid and signed: verified, then refused by the
    // userId rule (at most 64 bytes). Never `OK`.
    let long_user = "u".repeat(TEN_MB);
    let fields = [
        ("authenticationStatus", "2"),
        ("timestamp", "1728609277476"),
        ("userId", long_user.as_str()),
    ];
    let body = reshaped(
        &[
            ("userId", &format!("\"{long_user}\"")),
            ("authenticationStatus", "\"2\""),
            ("timestamp", "1728609277476"),
        ],
        &fields,
        SECRET,
    );
    assert_eq!(post(roomy.addr, &body).await.0, 400);
    // Still serving.
    assert_eq!(
        post(roomy.addr, &callback_json("after-huge", SECRET)).await,
        (200, "OK".to_owned())
    );
    assert_eq!(roomy.accepted(), 1);
    roomy.stop().await;
}

#[tokio::test]
async fn non_utf8_callbacks_are_refused() {
    let receiver = Receiver::start(|service| service).await;
    let valid = String::from_utf8(callback_json("utf8", SECRET)).unwrap();
    for body in [
        valid
            .replacen("utf8", "utf\u{1}", 1)
            .replace('\u{1}', "\u{0}")
            .into_bytes(),
        b"{\"userId\":\"caf\xe9\",\"authenticationStatus\":\"2\",\"timestamp\":1,\"sign\":\"x\"}"
            .to_vec(),
        b"{\"user\xffId\":\"u\",\"authenticationStatus\":\"2\",\"timestamp\":1,\"sign\":\"x\"}"
            .to_vec(),
        b"{\"userId\":\"\\udc00\",\"authenticationStatus\":\"2\",\"timestamp\":1,\"sign\":\"x\"}"
            .to_vec(),
        valid
            .replacen("The file", "The \u{1}file", 1)
            .into_bytes()
            .into_iter()
            .map(|b| if b == 1 { 0xc0 } else { b })
            .collect(),
        [b"\xef\xbb\xbf", valid.as_bytes()].concat(),
        b"\xfe\xff\x00{".to_vec(),
    ] {
        let (status, answer) = post(receiver.addr, &body).await;
        assert_eq!(status, 400, "{:?}", String::from_utf8_lossy(&body));
        assert_eq!(answer, "malformed callback");
    }
    assert_eq!(receiver.accepted(), 0);
    receiver.stop().await;
}

#[tokio::test]
async fn forged_truncated_empty_and_uppercase_signatures() {
    let receiver = Receiver::start(|service| service).await;
    let good = String::from_utf8(callback_json("sig-user", SECRET)).unwrap();
    let sign = sign_of(good.as_bytes());
    let with_sign = |replacement: &str| good.replace(&format!("\"{sign}\""), replacement);
    let mut flipped = sign.clone().into_bytes();
    flipped[31] = if flipped[31] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let cases = [
        // Well-formed but wrong: 401.
        (
            String::from_utf8(callback_json("sig-user", "another secret")).unwrap(),
            401,
        ),
        (with_sign(&format!("\"{}\"", "0".repeat(32))), 401),
        (with_sign(&format!("\"{flipped}\"")), 401),
        // Not a signature at all: 400.
        (with_sign(&format!("\"{}\"", &sign[..31])), 400),
        (with_sign(&format!("\"{}\"", &sign[..16])), 400),
        (with_sign(&format!("\"{sign}0\"")), 400),
        (with_sign(&format!("\" {sign}\"")), 400),
        (with_sign("\"\""), 400),
        (with_sign("null"), 400),
        (with_sign(&format!("{}", u128::MAX)), 400),
        (good.replace(&format!(",\"sign\":\"{sign}\""), ""), 400),
    ];
    for (body, expected) in &cases {
        let (status, answer) = post(receiver.addr, body.as_bytes()).await;
        assert_eq!(status, *expected, "{body}");
        assert_ne!(answer, "OK");
    }
    assert_eq!(receiver.accepted(), 0);
    // kyc-sign verifies either case: upper-case hex is accepted.
    let upper = with_sign(&format!("\"{}\"", sign.to_ascii_uppercase()));
    assert_eq!(
        post(receiver.addr, upper.as_bytes()).await,
        (200, "OK".to_owned())
    );
    assert_eq!(receiver.accepted(), 1);
    receiver.stop().await;
}

#[tokio::test]
async fn field_boundary_shifts_verify_but_fail_format_checks() {
    let receiver = Receiver::start(|service| service).await;
    let key = SigningKey::new(SECRET).unwrap();
    let ts = TIMESTAMP.to_string();
    // A rejection with a reason, as the provider signs it.
    let honest = [
        ("authenticationStatus", "3"),
        ("failReason", "Photo unclear"),
        ("timestamp", ts.as_str()),
        ("userId", "shift-user"),
    ];
    // `authenticationStatus=3` + `failReason=Photo unclear`, the reason moved into the status:
    // the same signed text (`authenticationStatus=3failReason=Photo unclear…`).
    let shifted = [
        ("authenticationStatus", "3failReason=Photo unclear"),
        ("timestamp", ts.as_str()),
        ("userId", "shift-user"),
    ];
    let settings = Settings::default();
    assert_eq!(
        Canonical::new(&honest, &settings).unwrap().to_string(),
        Canonical::new(&shifted, &settings).unwrap().to_string()
    );
    let body = reshaped(
        &[
            ("authenticationStatus", "\"3failReason=Photo unclear\""),
            ("timestamp", &ts),
            ("userId", "\"shift-user\""),
        ],
        &honest,
        SECRET,
    );
    // The signature verifies (kyc-proto's own check says so), the status format refuses it.
    let err = Callback::verify(&body, &key).unwrap_err();
    assert!(!err.is_signature_mismatch());
    assert!(
        err.to_string().contains("authenticationStatus"),
        "refused by the format check: {err}"
    );
    assert_eq!(
        post(receiver.addr, &body).await,
        (400, "malformed callback".to_owned())
    );
    // A reason that holds `timestamp=…`, its tail moved into `timestamp`.
    let honest = [
        ("authenticationStatus", "3"),
        ("failReason", "Photo unclear timestamp=1"),
        ("timestamp", ts.as_str()),
        ("userId", "shift-user"),
    ];
    let shifted_ts = format!("1timestamp={ts}");
    let body = reshaped(
        &[
            ("authenticationStatus", "\"3\""),
            ("failReason", "\"Photo unclear \""),
            ("timestamp", &format!("\"{shifted_ts}\"")),
            ("userId", "\"shift-user\""),
        ],
        &honest,
        SECRET,
    );
    assert!(
        !Callback::verify(&body, &key)
            .unwrap_err()
            .is_signature_mismatch()
    );
    assert_eq!(
        post(receiver.addr, &body).await,
        (400, "malformed callback".to_owned())
    );
    // `timestamp` into `userId`: a userId that holds `userId=`.
    let honest = [
        ("authenticationStatus", "2"),
        ("timestamp", ts.as_str()),
        ("userId", "xuserId=y"),
    ];
    let body = reshaped(
        &[
            ("authenticationStatus", "\"2\""),
            ("timestamp", &format!("\"{ts}userId=x\"")),
            ("userId", "\"y\""),
        ],
        &honest,
        SECRET,
    );
    assert!(
        !Callback::verify(&body, &key)
            .unwrap_err()
            .is_signature_mismatch()
    );
    assert_eq!(
        post(receiver.addr, &body).await,
        (400, "malformed callback".to_owned())
    );
    assert_eq!(receiver.accepted(), 0);
    receiver.stop().await;
}

#[test]
fn header_injection_is_impossible_through_the_client() {
    // `http` refuses a header value with CR or LF, and the client refuses such a merchant
    // number before `http` is even asked.
    for evil in ["1027749636\r\nX-Evil: 1", "1027749636\n", "1027749636\r"] {
        assert!(http::HeaderValue::from_str(evil).is_err());
        let err = Client::builder()
            .merchant_no(evil)
            .app_secret(SECRET)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("invalid request"), "{err}");
    }
    // Names, filenames and content types that could break out of a multipart header are
    // refused when the application is built.
    let application = Application::new(
        UserId::new("inj").unwrap(),
        CallbackUrl::new("https://merchant.example.com/cb").unwrap(),
        Furigana::new("テスト").unwrap(),
    );
    for name in [
        "note\r\nX: y",
        "no\"te",
        "note\"; name=\"userId",
        "no\\te",
        "a\nb",
    ] {
        assert!(
            application.clone().with_text_field(name, "v").is_err(),
            "{name:?}"
        );
        assert!(
            FilePart::new(
                name,
                "a.pdf",
                "application/pdf",
                FileSource::Bytes(Default::default())
            )
            .is_err()
        );
    }
    for filename in [
        "a\r\nContent-Type: text/html",
        "a\".pdf",
        "a\\\".pdf",
        "a\n.pdf",
    ] {
        assert!(
            FilePart::new(
                "doc",
                filename,
                "application/pdf",
                FileSource::Bytes(Default::default())
            )
            .is_err(),
            "{filename:?}"
        );
    }
    for content_type in [
        "text/plain\r\nX-Evil: 1",
        "text/plain\n",
        "text\u{7f}/plain",
    ] {
        assert!(
            FilePart::new(
                "doc",
                "a.pdf",
                content_type,
                FileSource::Bytes(Default::default())
            )
            .is_err(),
            "{content_type:?}"
        );
    }
}

#[tokio::test]
async fn odd_but_legal_part_headers_reach_the_sandbox_as_data() {
    let clock = FixedClock::new(NOW);
    let sandbox = Sandbox::builder(clock)
        .merchant(MERCHANT, SECRET)
        .build()
        .unwrap()
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let client = Client::builder()
        .environment(Environment::custom(sandbox.base_url()).unwrap())
        .merchant_no(MERCHANT)
        .app_secret(SECRET)
        .clock(Arc::new(FixedClock::new(NOW)))
        .build()
        .unwrap();
    // A content type full of quotes and a `name=` parameter, a filename with `;` and `=`:
    // if the encoder let them reshape the part header, the sandbox would see another field.
    let file = FilePart::new(
        "document",
        "a; name=userId.pdf",
        "application/pdf; name=\"userId\"; x=\"\\\"",
        FileSource::Bytes(bytes::Bytes::from_static(b"%PDF-1.4")),
    )
    .unwrap();
    let application = Application::new(
        UserId::new("odd-headers").unwrap(),
        CallbackUrl::new_allow_http("http://127.0.0.1:9/cb").unwrap(),
        Furigana::new("テスト").unwrap(),
    )
    .with_text_field(
        "note",
        "a\r\n--boundary\r\nContent-Disposition: form-data; name=\"userId\"",
    )
    .unwrap()
    .with_file(file);
    let reply = client.apply(&application).await.unwrap();
    assert_eq!(reply.user_id(), Some("odd-headers"));
    assert!(sandbox.application(MERCHANT, "odd-headers").is_some());
    assert_eq!(sandbox.applications().len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn secrets_signatures_and_names_stay_out_of_logs_errors_and_debug() {
    const NAME: &str = "ヤマダタロウ";
    let capture = Capture::global();
    let from = capture.len();

    let crate::sandbox::World {
        sandbox,
        clock,
        client,
        callback_url,
        mut callbacks,
    } = crate::sandbox::World::start().await;

    let user = UserId::new("reject-leak").unwrap();
    let application = Application::new(
        user.clone(),
        CallbackUrl::new_allow_http(&callback_url).unwrap(),
        Furigana::new(NAME).unwrap(),
    );
    let reply = client.apply(&application).await.unwrap();
    // The signature the client sent: the same fields, the same clock, the same rule.
    let now = NOW.to_string();
    let sent = [
        ("callBackUrl", callback_url.as_str()),
        ("timestamp", now.as_str()),
        ("userId", "reject-leak"),
        ("usernameFurigana", NAME),
    ];
    let key = SigningKey::new(SECRET).unwrap();
    let apply_sign = key
        .sign(&Canonical::new(&sent, &Settings::default()).unwrap())
        .to_string();
    let status_sign = key
        .sign(
            &Canonical::new(
                &[("timestamp", now.as_str()), ("userId", "reject-leak")],
                &Settings::default(),
            )
            .unwrap(),
        )
        .to_string();
    let status = client.status(&user).await.unwrap();

    // Errors: a wrong secret (refused by the sandbox), a forged callback.
    let wrong = Client::builder()
        .environment(Environment::custom(sandbox.base_url()).unwrap())
        .merchant_no(MERCHANT)
        .app_secret("WRONG_SECRET_ALSO_SECRET")
        .clock(clock.clone())
        .build()
        .unwrap();
    let api_error = wrong.apply(&application).await.unwrap_err();
    let forged = Callback::new(
        user.clone(),
        AuthenticationStatus::Approved,
        None,
        Timestamp::from_millis(NOW),
    )
    .to_signed_json(&SigningKey::new("WRONG_SECRET_ALSO_SECRET").unwrap());
    let callback_error = client.verify_callback(&forged).unwrap_err();

    // The review ends in rejection; the signed callback reaches the receiver.
    clock.advance(Duration::from_secs(5));
    sandbox.tick();
    let delivered = tokio::time::timeout(BOUND, callbacks.recv())
        .await
        .unwrap()
        .unwrap();
    let fail_reason = delivered.fail_reason().unwrap().to_owned();
    tokio::time::timeout(
        BOUND,
        sandbox.wait_until(|log| log.is_delivered("reject-leak")),
    )
    .await
    .unwrap();
    let log_url: http::Uri = sandbox.log_url().parse().unwrap();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        log_url.path()
    );
    let (log_status, log_body) =
        parse_answer(&exchange(sandbox.local_addr(), request.as_bytes()).await);
    assert_eq!(log_status, 200);
    assert!(log_body.contains("reject-leak"), "{log_body}");

    let logs = capture.since(from);
    assert!(logs.contains("kyc.attempt"), "spans were captured: {logs}");
    assert!(logs.contains("callback accepted"), "{logs}");
    let everything = format!(
        "{logs}\n{log_body}\n{api_error}\n{api_error:?}\n{:?}\n{callback_error}\n{callback_error:?}\n{client:?}\n{wrong:?}\n{application:?}\n{reply:?}\n{status:?}\n{delivered:?}\n{:?}",
        std::error::Error::source(&api_error),
        sandbox.log(),
    );
    assert_none_leaked(
        &everything,
        [
            SECRET,
            "WRONG_SECRET_ALSO_SECRET",
            NAME,
            &apply_sign,
            &status_sign,
            &fail_reason,
        ],
    );
    sandbox.shutdown().await;
}

/// Moving the boundary between a name and a value: the honest `failReason=a=b` read as an extra
/// field `"failReason=a": "b"` (no `failReason`). The signed text is the same; only a format
/// check on extra field names (identifiers, as `kyc-proto` requires of application fields) can
/// catch it, and `Callback::verify` applies one.
#[test]
fn extra_field_names_cannot_absorb_a_shifted_boundary() {
    let key = SigningKey::new(SECRET).unwrap();
    let ts = TIMESTAMP.to_string();
    let honest = [
        ("authenticationStatus", "3"),
        ("failReason", "a=b"),
        ("timestamp", ts.as_str()),
        ("userId", "u1"),
    ];
    let body = reshaped(
        &[
            ("authenticationStatus", "\"3\""),
            ("failReason=a", "\"b\""),
            ("timestamp", &ts),
            ("userId", "\"u1\""),
        ],
        &honest,
        SECRET,
    );
    let err = Callback::verify(&body, &key).expect_err("a name holding `=` must be refused");
    assert!(!err.is_signature_mismatch());
}
