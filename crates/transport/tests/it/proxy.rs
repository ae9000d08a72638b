//! Proxies written in the test: a forward proxy for `http` and a CONNECT tunnel for `https`.

use std::net::SocketAddr;

use bytes::Bytes;
use http::HeaderMap;
use kyc_transport::multipart::Form;
use kyc_transport::{Certificate, Proxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::support::{self, SEEN_TYPE, header};
use crate::tls::{serve_tls, test_cert};

/// Reads up to the end of an HTTP head; returns the head and whatever followed it.
async fn read_head(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut seen = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "connection closed inside the head");
        seen.extend_from_slice(&buf[..n]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = seen.split_off(end + 4);
            return (String::from_utf8(seen).expect("ASCII head"), rest);
        }
    }
}

/// A forward proxy that answers itself, reporting the request line and credentials it saw.
async fn forward_proxy() -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (head, _) = read_head(&mut stream).await;
            let _ = tx.send(head);
            let reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
            let _ = stream.write_all(reply.as_bytes()).await;
        }
    });
    (addr, rx)
}

/// A CONNECT proxy that tunnels to whatever the client asks for, reporting the CONNECT head.
async fn connect_proxy() -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (head, rest) = read_head(&mut client).await;
                let target = head
                    .strip_prefix("CONNECT ")
                    .and_then(|line| line.split(' ').next())
                    .expect("a CONNECT request")
                    .to_owned();
                let _ = tx.send(head);
                assert!(rest.is_empty(), "the client waits for the tunnel");
                let mut upstream = TcpStream::connect(&target).await.expect("upstream");
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .expect("write");
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn http_goes_through_a_forward_proxy_with_credentials() {
    let (proxy, mut seen) = forward_proxy().await;
    let transport = support::builder()
        .proxy(Proxy::http(format!("http://user:pass@{proxy}")))
        .build()
        .expect("builds");
    // The host need not resolve: only the proxy is connected to.
    let uri = "http://upstream.invalid/v1/vexora/kycApplyFor"
        .parse()
        .expect("uri");
    let form = Form::new().text("userId", "u1");
    let response = transport
        .post_form(&uri, HeaderMap::new(), &form)
        .await
        .expect("proxied");
    assert_eq!(response.body(), "ok");
    let head = seen.recv().await.expect("the proxy saw the request");
    assert!(
        head.starts_with("POST http://upstream.invalid/v1/vexora/kycApplyFor HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("proxy-authorization: basic dxnlcjpwyxnz"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase().contains("content-length: "),
        "{head}"
    );
}

#[tokio::test]
async fn https_is_tunnelled_with_connect() {
    let cert = test_cert();
    let server = serve_tls(&cert).await;
    let (proxy, mut seen) = connect_proxy().await;
    let transport = support::builder()
        .proxy(Proxy::https(format!("http://{proxy}")))
        .add_root_certificate(Certificate::from_pem(cert.pem.as_bytes()).expect("PEM"))
        .build()
        .expect("builds");
    let uri = format!("https://127.0.0.1:{}/apply", server.port())
        .parse()
        .expect("uri");
    let response = transport
        .post_json(&uri, HeaderMap::new(), Bytes::from_static(b"{}"))
        .await
        .expect("tunnelled");
    assert_eq!(header(&response, SEEN_TYPE), "application/json");
    let head = seen.recv().await.expect("the proxy saw CONNECT");
    assert!(
        head.starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n", server.port())),
        "{head}"
    );
}

#[tokio::test]
async fn no_proxy_hosts_connect_directly() {
    let (proxy, mut seen) = forward_proxy().await;
    let addr = support::serve(support::echo).await;
    let transport = support::builder()
        .proxy(Proxy::all(format!("http://{proxy}")).no_proxy("127.0.0.1"))
        .build()
        .expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let response = transport
        .post_json(&uri, HeaderMap::new(), Bytes::from_static(b"{}"))
        .await
        .expect("direct");
    assert_eq!(response.body(), "{}");
    assert!(seen.try_recv().is_err(), "the proxy was not contacted");
}
