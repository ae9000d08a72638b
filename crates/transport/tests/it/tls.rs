//! TLS against an rcgen certificate, trusted only through a custom root.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use kyc_transport::multipart::Form;
use kyc_transport::{Certificate, Error, Transport};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

use crate::support::{self, SEEN_CHUNKED, SEEN_VERSION, header};

/// A certificate for `127.0.0.1` and `localhost`, and its PEM text.
pub(crate) struct TestCert {
    pub(crate) pem: String,
    pub(crate) der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

pub(crate) fn test_cert() -> TestCert {
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("rcgen generates a certificate");
    TestCert {
        pem: generated.cert.pem(),
        der: generated.cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(generated.key_pair.serialize_der()),
    }
}

/// A TLS acceptor presenting `cert`, offering `protocols` through ALPN.
fn acceptor(cert: &TestCert, protocols: &[&[u8]]) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the defaults")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der.clone()],
            PrivateKeyDer::Pkcs8(cert.key.clone_key()),
        )
        .expect("a matching key");
    config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// An HTTPS echo server (HTTP/1.1 and HTTP/2 via ALPN) on a fresh loopback port.
pub(crate) async fn serve_tls(cert: &TestCert) -> SocketAddr {
    let acceptor = acceptor(cert, &[b"h2", b"http/1.1"]);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return; // a client that refused our certificate
                };
                let service = service_fn(|request| async move {
                    Ok::<_, std::convert::Infallible>(support::echo(request).await)
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn custom_root_is_trusted_and_http2_is_negotiated() {
    let cert = test_cert();
    let addr = serve_tls(&cert).await;
    let transport = support::builder()
        .add_root_certificate(Certificate::from_pem(cert.pem.as_bytes()).expect("PEM"))
        .build()
        .expect("builds");
    let uri = format!("https://127.0.0.1:{}/apply", addr.port())
        .parse()
        .expect("uri");
    let form = Form::new().text("userId", "u1");
    let response = transport
        .post_form(&uri, HeaderMap::new(), &form)
        .await
        .expect("sent over TLS");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, SEEN_VERSION), "HTTP/2.0");
    assert_eq!(header(&response, SEEN_CHUNKED), "-");
    assert!(
        header(&response, support::SEEN_LENGTH)
            .parse::<u64>()
            .is_ok()
    );
}

#[tokio::test]
async fn http1_only_over_tls_with_a_der_root() {
    let cert = test_cert();
    let addr = serve_tls(&cert).await;
    let transport = support::builder()
        .add_root_certificate(Certificate::from_der(cert.der.to_vec()))
        .webpki_roots(false)
        .http2(false)
        .build()
        .expect("builds");
    let uri = format!("https://localhost:{}/", addr.port())
        .parse()
        .expect("uri");
    let response = transport
        .post_json(&uri, HeaderMap::new(), Bytes::from_static(b"{}"))
        .await
        .expect("sent over TLS");
    assert_eq!(header(&response, SEEN_VERSION), "HTTP/1.1");
    assert_eq!(response.body(), "{}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let cert = test_cert();
    let addr = serve_tls(&cert).await;
    let transport = support::builder().build().expect("builds"); // webpki roots only
    let uri = format!("https://127.0.0.1:{}/", addr.port())
        .parse()
        .expect("uri");
    let err = transport
        .post_json(&uri, HeaderMap::new(), Bytes::new())
        .await
        .expect_err("untrusted");
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    assert!(!err.request_may_have_been_sent());
    assert_eq!(err.to_string(), "TLS handshake failed");
}

#[test]
fn a_bad_der_root_fails_the_build() {
    let err = support::builder()
        .add_root_certificate(Certificate::from_der(vec![1, 2, 3]))
        .build()
        .expect_err("unparsable");
    assert!(matches!(err, Error::Invalid(_)));
}

/// Set in the child process of [`native_roots_come_from_the_operating_system_store`]: the
/// port of the parent's TLS server.
#[cfg(feature = "native-roots")]
const NATIVE_CHILD_PORT: &str = "KYC_TRANSPORT_NATIVE_ROOTS_CHILD_PORT";

/// With the `native-roots` feature, `native_roots(true)` trusts the operating system's store.
/// `SSL_CERT_FILE` replaces that store (rustls-native-certs reads it), but it belongs to the
/// whole process: the check runs in a child, this test binary filtered to
/// [`native_roots_child`], whose store holds only the test certificate.
#[cfg(feature = "native-roots")]
#[test]
fn native_roots_come_from_the_operating_system_store() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let cert = test_cert();
        let addr = serve_tls(&cert).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("store.pem");
        std::fs::write(&store, &cert.pem).expect("write the store");
        let port = addr.port().to_string();
        support::run_child(
            "tls::native_roots_child",
            &[
                (NATIVE_CHILD_PORT, port.as_ref()),
                ("SSL_CERT_FILE", store.as_os_str()),
            ],
            &["SSL_CERT_DIR"],
        )
        .await;
    });
}

