//! The sender against in-test hyper servers over plain HTTP on `127.0.0.1:0`.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::Full;
use kyc_transport::multipart::Form;
use kyc_transport::{Error, Request, Sender, TimeoutPhase};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{
    self, SEEN_BODY_LEN, SEEN_CHUNKED, SEEN_LENGTH, SEEN_TYPE, SEEN_VERSION, header,
};

fn kyc2_form() -> Form {
    Form::new()
        .text("userId", "abc_100008")
        .text(
            "callBackUrl",
            "https://merchant.example.com/api/kyc/callback",
        )
        .text("usernameFurigana", "テスト014")
        .text("timestamp", "1774925553256")
        .text("sign", "aa3d61235fb4b1f13e44c95b98d3fff1")
}

#[tokio::test]
async fn form_has_exact_content_length_and_is_never_chunked() {
    let addr = support::serve(support::echo).await;
    let transport = support::builder().build().expect("builds");
    let uri = format!("http://{addr}/v1/vexora/kycApplyFor")
        .parse()
        .expect("uri");
    let mut headers = HeaderMap::new();
    headers.insert("merchantNo", "1027749636".parse().expect("value"));
    let response = transport
        .post_form(&uri, headers, &kyc2_form())
        .await
        .expect("sent");

    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, SEEN_CHUNKED), "-");
    assert_eq!(
        header(&response, SEEN_LENGTH),
        header(&response, SEEN_BODY_LEN)
    );
    assert_eq!(
        header(&response, SEEN_LENGTH),
        response.body().len().to_string()
    );
    assert_eq!(header(&response, SEEN_VERSION), "HTTP/1.1");
    let content_type = header(&response, SEEN_TYPE).to_owned();
    assert!(content_type.starts_with("multipart/form-data; boundary=kyc"));

    let parts = support::parse_form(&content_type, response.body().clone()).await;
    let got: Vec<(&str, &[u8])> = parts.iter().map(|(n, _, b)| (n.as_str(), &b[..])).collect();
    assert_eq!(
        got,
        [
            ("userId", &b"abc_100008"[..]),
            (
                "callBackUrl",
                b"https://merchant.example.com/api/kyc/callback"
            ),
            ("usernameFurigana", "テスト014".as_bytes()),
            ("timestamp", b"1774925553256"),
            ("sign", b"aa3d61235fb4b1f13e44c95b98d3fff1"),
        ]
    );
}

#[tokio::test]
async fn each_send_draws_a_fresh_boundary_and_reuses_the_pool() {
    let addr = support::serve(support::echo).await;
    let transport = support::builder().build().expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let form = kyc2_form();
    let a = transport
        .post_form(&uri, HeaderMap::new(), &form)
        .await
        .expect("sent");
    let b = transport
        .clone()
        .post_form(&uri, HeaderMap::new(), &form)
        .await
        .expect("sent");
    assert_ne!(header(&a, SEEN_TYPE), header(&b, SEEN_TYPE));
}

