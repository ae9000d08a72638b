//! Serving HTTPS: answered over TLS, and a client that never finishes its handshake is cut at
//! the header read timeout.

use std::sync::Arc;
use std::time::Duration;

use kyc_serve::Server;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::support::{Running, is_hello, read_all};

/// A server configuration and a client configuration trusting it, for `localhost`.
fn configs() -> (rustls::ServerConfig, rustls::ClientConfig) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let certificate: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (server, client)
}

async fn https(server: Server) -> (Running, tokio_rustls::TlsConnector) {
    let (server_config, client_config) = configs();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let running = Running::start(server.tls(acceptor)).await;
    (
        running,
        tokio_rustls::TlsConnector::from(Arc::new(client_config)),
    )
}

#[tokio::test]
async fn https_is_answered() {
    let (running, connector) = https(Server::new()).await;
    let stream = TcpStream::connect(running.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, stream).await.unwrap();
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_all(tls).await;
    assert!(is_hello(&answer), "{answer}");
    running.stop().await;
}

#[tokio::test]
async fn a_handshake_that_never_finishes_is_cut() {
    let (running, _connector) =
        https(Server::new().header_read_timeout(Duration::from_millis(200))).await;
    // Half a ClientHello record header, then silence.
    let mut stalled = TcpStream::connect(running.addr).await.unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    let silent = TcpStream::connect(running.addr).await.unwrap();
    assert_eq!(read_all(stalled).await, "");
    assert_eq!(read_all(silent).await, "");
    running.stop().await;
}
