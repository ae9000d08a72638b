//! What the client and the callback service report through the `metrics` facade, read back
//! from a recorder installed for the test's thread only.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::StatusCode;
use kyc_client::telemetry::{
    CALL_DURATION, CALLBACK_OUTCOMES, HTTP_CLIENT_REQUEST_DURATION, RETRIES,
};
use kyc_client::types::{AuthenticationStatus, Callback, Timestamp, UserId};
use kyc_client::{CallbackService, Handled, SigningKey};
use metrics_util::CompositeKey;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

use crate::support::{ACCEPTED, Answer, Provider, SECRET, SYSTEM_ERROR, application};

/// One recorded metric: its name, its attributes sorted, and its value.
#[derive(Debug)]
struct Recorded {
    name: String,
    labels: BTreeMap<String, String>,
    value: DebugValue,
}

fn recorded(snapshotter: &Snapshotter) -> Vec<Recorded> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(
            |(key, _unit, _description, value): (CompositeKey, _, _, _)| {
                let key = key.key();
                Recorded {
                    name: key.name().to_owned(),
                    labels: key
                        .labels()
                        .map(|label| (label.key().to_owned(), label.value().to_owned()))
                        .collect(),
                    value,
                }
            },
        )
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn find<'a>(all: &'a [Recorded], name: &str, with: &BTreeMap<String, String>) -> &'a Recorded {
    all.iter()
        .find(|metric| metric.name == name && &metric.labels == with)
        .unwrap_or_else(|| panic!("no {name} with {with:?} in {all:#?}"))
}

fn histogram_len(metric: &Recorded) -> usize {
    match &metric.value {
        DebugValue::Histogram(values) => values.len(),
        other => panic!("{} is not a histogram: {other:?}", metric.name),
    }
}

fn counter(metric: &Recorded) -> u64 {
    match metric.value {
        DebugValue::Counter(value) => value,
        ref other => panic!("{} is not a counter: {other:?}", metric.name),
    }
}

/// Runs `test` on a current-thread runtime with a recorder installed for this thread.
fn with_recorder(test: impl AsyncFnOnce()) -> Vec<Recorded> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || runtime.block_on(test()));
    recorded(&snapshotter)
}

#[test]
fn a_retried_call_reports_each_attempt_the_retry_and_the_call() {
    let all = with_recorder(async || {
        let provider = Provider::start(vec![
            Answer::Reply(200, SYSTEM_ERROR),
            Answer::Reply(200, ACCEPTED),
        ])
        .await;
        provider.client(3).apply(&application()).await.unwrap();
    });
    let attempt = |extra: &[(&str, &str)]| {
        let mut with = labels(&[
            ("http.request.method", "POST"),
            ("server.address", "127.0.0.1"),
            ("kyc.operation", "apply"),
            ("http.response.status_code", "200"),
        ]);
        with.extend(labels(extra));
        with
    };
    let failed = find(
        &all,
        HTTP_CLIENT_REQUEST_DURATION,
        &attempt(&[("error.type", "8000")]),
    );
    assert_eq!(histogram_len(failed), 1);
    let succeeded = find(&all, HTTP_CLIENT_REQUEST_DURATION, &attempt(&[]));
    assert_eq!(histogram_len(succeeded), 1);

    let retries = find(
        &all,
        RETRIES,
        &labels(&[("kyc.operation", "apply"), ("error.type", "8000")]),
    );
    assert_eq!(counter(retries), 1);

    let call = find(
        &all,
        CALL_DURATION,
        &labels(&[("kyc.operation", "apply"), ("server.address", "127.0.0.1")]),
    );
    assert_eq!(histogram_len(call), 1);
    // No attribute anywhere carries the user or the request.
    for metric in &all {
        for value in metric.labels.values() {
            assert!(!value.contains("abc_100008"), "{metric:?}");
        }
    }
}

#[test]
fn a_failed_call_names_the_error_type() {
    let all = with_recorder(async || {
        let provider = Provider::start(vec![Answer::Reply(502, "<html>bad gateway</html>")]).await;
        let user = UserId::new("abc_100008").unwrap();
        provider.client(1).status(&user).await.unwrap_err();
    });
    let call = find(
        &all,
        CALL_DURATION,
        &labels(&[
            ("kyc.operation", "status"),
            ("server.address", "127.0.0.1"),
            ("error.type", "502"),
        ]),
    );
    assert_eq!(histogram_len(call), 1);
    assert!(all.iter().all(|metric| metric.name != RETRIES), "{all:#?}");
}

#[test]
fn callback_outcomes_are_counted_by_outcome_and_reason() {
    let all = with_recorder(async || {
        let key = SigningKey::new(SECRET).unwrap();
        let body = Callback::new(
            UserId::new("79x7p10nh4xd121m").unwrap(),
            AuthenticationStatus::Approved,
            None,
            Timestamp::from_millis(1_728_609_277_476),
        )
        .to_signed_json(&key);
        let post = |body: Vec<u8>| {
            http::Request::post("/kyc/callback")
                .body(http_body_util::Full::new(Bytes::from(body)))
                .unwrap()
        };
        let stores =
            CallbackService::with_key(key.clone(), |_: Callback| async { Ok::<(), String>(()) });
        assert_eq!(
            stores.handle(post(body.clone())).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            stores.handle(post(b"{}".to_vec())).await.status(),
            StatusCode::BAD_REQUEST
        );
        let forged = Callback::new(
            UserId::new("79x7p10nh4xd121m").unwrap(),
            AuthenticationStatus::Approved,
            None,
            Timestamp::from_millis(1_728_609_277_476),
        )
        .to_signed_json(&SigningKey::new("another secret").unwrap());
        assert_eq!(
            stores.handle(post(forged)).await.status(),
            StatusCode::UNAUTHORIZED
        );

        let duplicates = CallbackService::with_key(key.clone(), |_: Callback| async {
            Ok::<_, String>(Handled::Duplicate)
        });
        assert_eq!(
            duplicates.handle(post(body.clone())).await.status(),
            StatusCode::OK
        );
        let fails = CallbackService::with_key(key, |_: Callback| async { Err::<(), _>("down") });
        assert_eq!(
            fails.handle(post(body)).await.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    });
    let count = |pairs: &[(&str, &str)]| counter(find(&all, CALLBACK_OUTCOMES, &labels(pairs)));
    assert_eq!(count(&[("kyc.outcome", "verified")]), 1);
    assert_eq!(count(&[("kyc.outcome", "duplicate")]), 1);
    assert_eq!(count(&[("kyc.outcome", "handler_failed")]), 1);
    assert_eq!(
        count(&[("kyc.outcome", "refused"), ("error.type", "malformed")]),
        1
    );
    assert_eq!(
        count(&[
            ("kyc.outcome", "refused"),
            ("error.type", "signature_mismatch")
        ]),
        1
    );
    let kinds: Vec<_> = all.iter().map(|metric| metric.name.as_str()).collect();
    assert!(
        kinds.iter().all(|name| *name == CALLBACK_OUTCOMES),
        "{kinds:?}"
    );
}
