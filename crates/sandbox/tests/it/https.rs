//! HTTPS with the generated self-signed certificate, over HTTP/1.1 and HTTP/2 (ALPN).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kyc_sandbox::FixedClock;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::support::*;

/// A TLS client that trusts the sandbox's certificate and nothing else.
fn connector(pem: &str, alpn: &[u8]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn https_serves_http1_and_http2_with_the_generated_certificate() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).https(true)).await;
    assert!(running.base_url().starts_with("https://127.0.0.1:"));
    let pem = running.certificate_pem().unwrap().to_owned();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // HTTP/1.1: an application.
    let tls = connector(&pem, b"http/1.1")
        .connect(
            ServerName::try_from("localhost").unwrap(),
            TcpStream::connect(running.local_addr()).await.unwrap(),
        )
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = request(
        &running,
        &running.apply_url(),
        Some(MERCHANT),
        Some(&multipart_type()),
        multipart(&apply_fields("tls-u1", "https://m.example/cb", SECRET)),
    );
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["code"],
        "0000"
    );

    // HTTP/2, by the certificate's IP name: the status query.
    let tls = connector(&pem, b"h2")
        .connect(
            ServerName::try_from("127.0.0.1").unwrap(),
            TcpStream::connect(running.local_addr()).await.unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    let json = status_json("tls-u1", SECRET);
    let request = http::Request::post(running.status_url())
        .header("merchantNo", MERCHANT)
        .header("content-type", "application/json")
        .header("content-length", json.len())
        .body(Full::new(Bytes::from(json)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["data"]["authenticationStatus"], "0");
    running.shutdown().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).https(true)).await;
    // Another sandbox's certificate is a different self-signed root.
    let other = builder(&clock).https(true).build().unwrap();
    let result = connector(other.certificate_pem().unwrap(), b"http/1.1")
        .connect(
            ServerName::try_from("localhost").unwrap(),
            TcpStream::connect(running.local_addr()).await.unwrap(),
        )
        .await;
    assert!(result.is_err());
    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let answer = raw(
        running.local_addr(),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        std::time::Duration::from_secs(10),
    )
    .await;
    assert_eq!(raw_status(&answer), None);
    running.shutdown().await;
}