/// The child half of [`native_roots_come_from_the_operating_system_store`]; does nothing when
/// run alone.
#[cfg(feature = "native-roots")]
#[tokio::test]
async fn native_roots_child() {
    let Some(port) = std::env::var_os(NATIVE_CHILD_PORT) else {
        return;
    };
    let port = port.to_str().expect("a port");
    let uri: http::Uri = format!("https://127.0.0.1:{port}/").parse().expect("uri");
    let native = support::builder()
        .webpki_roots(false)
        .native_roots(true)
        .build()
        .expect("the store from SSL_CERT_FILE is not empty");
    let response = native
        .post_form(&uri, HeaderMap::new(), &Form::new().text("userId", "u1"))
        .await
        .expect("trusted through the native store");
    assert_eq!(response.status(), 200);
    // Without the native store, the same certificate is refused.
    let webpki = support::builder().build().expect("builds");
    let err = webpki
        .post_form(&uri, HeaderMap::new(), &Form::new().text("userId", "u1"))
        .await
        .expect_err("not trusted by webpki roots");
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
}

/// An HTTPS server speaking only HTTP/2 that counts its connections and, when `one_each`,
/// shuts each connection down gracefully (GOAWAY) once it has answered one request.
async fn serve_h2(
    cert: &TestCert,
    one_each: bool,
) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let acceptor = acceptor(cert, &[b"h2"]);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let answered = Arc::new(tokio::sync::Notify::new());
                let notify = Arc::clone(&answered);
                let service = service_fn(move |request| {
                    let notify = Arc::clone(&notify);
                    async move {
                        let response = support::echo(request).await;
                        notify.notify_one();
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service);
                tokio::pin!(connection);
                tokio::select! {
                    _ = &mut connection => {}
                    () = answered.notified(), if one_each => {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
            });
        }
    });
    (addr, connections)
}

/// A transport trusting a fresh HTTP/2 test server (see `serve_h2`), its URL, and the server's
/// count of accepted connections.
async fn h2_origin(one_each: bool) -> (Transport, http::Uri, Arc<std::sync::atomic::AtomicUsize>) {
    let cert = test_cert();
    let (addr, connections) = serve_h2(&cert, one_each).await;
    let transport = support::builder()
        .add_root_certificate(Certificate::from_der(cert.der.to_vec()))
        .build()
        .expect("builds");
    let uri = format!("https://127.0.0.1:{}/", addr.port())
        .parse()
        .expect("uri");
    (transport, uri, connections)
}

#[tokio::test]
async fn http2_connections_are_shared_and_replaced_when_the_server_leaves() {
    for (one_each, expected) in [(false, 1), (true, 3)] {
        let (transport, uri, connections) = h2_origin(one_each).await;
        for i in 0..3 {
            let response = transport
                .post_form(&uri, HeaderMap::new(), &Form::new().text("userId", "u1"))
                .await
                .unwrap_or_else(|err| panic!("request {i} (one_each {one_each}): {err:?}"));
            assert_eq!(header(&response, SEEN_VERSION), "HTTP/2.0");
        }
        assert_eq!(
            connections.load(std::sync::atomic::Ordering::SeqCst),
            expected,
            "one_each {one_each}"
        );
    }
}

#[tokio::test]
async fn concurrent_first_requests_share_one_http2_connection() {
    let (transport, uri, connections) = h2_origin(false).await;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (transport, uri) = (transport.clone(), uri.clone());
        requests.spawn(async move {
            transport
                .post_form(&uri, HeaderMap::new(), &Form::new().text("userId", "u1"))
                .await
                .expect("sent")
        });
    }
    while let Some(response) = requests.join_next().await {
        assert_eq!(header(&response.expect("joins"), SEEN_VERSION), "HTTP/2.0");
    }
    // Accepted TCP connections, not only those that carried a request.
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}
