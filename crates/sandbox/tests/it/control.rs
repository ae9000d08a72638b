//! Outcomes on demand (`Running::decide`, `Running::resend`, `POST {base}/_sandbox/…`), the
//! default outcome, and the `lost`, `twice` and `late` callback scenarios.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use kyc_sandbox::{CallbackOutcome, Decision, FixedClock, Outcome};
use serde_json::Value;

use crate::support::*;

/// `POST {base}/_sandbox/{path}` with a JSON body (given as raw bytes).
async fn control(running: &kyc_sandbox::Running, path: &str, body: &[u8]) -> Answer {
    let url = format!("{}/_sandbox/{path}", running.base_url());
    let request = Request::post(url)
        .header("host", running.local_addr().to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    send(running.local_addr(), request).await.unwrap()
}

fn error_code(answer: &Answer) -> String {
    answer.json()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_decided_application_moves_and_calls_back_as_a_scheduled_one() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).default_outcome(Outcome::Hold)).await;
    let mut receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "abc_100008", &receiver.url).await;
    clock.advance(Duration::from_secs(60));
    running.tick();
    // Held: under review, no callback however long it waits.
    let held = running.application(MERCHANT, "abc_100008").unwrap();
    assert_eq!(held.status().as_str(), "1");
    assert_eq!(held.outcome(), Outcome::Hold);
    assert!(running.log().callbacks.is_empty());

    let review = running
        .decide(
            MERCHANT,
            "abc_100008",
            Decision::Reject("document expired".into()),
        )
        .unwrap();
    assert_eq!(review.status().as_str(), "3");
    assert_eq!(review.fail_reason(), Some("document expired"));
    assert_eq!(review.decided_at_millis(), Some(NOW + 60_000));
    let body: Value = serde_json::from_slice(&receiver.bodies.recv().await.unwrap()).unwrap();
    assert_eq!(body["authenticationStatus"], "3");
    assert_eq!(body["failReason"], "document expired");
    assert_eq!(body["userId"], "abc_100008");
    assert_eq!(body["timestamp"], NOW + 60_000);
    wait(&running, |log| log.is_delivered("abc_100008")).await;
    let answer = status(&running, "abc_100008").await;
    assert_eq!(answer.json()["data"]["authenticationStatus"], "3");
    assert_eq!(answer.json()["data"]["failReason"], "document expired");

    // Final now: another decision is refused; a resend sends the very same body.
    let err = running
        .decide(MERCHANT, "abc_100008", Decision::Approve)
        .unwrap_err();
    assert_eq!(err.control_code(), Some("already_final"));
    running.resend(MERCHANT, "abc_100008").unwrap();
    let again = receiver.bodies.recv().await.unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&again).unwrap(), body);
    running.shutdown().await;
}

#[tokio::test]
async fn approve_and_hold_on_demand_and_prefix_scenarios_still_apply() {
    let (running, clock) = start().await;
    let receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "pending-u1", &receiver.url).await;
    apply(&running, "reject-u2", &receiver.url).await;
    apply(&running, "u3", &receiver.url).await;
    // Hold an application the schedule would approve: it stays under review.
    let held = running.decide(MERCHANT, "u3", Decision::Hold).unwrap();
    assert_eq!(held.status().as_str(), "1");
    let approved = running
        .decide(MERCHANT, "pending-u1", Decision::Approve)
        .unwrap();
    assert_eq!(approved.status().as_str(), "2");
    clock.advance(Duration::from_secs(3));
    running.tick();
    assert_eq!(
        running
            .application(MERCHANT, "reject-u2")
            .unwrap()
            .status()
            .as_str(),
        "3"
    );
    assert_eq!(
        running
            .application(MERCHANT, "u3")
            .unwrap()
            .status()
            .as_str(),
        "1"
    );
    wait(&running, |log| {
        log.is_delivered("pending-u1") && log.is_delivered("reject-u2")
    })
    .await;
    assert_eq!(running.log().callbacks_for("u3").count(), 0);
    // Resending before a decision is refused.
    let err = running.resend(MERCHANT, "u3").unwrap_err();
    assert_eq!(err.control_code(), Some("not_decided"));
    running.shutdown().await;
}

