//! Accepted applications, status progression on the injected clock, re-applying, merchants.

use std::time::Duration;

use kyc_proto::AuthenticationStatus;
use kyc_sandbox::{Outcome, SCENARIO_FAIL_REASON};

use crate::support::*;

const CALLBACK: &str = "https://merchant.example.com/api/kyc/callback";

#[tokio::test]
async fn accepted_apply_answers_pending_in_the_documented_envelope() {
    let (running, _clock) = start().await;
    let answer = apply(&running, "abc_100008", CALLBACK).await;
    assert_eq!(answer.status, 200);
    let json = answer.json();
    assert_eq!(json["code"], "0000");
    assert_eq!(json["success"], true);
    assert_eq!(json["msg"], "success");
    assert_eq!(json["timestamp"], NOW.to_string());
    assert_eq!(json["data"]["userId"], "abc_100008");
    assert_eq!(json["data"]["authenticationStatus"], "0");
    assert!(json["data"]["message"].is_string());
    let review = running.application(MERCHANT, "abc_100008").unwrap();
    assert_eq!(review.status(), &AuthenticationStatus::Pending);
    assert_eq!(review.outcome(), Outcome::Approve);
    assert_eq!(review.callback_url(), CALLBACK);
    assert_eq!(review.applied_at_millis(), NOW);
    running.shutdown().await;
}

