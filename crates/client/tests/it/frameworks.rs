//! The callback service mounted in other servers: axum 0.8 through `route_service` (no glue),
//! the `VerifiedCallback` extractor (feature `axum`), and the time limit that holds wherever
//! the service is mounted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use http::StatusCode;
use kyc_client::types::{AuthenticationStatus, Callback, Timestamp, UserId};
use kyc_client::{CallbackService, Handled, SigningKey};
use tokio::net::TcpListener;

use crate::support::{SECRET, post};

fn signed_callback(secret: &str) -> Vec<u8> {
    Callback::new(
        UserId::new("79x7p10nh4xd121m").unwrap(),
        AuthenticationStatus::Approved,
        None,
        Timestamp::from_millis(1_728_609_277_476),
    )
    .to_signed_json(&SigningKey::new(secret).unwrap())
}

/// Serves `router` on loopback; the URL of `path` on it.
async fn serve(router: Router, path: &str) -> http::Uri {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{path}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test]
async fn axum_mounts_the_service_with_route_service() {
    let stored = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&stored);
    let service = CallbackService::with_key(SigningKey::new(SECRET).unwrap(), move |callback| {
        let store = Arc::clone(&store);
        async move {
            store
                .lock()
                .unwrap()
                .push(callback.user_id().as_str().to_owned());
            Ok::<(), std::io::Error>(())
        }
    });
    let router = Router::new().route_service("/kyc/callback", service);
    let url = serve(router, "/kyc/callback").await;

    let (status, body) = post(&url, signed_callback(SECRET)).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"OK"[..]));
    assert_eq!(*stored.lock().unwrap(), ["79x7p10nh4xd121m"]);

    let (status, body) = post(&url, signed_callback("another secret")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_ne!(&body[..], b"OK");
    assert_eq!(stored.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_slow_handler_is_answered_before_the_providers_window_closes() {
    let service = CallbackService::with_key(SigningKey::new(SECRET).unwrap(), |_: Callback| {
        std::future::pending::<Result<(), String>>()
    });
    let request = http::Request::post("/kyc/callback")
        .body(http_body_util::Full::new(Bytes::from(signed_callback(
            SECRET,
        ))))
        .unwrap();
    let handling = service.handle(request);
    tokio::pin!(handling);
    // Not before the default limit of 8 s...
    let early = tokio::time::timeout(Duration::from_millis(7_999), &mut handling).await;
    assert!(early.is_err(), "answered before the limit");
    // ...and inside the provider's 10 s.
    let response = tokio::time::timeout(Duration::from_secs(2), &mut handling)
        .await
        .expect("answered within the provider's window");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_ends_is_answered_408() {
    let service =
        CallbackService::with_key(SigningKey::new(SECRET).unwrap(), |_: Callback| async {
            Ok::<(), String>(())
        })
        .request_timeout(Duration::from_secs(2));
    let request = http::Request::post("/kyc/callback").body(Silent).unwrap();
    let response = service.handle(request).await;
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
}

/// A body whose sender never sends: a slow-loris client after its head.
struct Silent;

impl http_body::Body for Silent {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test]
async fn a_handler_may_report_a_duplicate_and_still_answers_ok() {
    let service =
        CallbackService::with_key(SigningKey::new(SECRET).unwrap(), |_: Callback| async {
            Ok::<_, String>(Handled::Duplicate)
        });
    let request = http::Request::post("/kyc/callback")
        .body(http_body_util::Full::new(Bytes::from(signed_callback(
            SECRET,
        ))))
        .unwrap();
    assert_eq!(service.handle(request).await.status(), StatusCode::OK);
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn the_extractor_verifies_with_the_key_from_state() {
    use axum::routing::post as on_post;
    use kyc_client::{CallbackReply, VerifiedCallback};

    async fn handler(VerifiedCallback(callback): VerifiedCallback) -> CallbackReply {
        assert!(callback.status().is_approved());
        CallbackReply::OK
    }
    let router = Router::new()
        .route("/cb", on_post(handler))
        .with_state(SigningKey::new(SECRET).unwrap());
    let url = serve(router, "/cb").await;

    let (status, body) = post(&url, signed_callback(SECRET)).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"OK"[..]));

    let (status, body) = post(&url, signed_callback("another secret")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(&body[..], b"signature does not verify");

    let (status, body) = post(&url, b"not json".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(&body[..], b"malformed callback");

    let (status, _) = post(&url, vec![b' '; 200 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}
