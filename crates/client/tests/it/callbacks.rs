//! The callback service over loopback: `OK` only after the handler succeeded, typed refusals
//! for everything else.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::StatusCode;
use kyc_client::types::{AuthenticationStatus, Callback};
use kyc_client::{CallbackService, serve_callbacks};
use kyc_sign::SigningKey;
use kyc_test_support::callbacks::signed;
use tokio::net::TcpListener;

use crate::support::{SECRET, post};

struct Receiver {
    url: http::Uri,
    stored: Arc<Mutex<Vec<(String, String)>>>,
    calls: Arc<Mutex<u32>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A receiver whose handler fails its first `failures` calls, then stores.
async fn receiver(failures: u32) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/kyc/callback", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let stored = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(Mutex::new(0));
    let (store, count) = (Arc::clone(&stored), Arc::clone(&calls));
    let key = SigningKey::new(SECRET).unwrap();
    let service = CallbackService::with_key(key, move |callback: Callback| {
        let (store, count) = (Arc::clone(&store), Arc::clone(&count));
        async move {
            let call = {
                let mut count = count.lock().unwrap();
                *count += 1;
                *count
            };
            if call <= failures {
                return Err("database unavailable");
            }
            store.lock().unwrap().push((
                callback.user_id().as_str().to_owned(),
                callback.status().as_str().to_owned(),
            ));
            Ok(())
        }
    });
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(serve_callbacks(listener, service, async {
        let _ = stopped.await;
    }));
    Receiver {
        url,
        stored,
        calls,
        stop: Some(stop),
        server,
    }
}

fn signed_callback(secret: &str) -> Vec<u8> {
    signed(
        "79x7p10nh4xd121m",
        AuthenticationStatus::Rejected,
        Some("The file and type do not match"),
        secret,
    )
}

#[tokio::test]
async fn ok_only_after_the_handler_succeeded() {
    let mut receiver = receiver(1).await;
    let (status, body) = post(&receiver.url, signed_callback(SECRET)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_ne!(&body[..], b"OK", "a failed handler must not acknowledge");
    assert!(receiver.stored.lock().unwrap().is_empty());

    // The provider's retry resends the same body.
    let (status, body) = post(&receiver.url, signed_callback(SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"OK");
    assert_eq!(
        *receiver.stored.lock().unwrap(),
        [("79x7p10nh4xd121m".to_owned(), "3".to_owned())]
    );
    assert_eq!(*receiver.calls.lock().unwrap(), 2);

    receiver.stop.take().unwrap().send(()).unwrap();
    receiver.server.await.unwrap().unwrap();
}

#[tokio::test]
async fn forged_and_malformed_callbacks_are_refused_without_reaching_the_handler() {
    let receiver = receiver(0).await;
    let (status, body) = post(&receiver.url, signed_callback("another secret")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_ne!(&body[..], b"OK");

    for garbage in [&b"not json"[..], b"{}", b"{\"userId\":1}", b"\xff\xfe", b""] {
        let (status, body) = post(&receiver.url, garbage.to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{garbage:?}");
        assert_ne!(&body[..], b"OK");
    }
    assert_eq!(*receiver.calls.lock().unwrap(), 0);
}

#[tokio::test]
async fn oversized_bodies_and_other_methods_are_refused() {
    let receiver = receiver(0).await;
    let (status, _) = post(&receiver.url, vec![b' '; 200 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let service =
        CallbackService::with_key(SigningKey::new(SECRET).unwrap(), |_: Callback| async {
            Ok::<(), &'static str>(())
        });
    let request = http::Request::get("/")
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    assert_eq!(
        service.handle(request).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(*receiver.calls.lock().unwrap(), 0);
}
