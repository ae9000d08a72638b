//! Serving over plain TCP: both HTTP versions, the deadline for silent clients, the header
//! limit, and shutdown (graceful, then bounded by the grace).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kyc_serve::Server;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::{BOUND, Running, get, is_hello, read_all};

#[tokio::test]
async fn http1_and_http2_are_answered() {
    let running = Running::start(Server::new()).await;
    assert!(is_hello(&get(running.addr, "/").await));

    // HTTP/2 with prior knowledge: the auto builder tells it from HTTP/1 by the preface.
    let stream = TcpStream::connect(running.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let driver = tokio::spawn(connection);
    let request = http::Request::get("http://x/")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "hello");
    drop(sender);
    let _ = driver.await;
    running.stop().await;
}

#[tokio::test]
async fn silent_clients_are_cut_while_others_are_served() {
    let running =
        Running::start(Server::new().header_read_timeout(Duration::from_millis(200))).await;
    // Nothing at all, and half an HTTP/2 preface: hyper's own header timeout has not started
    // for either, so only the first-request deadline ends them.
    let silent = TcpStream::connect(running.addr).await.unwrap();
    let mut half_preface = TcpStream::connect(running.addr).await.unwrap();
    half_preface.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    assert!(is_hello(&get(running.addr, "/").await));
    assert_eq!(read_all(silent).await, "");
    assert_eq!(read_all(half_preface).await, "");
    running.stop().await;
}

#[tokio::test]
async fn a_head_over_the_limit_is_refused() {
    let running = Running::start(Server::new().max_header_bytes(8 * 1024)).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    // The server may answer and close before it has read it all.
    let _ = stream.write_all(head.as_bytes()).await;
    let answer = read_all(stream).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(is_hello(&get(running.addr, "/").await));
    running.stop().await;
}

#[tokio::test]
async fn shutdown_lets_an_open_request_finish() {
    let mut running = Running::start(Server::new()).await;
    let addr = running.addr;
    let held = tokio::spawn(async move { get(addr, "/held").await });
    running.gate.started().await;
    running.signal();
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(
        !running.is_finished(),
        "the server waits for the open request"
    );
    running.gate.release();
    let answer = tokio::time::timeout(BOUND, held).await.unwrap().unwrap();
    assert!(is_hello(&answer), "{answer}");
    running.stopped().await;
}

#[tokio::test]
async fn shutdown_drops_a_request_that_outlasts_the_grace() {
    let mut running =
        Running::start(Server::new().shutdown_grace(Duration::from_millis(100))).await;
    let addr = running.addr;
    let held = tokio::spawn(async move { get(addr, "/held").await });
    running.gate.started().await;
    running.signal();
    // Never released: the server returns once the grace is over, and the client sees the
    // connection end without an answer.
    running.stopped().await;
    let answer = tokio::time::timeout(BOUND, held).await.unwrap().unwrap();
    assert_eq!(answer, "");
}

#[tokio::test]
async fn after_shutdown_nothing_is_accepted() {
    let running = Running::start(Server::new()).await;
    let addr = running.addr;
    running.stop().await;
    assert!(TcpStream::connect(addr).await.is_err());
}