#[tokio::test]
async fn json_post_has_content_type_and_length() {
    let addr = support::serve(support::echo).await;
    let transport = support::builder().build().expect("builds");
    let uri = format!("http://{addr}/v1/vexora/kycStatusQuery")
        .parse()
        .expect("uri");
    let json = Bytes::from_static(br#"{"sign":"s","timestamp":"1","userId":"u"}"#);
    let response = transport
        .post_json(&uri, HeaderMap::new(), json.clone())
        .await
        .expect("sent");
    assert_eq!(header(&response, SEEN_TYPE), "application/json");
    assert_eq!(header(&response, SEEN_LENGTH), json.len().to_string());
    assert_eq!(header(&response, SEEN_CHUNKED), "-");
    assert_eq!(response.body(), &json);
}

#[tokio::test]
async fn the_sender_trait_sends_requests() {
    let addr = support::serve(support::echo).await;
    let transport = support::builder().build().expect("builds");
    let sender: &dyn Sender = &transport;
    let uri = format!("http://{addr}/").parse().expect("uri");
    let response = sender
        .send(Request::post_form(uri, HeaderMap::new(), kyc2_form()))
        .await
        .expect("sent");
    assert!(header(&response, SEEN_TYPE).starts_with("multipart/form-data"));
}

#[tokio::test]
async fn oversized_responses_are_refused() {
    let addr = support::serve(|_request| async {
        hyper::Response::new(Full::new(Bytes::from(vec![b'x'; 4096])))
    })
    .await;
    let transport = support::builder()
        .max_response_body(1024)
        .build()
        .expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let err = transport
        .post_json(&uri, HeaderMap::new(), Bytes::new())
        .await
        .expect_err("too large");
    let Error::BodyTooLarge(too_large) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(too_large.limit(), 1024);
    assert_eq!(too_large.status(), 200);
    assert!(err.request_may_have_been_sent());
    assert!(!err.is_retry_safe());
}

#[tokio::test]
async fn oversized_chunked_responses_are_refused_while_reading() {
    // No Content-Length: the cap is enforced on the bytes as they arrive.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0_u8; 64 * 1024];
        let _ = stream.read(&mut buf).await;
        let chunk = vec![b'y'; 1000];
        let mut reply = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..5 {
            reply.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            reply.extend_from_slice(&chunk);
            reply.extend_from_slice(b"\r\n");
        }
        reply.extend_from_slice(b"0\r\n\r\n");
        let _ = stream.write_all(&reply).await;
    });
    let transport = support::builder()
        .max_response_body(2500)
        .build()
        .expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let err = transport
        .post_json(&uri, HeaderMap::new(), Bytes::new())
        .await
        .expect_err("too large");
    assert!(matches!(err, Error::BodyTooLarge(_)), "{err:?}");
}

#[tokio::test]
async fn response_timeout_fires_and_is_not_retry_safe() {
    // The server reads the request and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (release, stalled) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0_u8; 64 * 1024];
        let _ = stream.read(&mut buf).await;
        let _ = stalled.await; // hold the connection open until the test ends
    });
    let transport = support::builder()
        .timeout(Duration::from_millis(50))
        .build()
        .expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let err = transport
        .post_form(&uri, HeaderMap::new(), &kyc2_form())
        .await
        .expect_err("times out");
    let Error::Timeout(timeout) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(timeout.phase(), TimeoutPhase::Response);
    assert_eq!(timeout.after(), Duration::from_millis(50));
    assert!(err.is_timeout());
    assert!(err.request_may_have_been_sent());
    assert!(!err.is_retry_safe());
    drop(release);
}

#[tokio::test]
async fn connect_timeout_covers_the_tls_handshake() {
    // A TCP server that accepts and never speaks TLS: connecting cannot complete.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (release, stalled) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (_stream, _) = listener.accept().await.expect("accept");
        let _ = stalled.await;
    });
    let transport = support::builder()
        .connect_timeout(Duration::from_millis(50))
        .build()
        .expect("builds");
    let uri = format!("https://127.0.0.1:{}/", addr.port())
        .parse()
        .expect("uri");
    let err = transport
        .post_json(&uri, HeaderMap::new(), Bytes::new())
        .await
        .expect_err("times out");
    let Error::Timeout(timeout) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(timeout.phase(), TimeoutPhase::Connect);
    assert!(!err.request_may_have_been_sent());
    assert!(err.is_retry_safe());
    drop(release);
}