#[tokio::test]
async fn http_control_decides_resends_and_refuses_with_json_errors() {
    let (running, _clock) = start().await;
    let receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "hold-u1", &receiver.url).await;
    // The merchant is inferred when only one has the userId.
    let answer = control(
        &running,
        "decide",
        br#"{"userId":"hold-u1","decision":"approve"}"#,
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.json()["application"]["status"], "2");
    assert_eq!(answer.json()["application"]["merchantNo"], MERCHANT);
    wait(&running, |log| log.is_delivered("hold-u1")).await;
    let answer = control(&running, "resend", br#"{"userId":"hold-u1"}"#).await;
    assert_eq!(answer.status, 202);
    wait(&running, |log| log.callbacks_for("hold-u1").count() == 2).await;

    // The same userId with both merchants: the merchant must be named.
    apply(&running, "hold-u2", &receiver.url).await;
    apply_raw(
        &running,
        OTHER_MERCHANT,
        &apply_fields("hold-u2", &receiver.url, OTHER_SECRET),
    )
    .await;
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (br#"{"userId":"hold-u2","decision":"hold"}"#.to_vec(), 400, "ambiguous_merchant"),
        (br#"{"merchantNo":"999","userId":"hold-u2","decision":"hold"}"#.to_vec(), 404, "unknown_merchant"),
        (br#"{"merchantNo":"1027749636","userId":"nobody","decision":"hold"}"#.to_vec(), 404, "unknown_user"),
        (br#"{"userId":"hold-u1","decision":"hold"}"#.to_vec(), 409, "already_final"),
        (br#"{"userId":"hold-u2","merchantNo":"1027749636","decision":"reject"}"#.to_vec(), 400, "invalid_request"),
        (br#"{"userId":"hold-u2","merchantNo":"1027749636","decision":"reject","failReason":""}"#.to_vec(), 400, "invalid_request"),
        (br#"{"userId":"hold-u2","merchantNo":"1027749636","decision":"maybe"}"#.to_vec(), 400, "invalid_request"),
        (br#"{"userId":"hold-u2","decision":"hold","extra":1}"#.to_vec(), 400, "invalid_request"),
        (br#"{"userId":"#.to_vec(), 400, "invalid_request"),
        (b"not json".to_vec(), 400, "invalid_request"),
        (br#"[1,2]"#.to_vec(), 400, "invalid_request"),
    ];
    for (body, http_status, code) in cases {
        let answer = control(&running, "decide", &body).await;
        assert_eq!(
            answer.status,
            http_status,
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            error_code(&answer),
            code,
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(
            answer.json()["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let answer = control(
        &running,
        "resend",
        br#"{"merchantNo":"1027749636","userId":"hold-u2"}"#,
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), error_code(&answer)),
        (409, "not_decided".to_owned())
    );
    // A bad JSON answer never repeats the failReason it was given.
    let answer = control(
        &running,
        "decide",
        br#"{"userId":"hold-u2","failReason":"Secret Name","decision":7}"#,
    )
    .await;
    assert!(!String::from_utf8_lossy(&answer.body).contains("Secret Name"));

    // Not JSON content, wrong methods, unknown control paths.
    let url = format!("{}/_sandbox/decide", running.base_url());
    let form = Request::post(&url)
        .header("host", "x")
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from_static(
            br#"{"userId":"hold-u2","decision":"hold"}"#,
        )))
        .unwrap();
    assert_eq!(send(running.local_addr(), form).await.unwrap().status, 400);
    let get = Request::get(&url)
        .header("host", "x")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(running.local_addr(), get).await.unwrap().status, 405);
    let other = Request::get(format!("{}/_sandbox/nope", running.base_url()))
        .header("host", "x")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(running.local_addr(), other).await.unwrap().status, 404);
    // Still held after all of that.
    assert_eq!(
        running
            .application(MERCHANT, "hold-u2")
            .unwrap()
            .status()
            .as_str(),
        "0"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn control_garbage_never_panics() {
    let (running, _clock) = start().await;
    let receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "hold-g1", &receiver.url).await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let pieces: [&[u8]; 12] = [
        b"{",
        b"}",
        b"\"userId\"",
        b":",
        b"\"hold-g1\"",
        b",",
        b"\"decision\"",
        b"\"reject\"",
        b"\"failReason\"",
        b"\xff\xfe",
        b"null",
        b"[[[[",
    ];
    for _ in 0..300 {
        let mut body = Vec::new();
        for _ in 0..(seed % 9) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            body.extend_from_slice(pieces[(seed % pieces.len() as u64) as usize]);
        }
        for path in ["decide", "resend", "state", "", "decide/x"] {
            let answer = control(&running, path, &body).await;
            assert!(
                answer.status.is_client_error() || answer.status.is_success(),
                "{path}"
            );
        }
    }
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let answer = control(&running, "decide", nested.as_bytes()).await;
    assert_eq!(answer.status, 400);
    running.shutdown().await;
}

#[tokio::test]
async fn lost_callbacks_fail_every_attempt_and_the_status_query_reconciles() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).callback_schedule(vec![Duration::from_millis(1); 8])).await;
    let receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "lost-reject-u1", &receiver.url).await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    wait(&running, |log| {
        log.callbacks_for("lost-reject-u1").count() == 9
    })
    .await;
    let log = running.log();
    assert!(
        log.callbacks_for("lost-reject-u1")
            .all(|r| r.outcome == CallbackOutcome::Lost)
    );
    assert_eq!(receiver.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(
        status(&running, "lost-reject-u1").await.json()["data"]["authenticationStatus"],
        "3"
    );
    // A resend on demand is delivered, lost scenario or not.
    running.resend(MERCHANT, "lost-reject-u1").unwrap();
    wait(&running, |log| log.is_delivered("lost-reject-u1")).await;
    running.shutdown().await;
}

#[tokio::test]
async fn twice_delivers_the_same_body_twice() {
    let (running, clock) = start().await;
    let mut receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "twice-u1", &receiver.url).await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    let first = receiver.bodies.recv().await.unwrap();
    let second = receiver.bodies.recv().await.unwrap();
    assert_eq!(first, second);
    wait(&running, |log| {
        log.callbacks_for("twice-u1")
            .filter(|r| r.outcome == CallbackOutcome::Delivered)
            .count()
            == 2
    })
    .await;
    running.shutdown().await;
}

#[tokio::test]
async fn late_callbacks_wait_for_the_status_query_to_show_the_result() {
    let clock = FixedClock::new(NOW);
    // The fallback delay is a day: only the status query can release the callback here.
    let running =
        run(builder(&clock).late_callback_after(Duration::from_secs(86_400 * 1000))).await;
    let mut receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "late-u1", &receiver.url).await;
    clock.advance(Duration::from_secs(3));
    running.tick();
    assert_eq!(
        running
            .application(MERCHANT, "late-u1")
            .unwrap()
            .status()
            .as_str(),
        "2"
    );
    // Give the delivery task every chance to run: it must still be waiting.
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    assert!(receiver.bodies.try_recv().is_err());
    assert!(running.log().callbacks_for("late-u1").next().is_none());
    let answer = status(&running, "late-u1").await;
    assert_eq!(answer.json()["data"]["authenticationStatus"], "2");
    let body: Value = serde_json::from_slice(&receiver.bodies.recv().await.unwrap()).unwrap();
    assert_eq!(body["authenticationStatus"], "2");
    wait(&running, |log| log.is_delivered("late-u1")).await;
    running.shutdown().await;
}

#[tokio::test]
async fn the_dashboard_and_its_state_are_served() {
    let (running, _clock) = start().await;
    apply(&running, "hold-d1", "http://127.0.0.1:9/cb").await;
    let get = |url: String| {
        Request::get(url)
            .header("host", "x")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let page = send(running.local_addr(), get(running.dashboard_url()))
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    // Self-contained: nothing is fetched from elsewhere.
    for external in ["http://", "https://", "src=", "<link"] {
        assert!(!html.contains(external), "{external}");
    }
    let state = send(
        running.local_addr(),
        get(format!("{}/_sandbox/state", running.base_url())),
    )
    .await
    .unwrap()
    .json();
    assert_eq!(state["totalApplications"], 1);
    let app = &state["applications"][0];
    assert_eq!(app["userId"], "hold-d1");
    assert_eq!(app["scenario"], "hold");
    assert_eq!(app["status"], "0");
    assert_eq!(app["merchantNo"], MERCHANT);
    // No name, no furigana.
    assert!(!state.to_string().contains(FURIGANA));
    running.shutdown().await;
}

#[tokio::test]
async fn a_store_handed_to_a_new_sandbox_keeps_its_open_reviews_moving() {
    let store = std::sync::Arc::new(kyc_sandbox::MemoryStore::new());
    let clock = FixedClock::new(NOW);
    let first = run(builder(&clock).store(store.clone())).await;
    apply(&first, "carried-u1", "http://127.0.0.1:9/cb").await;
    first.shutdown().await;
    let second = run(builder(&clock).store(store)).await;
    clock.advance(Duration::from_secs(3));
    second.tick();
    assert_eq!(
        second
            .application(MERCHANT, "carried-u1")
            .unwrap()
            .status()
            .as_str(),
        "2"
    );
    second.shutdown().await;
}
