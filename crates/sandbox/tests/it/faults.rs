//! The `userId` fault scenarios, for client retry tests.

use std::time::Duration;

use kyc_sandbox::{Endpoint, FixedClock};

use crate::support::*;

const CALLBACK: &str = "http://127.0.0.1:9/kyc";

#[tokio::test]
async fn fault500x2_fails_twice_then_succeeds_without_storing_the_failures() {
    let (running, _clock) = start().await;
    for _ in 0..2 {
        let answer = apply(&running, "fault500x2-u1", CALLBACK).await;
        assert_eq!(answer.status, 500);
        assert!(
            serde_json::from_slice::<serde_json::Value>(&answer.body).is_err(),
            "plain text"
        );
        assert!(running.application(MERCHANT, "fault500x2-u1").is_none());
    }
    let answer = apply(&running, "fault500x2-u1", CALLBACK).await;
    assert_eq!(answer.code(), "0000");
    assert_eq!(answer.json()["data"]["message"], "application received");
    // The status query counts its own attempts.
    assert_eq!(status(&running, "fault500x2-u1").await.status, 500);
    assert_eq!(status(&running, "fault500x2-u1").await.status, 500);
    assert_eq!(status(&running, "fault500x2-u1").await.code(), "0000");
    let log = running.log();
    let faults: Vec<_> = log
        .requests_for("fault500x2-u1")
        .map(|r| (r.endpoint, r.http_status, r.fault.clone()))
        .collect();
    assert_eq!(faults.len(), 6);
    assert_eq!(
        faults[0],
        (Endpoint::Apply, Some(500), Some("fault500".into()))
    );
    assert_eq!(faults[2], (Endpoint::Apply, Some(200), None));
    running.shutdown().await;
}

#[tokio::test]
async fn fault8000_and_fault5000_answer_the_envelope_with_http_200() {
    let (running, _clock) = start().await;
    for (user, code) in [("fault8000-u", "8000"), ("fault5000-u", "5000")] {
        for _ in 0..3 {
            let answer = apply(&running, user, CALLBACK).await;
            assert_eq!(answer.status, 200);
            let json = answer.json();
            assert_eq!(json["code"], code);
            assert_eq!(json["success"], false);
            assert!(json["data"].is_null());
        }
    }
    running.shutdown().await;
}

#[tokio::test]
async fn drop_closes_the_connection_after_storing_the_application() {
    let (running, _clock) = start().await;
    let request = request(
        &running,
        &running.apply_url(),
        Some(MERCHANT),
        Some(&multipart_type()),
        multipart(&apply_fields("dropx1-u2", CALLBACK, SECRET)),
    );
    let error = send(running.local_addr(), request).await.unwrap_err();
    assert!(
        error.is_incomplete_message() || error.is_closed(),
        "{error:?}"
    );
    // The provider may have stored it before the connection went: a retry sees it.
    assert!(running.application(MERCHANT, "dropx1-u2").is_some());
    let retry = apply(&running, "dropx1-u2", CALLBACK).await.json();
    assert_eq!(retry["data"]["message"], "application already received");
    let first = running
        .log()
        .requests_for("dropx1-u2")
        .next()
        .cloned()
        .unwrap();
    assert_eq!(first.http_status, None);
    assert_eq!(first.fault.as_deref(), Some("drop"));
    running.shutdown().await;
}

#[tokio::test]
async fn faults_chain_in_order() {
    let (running, _clock) = start().await;
    let user = "dropx1-fault8000x1-reject-u3";
    let request = request(
        &running,
        &running.apply_url(),
        Some(MERCHANT),
        Some(&multipart_type()),
        multipart(&apply_fields(user, CALLBACK, SECRET)),
    );
    assert!(send(running.local_addr(), request).await.is_err());
    assert_eq!(apply(&running, user, CALLBACK).await.code(), "8000");
    assert_eq!(apply(&running, user, CALLBACK).await.code(), "0000");
    assert_eq!(
        running.application(MERCHANT, user).unwrap().outcome(),
        kyc_sandbox::Outcome::Reject
    );
    running.shutdown().await;
}

#[tokio::test]
async fn slow_answers_after_the_scaled_delay() {
    let clock = FixedClock::new(NOW);
    let running = run(
        builder(&clock).slow_delay(Duration::from_secs(1000)), // 1 s at the tests' time scale of 0.001
    )
    .await;
    let started = stopwatch();
    assert_eq!(apply(&running, "slowx1-u4", CALLBACK).await.code(), "0000");
    assert!(started.elapsed() >= Duration::from_millis(1000));
    // A client with a shorter timeout gives up.
    let request = request(
        &running,
        &running.status_url(),
        Some(MERCHANT),
        Some("application/json"),
        status_json("slowx1-u4", SECRET),
    );
    let timed_out = tokio::time::timeout(
        Duration::from_millis(50),
        send(running.local_addr(), request),
    )
    .await;
    assert!(timed_out.is_err());
    // Its second status query is fast.
    let started = stopwatch();
    assert_eq!(status(&running, "slowx1-u4").await.code(), "0000");
    assert!(started.elapsed() < Duration::from_millis(1000));
    running.shutdown().await;
}
