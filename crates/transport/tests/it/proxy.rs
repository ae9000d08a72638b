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

/// Set in the child process of [`proxies_are_read_from_the_environment`].
const ENV_CHILD: &str = "KYC_TRANSPORT_PROXY_ENV_CHILD";

/// `Proxy::from_env` reads `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`. The variables belong to
/// the whole process, so the check runs in a child: this test binary again, filtered to
/// [`env_proxy_child`], with the variables set for it alone.
#[test]
fn proxies_are_read_from_the_environment() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (proxy, mut seen) = forward_proxy().await;
        let proxy_url = format!("http://envuser:envpass@{proxy}");
        support::run_child(
            "proxy::env_proxy_child",
            &[
                (ENV_CHILD, "1".as_ref()),
                ("HTTP_PROXY", proxy_url.as_ref()),
                ("NO_PROXY", "127.0.0.1".as_ref()),
            ],
            &[
                "http_proxy",
                "no_proxy",
                "HTTPS_PROXY",
                "https_proxy",
                "ALL_PROXY",
                "all_proxy",
            ],
        )
        .await;
        let head = seen.recv().await.expect("the proxy saw the request");
        assert!(
            head.starts_with("POST http://upstream.invalid/apply HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase().contains(
                "proxy-authorization: basic ZW52dXNlcjplbnZwYXNz"
                    .to_ascii_lowercase()
                    .as_str()
            ),
            "{head}"
        );
        assert!(
            seen.try_recv().is_err(),
            "the NO_PROXY host must not go through the proxy"
        );
    });
}

/// The child half of [`proxies_are_read_from_the_environment`]; does nothing when run alone.
#[tokio::test]
async fn env_proxy_child() {
    if std::env::var_os(ENV_CHILD).is_none() {
        return;
    }
    let transport = support::builder()
        .proxy(Proxy::from_env())
        .build()
        .expect("builds");
    // Through the proxy from HTTP_PROXY: the host need not resolve.
    let uri = "http://upstream.invalid/apply".parse().expect("uri");
    let response = transport
        .post_form(&uri, HeaderMap::new(), &Form::new().text("userId", "u1"))
        .await
        .expect("proxied");
    assert_eq!(response.body(), "ok");
    // NO_PROXY names 127.0.0.1: a server there is reached directly.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let direct = format!("http://{}/apply", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let (head, _) = read_head(&mut stream).await;
        assert!(head.starts_with("POST /apply HTTP/1.1\r\n"), "{head}");
        let reply = "HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ndirect";
        stream.write_all(reply.as_bytes()).await.expect("write");
    });
    let response = transport
        .post_form(
            &direct.parse().expect("uri"),
            HeaderMap::new(),
            &Form::new().text("userId", "u1"),
        )
        .await
        .expect("direct");
    assert_eq!(response.body(), "direct");
}
