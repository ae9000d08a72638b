//! What is retried, how often, and what is not. Retry counts are asserted from what the
//! scripted provider received.

use kyc_client::Error;
use kyc_client::types::UserId;

use crate::support::{ACCEPTED, Answer, Provider, STATUS_APPROVED, SYSTEM_ERROR, application};

#[tokio::test]
async fn http_500_is_retried_until_success() {
    let provider = Provider::start(vec![
        Answer::Reply(500, "oops"),
        Answer::Reply(503, "<html>busy</html>"),
        Answer::Reply(200, ACCEPTED),
    ])
    .await;
    let data = provider
        .client(4)
        .apply(&application())
        .await
        .expect("third attempt succeeds");
    assert_eq!(data.authentication_status().as_str(), "0");
    assert_eq!(provider.count(), 3);
}

#[tokio::test]
async fn code_8000_is_retried_and_reported_when_attempts_run_out() {
    let provider = Provider::start(vec![Answer::Reply(200, SYSTEM_ERROR)]).await;
    let err = provider.client(3).apply(&application()).await.unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.code().map(|code| code.as_str()), Some("8000"));
    assert!(err.is_retryable());
    assert_eq!(provider.count(), 3);
}

#[tokio::test]
async fn status_is_retried_after_dropped_connections() {
    let provider = Provider::start(vec![
        Answer::Drop,
        Answer::Drop,
        Answer::Reply(200, STATUS_APPROVED),
    ])
    .await;
    let user = UserId::new("abc_100008").unwrap();
    let data = provider
        .client(4)
        .status(&user)
        .await
        .expect("third attempt succeeds");
    assert!(data.authentication_status().is_approved());
    assert_eq!(provider.count(), 3);
}

#[tokio::test]
async fn apply_is_not_retried_once_it_may_have_reached_the_provider() {
    let provider = Provider::start(vec![Answer::Drop, Answer::Reply(200, ACCEPTED)]).await;
    let err = provider.client(4).apply(&application()).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.request_may_have_been_sent());
    assert!(!err.is_retryable());
    assert_eq!(provider.count(), 1);
}

#[tokio::test]
async fn status_timeouts_are_retried_apply_timeouts_are_not() {
    let provider = Provider::start(vec![Answer::Stall]).await;
    let user = UserId::new("abc_100008").unwrap();
    let err = provider.client(3).status(&user).await.unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("{err:?}")
    };
    assert!(transport.is_timeout());
    assert_eq!(provider.count(), 3);

    let provider = Provider::start(vec![Answer::Stall]).await;
    let err = provider.client(3).apply(&application()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(t) if t.is_timeout()),
        "{err:?}"
    );
    assert_eq!(provider.count(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_and_typed() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = kyc_client::Client::builder()
        .environment(
            kyc_client::Environment::custom(&format!("http://127.0.0.1:{port}/japan")).unwrap(),
        )
        .merchant_no("1027749636")
        .app_secret("s")
        .retry(
            kyc_client::RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(
                    std::time::Duration::from_millis(1),
                    std::time::Duration::from_millis(2),
                ),
        )
        .build()
        .unwrap();
    let err = client.apply(&application()).await.unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("{err:?}")
    };
    assert!(transport.is_connect());
    assert!(!err.request_may_have_been_sent());
}

#[tokio::test]
async fn business_errors_are_not_retried() {
    let provider = Provider::start(vec![Answer::Reply(
        200,
        r#"{"msg":"failed","code":"00029","success":false,"data":null}"#,
    )])
    .await;
    let err = provider.client(4).apply(&application()).await.unwrap_err();
    assert!(matches!(&err, Error::Api(api) if api.code().map(|c| c.as_str()) == Some("00029")));
    assert!(!err.is_retryable());
    assert_eq!(provider.count(), 1);
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error_with_an_excerpt() {
    let provider =
        Provider::start(vec![Answer::Reply(200, r#"{"msg":"success","code":"00"#)]).await;
    let err = provider.client(4).apply(&application()).await.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(decode.body_excerpt(), r#"{"msg":"success","code":"00"#);
    assert_eq!(provider.count(), 1);
}

#[tokio::test]
async fn invalid_file_part_is_refused_before_sending() {
    let provider = Provider::start(vec![Answer::Reply(200, ACCEPTED)]).await;
    let part = kyc_client::types::FilePart::new(
        "idFront",
        "front.png",
        "image/png",
        kyc_client::types::FileSource::Path("/nonexistent/front.png".into()),
    )
    .unwrap();
    let err = provider
        .client(4)
        .apply(&application().with_file(part))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Request(_)), "{err:?}");
    assert!(!err.request_may_have_been_sent());
    assert_eq!(provider.count(), 0);
}

#[tokio::test]
async fn what_is_sent_is_signed_and_carries_the_merchant_number() {
    let provider = Provider::start(vec![Answer::Reply(200, ACCEPTED)]).await;
    provider.client(1).apply(&application()).await.unwrap();
    let received = &provider.received()[0];
    assert_eq!(received.headers["merchantNo"], "1027749636");
    let content_type = received.headers["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("multipart/form-data; boundary="));
    assert_eq!(
        received.headers["content-length"],
        received.body.len().to_string().as_str()
    );
    let body = String::from_utf8(received.body.to_vec()).unwrap();
    // The 2.0 page's example, stamped with its own timestamp: its signature under the test secret.
    assert!(body.contains("1774925553256"));
    assert!(body.contains("a7d716ba378b31496f33c18807b4d4f5"), "{body}");
}