#[tokio::test]
async fn refused_connection_is_a_retry_safe_connect_error() {
    // Bind then drop: the port is (for this test's lifetime) closed.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let transport = support::builder().build().expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let err = transport
        .post_json(&uri, HeaderMap::new(), Bytes::new())
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    assert!(err.is_retry_safe());
    assert!(!err.request_may_have_been_sent());
    assert_eq!(err.to_string(), "could not connect to the server");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn invalid_requests_are_not_sent() {
    let transport = support::builder().build().expect("builds");
    let err = transport
        .post_json(
            &"/relative".parse().expect("uri"),
            HeaderMap::new(),
            Bytes::new(),
        )
        .await
        .expect_err("invalid");
    assert!(matches!(err, Error::Invalid(_)));
    let form = Form::new().text("bad\0name", "v");
    let err = transport
        .post_form(
            &"http://127.0.0.1:9/".parse().expect("uri"),
            HeaderMap::new(),
            &form,
        )
        .await
        .expect_err("invalid");
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn a_pooled_connection_closed_by_the_server_is_retried() {
    // Raw server: the first connection answers with keep-alive and then closes; the second
    // connection answers normally. The client must not surface the stale connection.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let mut connections = 0;
        let mut closed_tx = Some(closed_tx);
        while connections < 2 {
            let (mut stream, _) = listener.accept().await.expect("accept");
            connections += 1;
            let mut buf = vec![0_u8; 64 * 1024];
            let mut seen = Vec::new();
            // Read until the end of the (small) request: headers plus Content-Length bytes.
            loop {
                let n = stream.read(&mut buf).await.expect("read");
                seen.extend_from_slice(&buf[..n]);
                if n == 0 || request_complete(&seen) {
                    break;
                }
            }
            let reply = format!("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n{connections}");
            stream.write_all(reply.as_bytes()).await.expect("write");
            if let Some(tx) = closed_tx.take() {
                drop(stream); // the idle pooled connection is now dead
                let _ = tx.send(());
            }
        }
        connections
    });
    let transport = support::builder().build().expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let first = transport
        .post_form(&uri, HeaderMap::new(), &kyc2_form())
        .await
        .expect("sent");
    assert_eq!(first.body(), "1");
    closed_rx.await.expect("server closed the first connection");
    let second = transport
        .post_form(&uri, HeaderMap::new(), &kyc2_form())
        .await
        .expect("retried");
    assert_eq!(second.body(), "2");
    assert_eq!(server.await.expect("server task"), 2);
}

fn request_complete(seen: &[u8]) -> bool {
    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse::<usize>().expect("a number"));
    seen.len() >= end + 4 + length
}

#[test]
fn public_types_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<kyc_transport::Transport>();
    send_sync::<kyc_transport::Error>();
    send_sync::<Request>();
    send_sync::<kyc_transport::Response>();
    send_sync::<kyc_transport::multipart::Form>();
    send_sync::<kyc_transport::multipart::Encoded>();
    let transport = support::builder().build().expect("builds");
    let uri: http::Uri = "http://127.0.0.1:9/".parse().expect("uri");
    let form = kyc2_form();
    // Futures that a client spawns onto a multi-threaded runtime.
    send(&transport.post_form(&uri, HeaderMap::new(), &form));
    send(&transport.post_json(&uri, HeaderMap::new(), Bytes::new()));
    send(&Sender::send(
        &transport,
        Request::post_form(uri.clone(), HeaderMap::new(), form.clone()),
    ));
}

/// A raw HTTP/1.1 server that answers each request with `reply(connection)` (connections are
/// numbered from 1 in the order they were accepted) and reports the connection's number and
/// the request head. `None` holds the answer back.
async fn counting_server(
    reply: fn(usize) -> Option<String>,
) -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<(usize, String)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (seen, heads) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut connections = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            connections += 1;
            let (connection, seen) = (connections, seen.clone());
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buf = vec![0_u8; 64 * 1024];
                loop {
                    while !request_complete(&pending) {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => pending.extend_from_slice(&buf[..read]),
                        }
                    }
                    let end = pending
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .expect("head");
                    let head = String::from_utf8_lossy(&pending[..end]).into_owned();
                    pending.clear(); // one request at a time: nothing is pipelined
                    let _ = seen.send((connection, head));
                    let Some(answer) = reply(connection) else {
                        std::future::pending::<()>().await; // hold the answer back
                        return;
                    };
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, heads)
}

