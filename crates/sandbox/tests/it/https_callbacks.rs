//! Callbacks delivered to `https://` receivers: trusted through a root given to the builder,
//! refused without it, accepted anyway only when explicitly told to.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kyc_sandbox::{CallbackOutcome, FixedClock};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

use crate::support::*;

/// A TLS callback receiver with a fresh rcgen certificate for `localhost`: answers `OK` and
/// sends every body down the channel. Returns its URL, the certificate PEM and the bodies.
async fn tls_receiver() -> (String, String, mpsc::UnboundedReceiver<Bytes>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}/kyc/callback",
        listener.local_addr().unwrap().port()
    );
    let (tx, bodies) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let tx = tx.clone();
                    async move {
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let _ = tx.send(body);
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                            b"OK",
                        ))))
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (url, pem, bodies)
}

#[tokio::test]
async fn https_callbacks_are_delivered_to_a_receiver_whose_root_is_given() {
    let (url, pem, mut bodies) = tls_receiver().await;
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock)
        .callback_native_roots(false)
        .callback_root_pem(pem))
    .await;
    apply(&running, "tls-cb1", &url).await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    let body: serde_json::Value = serde_json::from_slice(&bodies.recv().await.unwrap()).unwrap();
    assert_eq!(body["userId"], "tls-cb1");
    wait(&running, |log| log.is_delivered("tls-cb1")).await;
    let record = running
        .log()
        .callbacks_for("tls-cb1")
        .next()
        .unwrap()
        .clone();
    assert_eq!(record.http_status, Some(200));
    assert_eq!(record.answer_excerpt.as_deref(), Some("OK"));
    running.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_unless_explicitly_accepted() {
    let (url, _pem, mut bodies) = tls_receiver().await;
    let clock = FixedClock::new(NOW);
    let strict = run(builder(&clock).callback_native_roots(false)).await;
    apply(&strict, "tls-cb2", &url).await;
    clock.advance(Duration::from_secs(3));
    strict.tick();
    wait(&strict, |log| log.callbacks_for("tls-cb2").count() >= 2).await;
    assert!(
        strict
            .log()
            .callbacks_for("tls-cb2")
            .all(|r| r.outcome == CallbackOutcome::Unreachable)
    );
    assert!(bodies.try_recv().is_err());
    strict.shutdown().await;

    let clock = FixedClock::new(NOW);
    let lax = run(builder(&clock)
        .callback_native_roots(false)
        .danger_accept_invalid_callback_certs(true))
    .await;
    apply(&lax, "tls-cb3", &url).await;
    clock.advance(Duration::from_secs(3));
    lax.tick();
    wait(&lax, |log| log.is_delivered("tls-cb3")).await;
    assert!(bodies.recv().await.is_some());
    lax.shutdown().await;
}

#[test]
fn a_callback_root_that_is_not_a_certificate_is_a_config_error() {
    let clock = FixedClock::new(NOW);
    let err = builder(&clock)
        .callback_root_pem("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
        .build()
        .unwrap_err();
    assert!(err.is_config());
}
