//! The ledger behind `kyc_client::CallbackService`: `OK` only after commit, `5xx` otherwise.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use kyc_client::{CallbackService, Client};
use kyc_sign::SigningKey;

use crate::support::{Db, callback, user};

both_backends!(ok_only_after_commit_and_5xx_for_a_failed_write);

const SECRET: &str = "TEST_SECRET_DO_NOT_USE";

async fn post<H, F, E>(service: &CallbackService<H>, body: &[u8]) -> (u16, String)
where
    H: Fn(kyc_proto::Callback) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let request = http::Request::post("/kyc/callback")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("a valid request");
    let response = service.handle(request).await;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("in memory")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn ok_only_after_commit_and_5xx_for_a_failed_write(db: &Db) {
    let client = Client::builder()
        .merchant_no("1027749636")
        .app_secret(SECRET)
        .build()
        .expect("a client");
    let service = CallbackService::new(&client, db.ledger().callback_handler());
    let key = SigningKey::new(SECRET).expect("a key");
    let u = user("receiver");
    let body = callback(&u, "3", Some("blurred"), 1_728_609_277_476).to_signed_json(&key);

    db.execute("ALTER TABLE kyc_user RENAME TO kyc_user_away")
        .await;
    let (status, answer) = post(&service, &body).await;
    assert!(status >= 500, "{status}");
    assert_ne!(answer, "OK");
    db.execute("ALTER TABLE kyc_user_away RENAME TO kyc_user")
        .await;
    assert!(db.ledger().history(&u).await.unwrap().is_empty());

    // The provider's retries: stored once, `OK` each time.
    for _ in 0..2 {
        assert_eq!(post(&service, &body).await, (200, "OK".to_owned()));
    }
    assert_eq!(db.ledger().history(&u).await.unwrap().len(), 1);
}