#[tokio::test]
async fn the_providers_example_request_is_accepted() {
    // The fields of the curl example on the 2.0 page, in its order (`sign` before `timestamp`).
    let (running, _clock) = start().await;
    let now = NOW.to_string();
    let signature = sign(
        &signed(
            &[
                ("userId", "abc_100008"),
                ("callBackUrl", CALLBACK),
                ("usernameFurigana", "テスト014"),
                ("timestamp", &now),
            ],
            SECRET,
        )[..4],
        SECRET,
    );
    let fields: Vec<(String, String)> = [
        ("userId", "abc_100008"),
        ("callBackUrl", CALLBACK),
        ("usernameFurigana", "テスト014"),
        ("sign", signature.as_str()),
        ("timestamp", now.as_str()),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    let answer = apply_raw(&running, MERCHANT, &fields).await;
    assert_eq!(answer.code(), "0000", "{:?}", answer.json());
    running.shutdown().await;
}

#[tokio::test]
async fn status_moves_pending_under_review_approved_on_the_clock() {
    let (running, clock) = start().await;
    apply(&running, "approve-u1", CALLBACK).await;
    assert_eq!(
        status(&running, "approve-u1").await.json()["data"]["authenticationStatus"],
        "0"
    );
    clock.advance(Duration::from_millis(999));
    assert_eq!(
        status(&running, "approve-u1").await.json()["data"]["authenticationStatus"],
        "0"
    );
    clock.advance(Duration::from_millis(1));
    // The request timestamp is NOW; 1 s is well inside the 5-minute window.
    let json = status(&running, "approve-u1").await.json();
    assert_eq!(json["data"]["authenticationStatus"], "1");
    assert_eq!(json["data"]["userId"], "approve-u1");
    clock.advance(Duration::from_secs(2));
    let json = status(&running, "approve-u1").await.json();
    assert_eq!(json["code"], "0000");
    assert_eq!(json["data"]["authenticationStatus"], "2");
    assert!(json["data"].get("failReason").is_none());
    let review = running.application(MERCHANT, "approve-u1").unwrap();
    assert_eq!(review.decided_at_millis(), Some(NOW + 3000));
    running.shutdown().await;
}

#[tokio::test]
async fn rejected_has_a_fail_reason_and_review_and_pending_stay() {
    let (running, clock) = start().await;
    for user in ["reject-u2", "review-u3", "pending-u4"] {
        assert_eq!(apply(&running, user, CALLBACK).await.code(), "0000");
    }
    clock.advance(Duration::from_secs(60));
    running.tick();
    let rejected = status(&running, "reject-u2").await.json();
    assert_eq!(rejected["data"]["authenticationStatus"], "3");
    assert_eq!(rejected["data"]["failReason"], SCENARIO_FAIL_REASON);
    assert_eq!(
        status(&running, "review-u3").await.json()["data"]["authenticationStatus"],
        "1"
    );
    assert_eq!(
        status(&running, "pending-u4").await.json()["data"]["authenticationStatus"],
        "0"
    );
    let statuses: Vec<_> = running
        .applications()
        .iter()
        .map(|review| (review.user_id().to_owned(), review.status().clone()))
        .collect();
    assert!(statuses.contains(&("reject-u2".into(), AuthenticationStatus::Rejected)));
    assert!(
        !format!("{:?}", running.application(MERCHANT, "reject-u2").unwrap())
            .contains(SCENARIO_FAIL_REASON),
        "Debug redacts the failReason"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn background_reviewer_moves_reviews_without_tick() {
    let clock = kyc_sandbox::FixedClock::new(NOW);
    let running = run(builder(&clock).review_tick(Duration::from_millis(5))).await;
    apply(&running, "u-bg", CALLBACK).await;
    clock.advance(Duration::from_secs(3));
    tokio::time::timeout(Duration::from_secs(10), async {
        while running.application(MERCHANT, "u-bg").unwrap().status()
            != &AuthenticationStatus::Approved
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    running.shutdown().await;
}

#[tokio::test]
async fn applying_again_answers_the_open_application_and_replaces_a_rejected_one() {
    let (running, clock) = start().await;
    apply(&running, "reject-again", CALLBACK).await;
    clock.advance(Duration::from_secs(1));
    let again = apply(&running, "reject-again", CALLBACK).await.json();
    assert_eq!(again["data"]["authenticationStatus"], "1");
    assert_eq!(again["data"]["message"], "application already received");
    let applied_at = running
        .application(MERCHANT, "reject-again")
        .unwrap()
        .applied_at_millis();
    assert_eq!(applied_at, NOW);
    clock.advance(Duration::from_secs(2));
    running.tick();
    // A new timestamp is needed: the clock moved, the old one is still fresh (3 s).
    let fresh = apply(&running, "reject-again", CALLBACK).await.json();
    assert_eq!(fresh["data"]["authenticationStatus"], "0");
    assert_eq!(fresh["data"]["message"], "application received");
    let replaced = running.application(MERCHANT, "reject-again").unwrap();
    assert_eq!(replaced.applied_at_millis(), NOW + 3000);
    assert_eq!(replaced.fail_reason(), None);
    running.shutdown().await;
}

#[tokio::test]
async fn merchants_have_their_own_secrets_and_applications() {
    let (running, _clock) = start().await;
    let other = apply_raw(
        &running,
        OTHER_MERCHANT,
        &apply_fields("shared-id", CALLBACK, OTHER_SECRET),
    )
    .await;
    assert_eq!(other.code(), "0000");
    // The first merchant's secret does not sign for the second merchant.
    let crossed = apply_raw(
        &running,
        OTHER_MERCHANT,
        &apply_fields("x", CALLBACK, SECRET),
    )
    .await;
    crossed.assert_refused("S103", 401);
    // The second merchant's application is not the first merchant's.
    status(&running, "shared-id")
        .await
        .assert_refused("S116", 404);
    assert!(running.application(OTHER_MERCHANT, "shared-id").is_some());
    assert!(running.application(MERCHANT, "shared-id").is_none());
    running.shutdown().await;
}

#[tokio::test]
async fn extra_text_fields_are_signed_and_file_parts_are_not() {
    let (running, _clock) = start().await;
    let mut fields = signed(
        &[
            ("userId", "extra-fields"),
            ("callBackUrl", CALLBACK),
            ("usernameFurigana", FURIGANA),
            ("timestamp", &NOW.to_string()),
            ("nationality", "JP"),
        ],
        SECRET,
    );
    let mut body = multipart(&fields);
    // Splice a file part in before the closing boundary: it is not part of the signature.
    let closing = format!("--{BOUNDARY}--\r\n");
    body.truncate(body.len() - closing.len());
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"idFront\"; filename=\"id.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(b"\x89PNG\r\n\x1a\n\xff\x00");
    body.extend_from_slice(format!("\r\n{closing}").as_bytes());
    let request = request(
        &running,
        &running.apply_url(),
        Some(MERCHANT),
        Some(&multipart_type()),
        body,
    );
    let answer = send(running.local_addr(), request).await.unwrap();
    assert_eq!(answer.code(), "0000", "{:?}", answer.json());
    // The same extra field, unsigned, is refused.
    fields.insert(0, ("address".into(), "Tokyo".into()));
    apply_raw(&running, MERCHANT, &fields)
        .await
        .assert_refused("S103", 401);
    running.shutdown().await;
}

#[tokio::test]
async fn a_clock_moving_backwards_never_moves_a_review_back() {
    let (running, clock) = start().await;
    apply(&running, "u-back", CALLBACK).await;
    clock.advance(Duration::from_secs(2));
    running.tick();
    assert_eq!(
        running.application(MERCHANT, "u-back").unwrap().status(),
        &AuthenticationStatus::UnderReview
    );
    clock.set(NOW);
    running.tick();
    assert_eq!(
        status(&running, "u-back").await.json()["data"]["authenticationStatus"],
        "1"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_applications_are_all_recorded() {
    let (running, _clock) = start().await;
    let running = std::sync::Arc::new(running);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let running = std::sync::Arc::clone(&running);
            tokio::spawn(
                async move { apply(&running, &format!("conc-{i}"), CALLBACK).await.code() },
            )
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "0000");
    }
    assert_eq!(running.applications().len(), 40);
    assert_eq!(running.log().requests.len(), 40);
    let seqs: std::collections::BTreeSet<u64> =
        running.log().requests.iter().map(|r| r.seq).collect();
    assert_eq!(seqs.len(), 40);
}

#[tokio::test]
async fn shutdown_lets_an_answer_in_progress_finish_then_refuses_connections() {
    let clock = kyc_sandbox::FixedClock::new(NOW);
    let running = run(
        builder(&clock).slow_delay(Duration::from_secs(200)), // 200 ms at the tests' time scale
    )
    .await;
    let addr = running.local_addr();
    let request = request(
        &running,
        &running.apply_url(),
        Some(MERCHANT),
        Some(&multipart_type()),
        multipart(&apply_fields("slowx1-shutdown", CALLBACK, SECRET)),
    );
    let in_flight = tokio::spawn(send(addr, request));
    // Wait until the sandbox has decided the answer (it is logged before the delay).
    wait(&running, |log| !log.requests.is_empty()).await;
    running.shutdown().await;
    let answer = in_flight.await.unwrap().unwrap();
    assert_eq!(answer.code(), "0000");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<kyc_sandbox::Running>();
    assert_send_sync::<kyc_sandbox::Sandbox>();
    assert_send_sync::<kyc_sandbox::Log>();
    assert_send_sync::<kyc_sandbox::Error>();
}

#[tokio::test]
async fn start_can_be_spawned_and_runs_until_a_signal() {
    let clock = kyc_sandbox::FixedClock::new(NOW);
    let sandbox = builder(&clock).build().unwrap();
    let running = tokio::spawn(sandbox.start("127.0.0.1:0"))
        .await
        .unwrap()
        .unwrap();
    let addr = running.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(running.run_until(async {
        let _ = stopped.await;
    }));
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    stop.send(()).unwrap();
    server.await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn starting_on_a_listener_outside_a_runtime_is_an_error_not_a_panic() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let clock = kyc_sandbox::FixedClock::new(NOW);
    let err = builder(&clock)
        .build()
        .unwrap()
        .start_on(listener)
        .unwrap_err();
    assert!(err.is_config());
}

#[test]
fn invalid_configurations_are_errors() {
    let clock = kyc_sandbox::FixedClock::new(NOW);
    let cases: Vec<(&str, kyc_sandbox::SandboxBuilder)> = vec![
        ("no merchant", kyc_sandbox::Sandbox::builder(clock.clone())),
        ("empty secret", builder(&clock).merchant("3", "")),
        ("repeated", builder(&clock).merchant(MERCHANT, "x")),
        ("space", builder(&clock).merchant("1 2", "x")),
        ("base path", builder(&clock).base_path("/a?b")),
        ("nan scale", builder(&clock).time_scale(f64::NAN)),
        (
            "schedule",
            builder(&clock).review_schedule(Duration::from_secs(2), Duration::from_secs(1)),
        ),
        ("zero limit", builder(&clock).max_fields(0)),
        (
            "zero timeout",
            builder(&clock).body_read_timeout(Duration::ZERO),
        ),
        (
            "huge timeout",
            builder(&clock).header_read_timeout(Duration::MAX),
        ),
        ("zero log", builder(&clock).log_capacity(0)),
    ];
    for (name, case) in cases {
        let err = case.build().unwrap_err();
        assert!(err.is_config(), "{name}");
        assert!(!err.to_string().contains(SECRET), "{name}");
    }
}
