//! Provider faults beyond plain error answers: cut responses, oversized bodies, wrong content,
//! and the total deadline. Each asserts the typed error and the number of attempts.

use std::time::Duration;

use kyc_client::Error;
use kyc_client::types::UserId;

use crate::support::{Answer, Provider, application, client_for, raw_provider};

#[tokio::test]
async fn a_response_cut_short_is_retried_for_status_only() {
    const CUT: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"msg\":\"succ";
    let (base_url, count) = raw_provider(CUT).await;
    let user = UserId::new("abc_100008").unwrap();
    let err = client_for(&base_url, 3).status(&user).await.unwrap_err();
    assert!(matches!(&err, Error::Transport(_)), "{err:?}");
    assert_eq!(*count.lock().unwrap(), 3);

    let (base_url, count) = raw_provider(CUT).await;
    let err = client_for(&base_url, 3)
        .apply(&application())
        .await
        .unwrap_err();
    assert!(err.request_may_have_been_sent());
    assert!(!err.is_retryable());
    assert_eq!(*count.lock().unwrap(), 1);
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_and_not_retried() {
    const HUGE: &[u8] = concat!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8000\r\n\r\n",
        "{\"msg\":\""
    )
    .as_bytes();
    let (base_url, count) = raw_provider(HUGE).await;
    let user = UserId::new("abc_100008").unwrap();
    let err = client_for(&base_url, 3).status(&user).await.unwrap_err();
    assert!(matches!(&err, Error::Transport(_)), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(*count.lock().unwrap(), 1);
}

#[tokio::test]
async fn html_instead_of_the_envelope() {
    // With a success status: undecodable, not retried, the excerpt kept for diagnosis.
    let provider = Provider::start(vec![Answer::Reply(
        200,
        "<html><body>maintenance</body></html>",
    )])
    .await;
    let err = provider.client(3).apply(&application()).await.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert!(decode.body_excerpt().contains("maintenance"));
    assert_eq!(provider.count(), 1);

    // From a gateway (502): a provider fault, retried.
    let provider = Provider::start(vec![Answer::Reply(502, "<html>bad gateway</html>")]).await;
    let err = provider.client(3).apply(&application()).await.unwrap_err();
    assert!(matches!(&err, Error::Api(api) if api.http_status() == 502 && api.code().is_none()));
    assert!(err.is_retryable());
    assert_eq!(provider.count(), 3);
}

#[tokio::test]
async fn a_deadline_nearer_than_one_attempt_ends_that_attempt() {
    // The built-in transport enforces the deadline with its own attempt timer: the error must
    // still say "deadline", not "attempt timed out".
    let provider = Provider::start(vec![Answer::Stall]).await;
    let client = kyc_client::Client::builder()
        .environment(kyc_client::Environment::custom(&provider.base_url).unwrap())
        .merchant_no("1027749636")
        .app_secret("s")
        .timeout(Duration::from_secs(60))
        .total_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let err = client.apply(&application()).await.unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("{err:?}")
    };
    assert!(transport.is_deadline(), "{err:?}");
    assert!(err.request_may_have_been_sent(), "{err:?}");
    assert_eq!(provider.count(), 1);
}

#[tokio::test]
async fn the_total_deadline_ends_the_retries() {
    let provider = Provider::start(vec![Answer::Stall]).await;
    let client = kyc_client::Client::builder()
        .environment(kyc_client::Environment::custom(&provider.base_url).unwrap())
        .merchant_no("1027749636")
        .app_secret("s")
        .timeout(Duration::from_millis(200))
        .total_timeout(Duration::from_millis(500))
        .retry(
            kyc_client::RetryPolicy::default()
                .with_max_attempts(100)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    let user = UserId::new("abc_100008").unwrap();
    let err = client.status(&user).await.unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("{err:?}")
    };
    assert!(transport.is_deadline(), "{err:?}");
    // 500 ms of 200 ms attempts: at most three started, far fewer than the hundred allowed.
    assert!((1..=3).contains(&provider.count()), "{}", provider.count());
}
