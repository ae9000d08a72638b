//! The signed callback: delivered on a final status, retried until a plain `OK`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use kyc_proto::{AuthenticationStatus, Callback};
use kyc_sandbox::{CallbackOutcome, FixedClock, PROVIDER_RETRY_SCHEDULE, SCENARIO_FAIL_REASON};
use kyc_sign::SigningKey;

use crate::support::*;

#[tokio::test]
async fn approved_callback_is_signed_and_delivered_once() {
    let (running, clock) = start().await;
    let mut receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "approve-cb1", &receiver.url).await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    let body = tokio::time::timeout(Duration::from_secs(10), receiver.bodies.recv())
        .await
        .unwrap()
        .unwrap();
    let key = SigningKey::new(SECRET).unwrap();
    let callback = Callback::verify(&body, &key).unwrap();
    assert_eq!(callback.user_id().as_str(), "approve-cb1");
    assert_eq!(callback.status(), &AuthenticationStatus::Approved);
    assert_eq!(callback.fail_reason(), None);
    assert_eq!(callback.timestamp().as_millis(), NOW + 3000);
    // The other merchant's secret does not verify it.
    assert!(Callback::verify(&body, &SigningKey::new(OTHER_SECRET).unwrap()).is_err());
    wait(&running, |log| log.is_delivered("approve-cb1")).await;
    // Later ticks and queries send nothing more.
    clock.advance(Duration::from_secs(60));
    running.tick();
    assert_eq!(
        status(&running, "approve-cb1").await.json()["data"]["authenticationStatus"],
        "2"
    );
    let log = running.log();
    let attempts: Vec<_> = log.callbacks_for("approve-cb1").collect();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].attempt, 1);
    assert_eq!(attempts[0].authentication_status, "2");
    assert_eq!(attempts[0].next_retry_after_ms, None);
    assert_eq!(receiver.hits.load(Ordering::SeqCst), 1);
    running.shutdown().await;
}

#[tokio::test]
async fn rejected_callback_carries_the_fail_reason() {
    let (running, clock) = start().await;
    let mut receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "reject-cb2", &receiver.url).await;
    clock.advance(Duration::from_secs(3));
    // The status query itself decides the review and starts the callback.
    assert_eq!(
        status(&running, "reject-cb2").await.json()["data"]["authenticationStatus"],
        "3"
    );
    let body = tokio::time::timeout(Duration::from_secs(10), receiver.bodies.recv())
        .await
        .unwrap()
        .unwrap();
    let callback = Callback::verify(&body, &SigningKey::new(SECRET).unwrap()).unwrap();
    assert_eq!(callback.status(), &AuthenticationStatus::Rejected);
    assert_eq!(callback.fail_reason(), Some(SCENARIO_FAIL_REASON));
    running.shutdown().await;
}

#[tokio::test]
async fn retries_until_a_plain_ok() {
    let (running, clock) = start().await;
    // 500, then a JSON "OK", then lower-case "ok", then "OK" with a newline, then OK.
    let mut receiver = receiver(vec![
        (500, "OK"),
        (200, "{\"result\":\"OK\"}"),
        (200, "ok"),
        (200, "OK\n"),
        (200, "OK"),
    ])
    .await;
    apply(&running, "retry-cb3", &receiver.url).await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    wait(&running, |log| log.is_delivered("retry-cb3")).await;
    let log = running.log();
    let outcomes: Vec<_> = log
        .callbacks_for("retry-cb3")
        .map(|r| r.outcome.clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            CallbackOutcome::HttpStatus { status: 500 },
            CallbackOutcome::WrongBody,
            CallbackOutcome::WrongBody,
            CallbackOutcome::WrongBody,
            CallbackOutcome::Delivered,
        ]
    );
    let delays: Vec<_> = log
        .callbacks_for("retry-cb3")
        .map(|r| r.next_retry_after_ms)
        .collect();
    assert_eq!(
        delays,
        [Some(2_000), Some(5_000), Some(10_000), Some(30_000), None]
    );
    // Every retry resends the same body.
    let mut bodies = Vec::new();
    while let Ok(body) = receiver.bodies.try_recv() {
        bodies.push(body);
    }
    assert_eq!(bodies.len(), 5);
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    running.shutdown().await;
}

#[tokio::test]
async fn gives_up_after_the_providers_eight_retries() {
    let clock = FixedClock::new(NOW);
    // 3 h becomes 108 ms: the whole schedule runs in well under a second.
    let running = run(builder(&clock).time_scale(0.00001)).await;
    let receiver = receiver(vec![(503, "busy")]).await;
    apply(&running, "giveup-cb4", &receiver.url).await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    wait(&running, |log| {
        log.callbacks_for("giveup-cb4")
            .any(|r| r.next_retry_after_ms.is_none())
    })
    .await;
    let log = running.log();
    let attempts: Vec<_> = log.callbacks_for("giveup-cb4").collect();
    assert_eq!(attempts.len(), 1 + PROVIDER_RETRY_SCHEDULE.len());
    assert!(
        attempts
            .iter()
            .all(|r| r.outcome == CallbackOutcome::HttpStatus { status: 503 })
    );
    assert_eq!(attempts.last().unwrap().attempt, 9);
    assert_eq!(receiver.hits.load(Ordering::SeqCst), 9);
    running.shutdown().await;
}

#[tokio::test]
async fn unreachable_receivers_over_http_and_https_are_logged_and_retried() {
    let (running, clock) = start().await;
    // A port that was just free: connection refused.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", closed.local_addr().unwrap());
    drop(closed);
    apply(&running, "unreach-cb5", &url).await;
    apply(&running, "https-cb6", "https://127.0.0.1:9/cb").await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    wait(&running, |log| {
        log.callbacks_for("unreach-cb5").count() >= 2 && log.callbacks_for("https-cb6").count() >= 2
    })
    .await;
    let log = running.log();
    assert_eq!(
        log.callbacks_for("unreach-cb5").next().unwrap().outcome,
        CallbackOutcome::Unreachable
    );
    // Callbacks to `https://` are delivered now (they were logged as unsupported): nothing
    // listens on port 9, so it is unreachable and retried like a plain one.
    let https = log.callbacks_for("https-cb6").next().unwrap();
    assert_eq!(https.outcome, CallbackOutcome::Unreachable);
    assert_eq!(https.next_retry_after_ms, Some(2000));
    running.shutdown().await;
}

#[tokio::test]
async fn a_receiver_slower_than_the_callback_timeout_is_retried() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).callback_timeout(Duration::from_millis(100))).await;
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", silent.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    apply(&running, "timeout-cb7", &url).await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    wait(&running, |log| {
        log.callbacks_for("timeout-cb7").count() >= 2
    })
    .await;
    assert!(
        running
            .log()
            .callbacks_for("timeout-cb7")
            .all(|r| r.outcome == CallbackOutcome::TimedOut)
    );
    running.shutdown().await;
    holder.abort();
}
