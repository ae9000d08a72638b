//! The log: from the API and as JSON over HTTP, with personal data left out.

use std::time::Duration;

use http_body_util::Full;
use kyc_sandbox::{Endpoint, FixedClock};

use crate::support::*;

#[tokio::test]
async fn log_over_http_shows_requests_and_callbacks_without_personal_data() {
    let (running, clock) = start().await;
    let receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "reject-log1", &receiver.url).await;
    status(&running, "unknown-log2").await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    wait(&running, |log| log.is_delivered("reject-log1")).await;

    let request = http::Request::get(running.log_url())
        .header("host", "x")
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    let answer = send(running.local_addr(), request).await.unwrap();
    assert_eq!(answer.status, 200);
    let text = String::from_utf8(answer.body.to_vec()).unwrap();
    assert!(!text.contains(FURIGANA), "no furigana in the log");
    assert!(
        !text.contains(kyc_sandbox::SCENARIO_FAIL_REASON),
        "no failReason in the log"
    );
    assert!(!text.contains(SECRET));
    let json = answer.json();
    let requests = json["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["endpoint"], "apply");
    assert_eq!(requests[0]["userId"], "reject-log1");
    assert_eq!(requests[0]["merchantNo"], MERCHANT);
    assert_eq!(requests[0]["httpStatus"], 200);
    assert_eq!(requests[0]["code"], "0000");
    assert_eq!(requests[0]["authenticationStatus"], "0");
    assert_eq!(requests[1]["endpoint"], "statusQuery");
    assert_eq!(requests[1]["code"], "S116");
    let callbacks = json["callbacks"].as_array().unwrap();
    assert_eq!(callbacks[0]["outcome"]["kind"], "delivered");
    assert_eq!(callbacks[0]["authenticationStatus"], "3");
    assert_eq!(callbacks[0]["url"], receiver.url);
    // The sequence is shared and increasing.
    assert!(callbacks[0]["seq"].as_u64().unwrap() > requests[1]["seq"].as_u64().unwrap());

    // Reading the log is not logged; clearing empties it.
    assert_eq!(running.log().requests.len(), 2);
    running.clear_log();
    assert!(running.log().requests.is_empty());
    assert!(running.log().callbacks.is_empty());
    running.shutdown().await;
}

#[tokio::test]
async fn log_is_bounded_and_can_be_turned_off() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).log_capacity(3).log_endpoint(false)).await;
    for i in 0..5 {
        status(&running, &format!("u{i}")).await;
    }
    let log = running.log();
    assert_eq!(log.requests.len(), 3);
    assert_eq!(log.requests[0].user_id.as_deref(), Some("u2"));
    assert!(
        log.requests
            .iter()
            .all(|r| r.endpoint == Endpoint::StatusQuery)
    );
    let request = http::Request::get(running.log_url())
        .header("host", "x")
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    send(running.local_addr(), request)
        .await
        .unwrap()
        .assert_refused("S100", 404);
    running.shutdown().await;
}

#[tokio::test]
async fn base_path_is_configurable_and_wildcard_addresses_show_loopback() {
    let clock = FixedClock::new(NOW);
    let running = builder(&clock)
        .base_path("/")
        .build()
        .unwrap()
        .start("0.0.0.0:0")
        .await
        .unwrap();
    let port = running.local_addr().port();
    assert_eq!(running.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(
        running.apply_url(),
        format!("http://127.0.0.1:{port}/v1/vexora/kycApplyFor")
    );
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let request = request(
        &running,
        &running.apply_url(),
        Some(MERCHANT),
        Some(&multipart_type()),
        multipart(&apply_fields("root-u", "https://m.example/cb", SECRET)),
    );
    assert_eq!(send(addr, request).await.unwrap().code(), "0000");
    running.shutdown().await;
}