fn ok(_: usize) -> Option<String> {
    Some("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_owned())
}

#[tokio::test]
async fn one_connection_serves_requests_one_after_another() {
    let (addr, mut heads) = counting_server(ok).await;
    let transport = support::builder().build().expect("builds");
    let uri = format!("http://{addr}/v1/vexora/kycApplyFor?x=1")
        .parse()
        .expect("uri");
    for _ in 0..5 {
        let response = transport
            .post_form(&uri, HeaderMap::new(), &kyc2_form())
            .await
            .expect("sent");
        assert_eq!(response.body(), "ok");
    }
    for _ in 0..5 {
        let (connection, head) = heads.recv().await.expect("a request");
        assert_eq!(connection, 1, "{head}");
        // Origin-form target, and the Host header names the non-default port.
        assert!(
            head.starts_with("POST /v1/vexora/kycApplyFor?x=1 HTTP/1.1\r\n"),
            "{head}"
        );
        let host = format!("host: {addr}");
        assert!(
            head.lines().any(|line| line.eq_ignore_ascii_case(&host)),
            "{head}"
        );
    }
}

#[tokio::test]
async fn a_connection_whose_answer_was_not_read_whole_is_not_reused() {
    // The first answer announces more body than it sends: the read times out mid-body.
    fn short_then_ok(connection: usize) -> Option<String> {
        Some(if connection == 1 {
            "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial".to_owned()
        } else {
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_owned()
        })
    }
    let (addr, mut heads) = counting_server(short_then_ok).await;
    let transport = support::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let err = transport
        .post_form(&uri, HeaderMap::new(), &kyc2_form())
        .await
        .expect_err("the body never completes");
    assert!(err.is_timeout(), "{err:?}");
    let response = transport
        .post_form(&uri, HeaderMap::new(), &kyc2_form())
        .await
        .expect("sent on a fresh connection");
    assert_eq!(response.body(), "ok");
    assert_eq!(heads.recv().await.expect("first").0, 1);
    assert_eq!(heads.recv().await.expect("second").0, 2);
}

#[tokio::test]
async fn idle_connections_expire() {
    let (addr, mut heads) = counting_server(ok).await;
    // A zero idle timeout: no connection outlives its request.
    let transport = support::builder()
        .pool_idle_timeout(Duration::ZERO)
        .build()
        .expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    for _ in 0..3 {
        transport
            .post_form(&uri, HeaderMap::new(), &kyc2_form())
            .await
            .expect("sent");
    }
    let connections: Vec<usize> = [
        heads.recv().await.expect("1").0,
        heads.recv().await.expect("2").0,
        heads.recv().await.expect("3").0,
    ]
    .into();
    assert_eq!(connections, [1, 2, 3]);
}

/// Sends `count` forms at once and checks that each was answered `ok`.
async fn send_at_once(transport: &kyc_transport::Transport, uri: &http::Uri, count: usize) {
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (transport, uri) = (transport.clone(), uri.clone());
        requests.spawn(async move {
            transport
                .post_form(&uri, HeaderMap::new(), &kyc2_form())
                .await
                .expect("sent")
        });
    }
    while let Some(response) = requests.join_next().await {
        assert_eq!(response.expect("joins").body(), "ok");
    }
}

#[tokio::test]
async fn concurrent_requests_reuse_the_connections_they_opened() {
    let (addr, mut heads) = counting_server(ok).await;
    let transport = support::builder().build().expect("builds");
    let uri: http::Uri = format!("http://{addr}/").parse().expect("uri");
    for _round in 0..3 {
        send_at_once(&transport, &uri, 8).await;
    }
    let mut connections = Vec::new();
    for _ in 0..24 {
        connections.push(heads.recv().await.expect("a request").0);
    }
    // Eight at a time never needs more than eight connections.
    assert!(connections.iter().all(|&c| c <= 8), "{connections:?}");
}

#[tokio::test]
async fn a_pool_of_closed_connections_still_gets_the_request_through() {
    // Each answer says keep-alive, then the server closes: every pooled connection goes stale.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = vec![0_u8; 64 * 1024];
                while !request_complete(&seen) {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                let _ = stream.write_all(reply.as_bytes()).await;
                // Dropped: closed right after the answer.
            });
        }
    });
    let transport = support::builder().build().expect("builds");
    let uri: http::Uri = format!("http://{addr}/").parse().expect("uri");
    send_at_once(&transport, &uri, 6).await;
    // Six pooled connections, all closed by the server: the next request still goes through.
    let response = transport
        .post_form(&uri, HeaderMap::new(), &kyc2_form())
        .await
        .expect("sent on a new connection");
    assert_eq!(response.body(), "ok");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 7);
}
