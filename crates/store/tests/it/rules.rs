//! The suite both backends must pass: one test per rule of the crate docs.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::TryStreamExt;
use kyc_proto::{AuthenticationStatus, StatusData};
use kyc_store::{ApplicationOutcome, DEFAULT_CUTOFF, ErrorKind, EventKind, Ledger, Recorded};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::support::{Db, HOUR, callback, t, user};

both_backends!(
    a_callback_retry_is_recorded_once,
    bodies_differing_in_any_signed_field_are_two_events,
    a_non_final_event_never_replaces_a_final_one_as_old,
    a_later_event_replaces_an_earlier_one,
    a_new_application_after_rejection_opens_a_new_attempt,
    a_refused_application_is_history_only,
    status_answers_follow_the_callback_rules,
    due_users_are_not_final_and_quiet_past_the_cutoff,
    a_claim_holds_for_its_lease,
    counts_and_export_cover_every_user,
    a_failed_write_leaves_nothing_half_written,
    a_timeout_never_cuts_a_write_in_half,
    concurrent_deliveries_of_one_callback_make_one_new,
    many_concurrent_records_are_each_stored_once,
    applications_recorded_together_follow_the_rules,
    many_events_written_together_end_as_if_written_one_by_one,
    concurrent_claimers_never_share_a_user,
    any_delivery_order_ends_in_the_same_state,
    reconnecting_keeps_the_data_and_the_schema_version,
    timestamps_beyond_63_bits_are_refused,
    the_handler_succeeds_once_stored,
);

fn accepted() -> ApplicationOutcome {
    ApplicationOutcome::Accepted(AuthenticationStatus::Pending)
}

async fn a_callback_retry_is_recorded_once(db: &Db) {
    let ledger = db.ledger();
    let u = user("retry");
    let body = callback(&u, "2", None, 10);
    assert_eq!(ledger.record_callback(&body).await.unwrap(), Recorded::New);
    for _ in 0..3 {
        assert_eq!(
            ledger.record_callback(&body).await.unwrap(),
            Recorded::Duplicate
        );
    }
    assert_eq!(ledger.history(&u).await.unwrap().len(), 1);
}

async fn bodies_differing_in_any_signed_field_are_two_events(db: &Db) {
    let ledger = db.ledger();
    let u = user("differ");
    let first = callback(&u, "3", Some("blurred photo"), 10);
    assert_eq!(ledger.record_callback(&first).await.unwrap(), Recorded::New);
    // Only failReason differs: a second event, not a duplicate.
    let second = callback(&u, "3", Some("expired licence"), 10);
    assert_ne!(
        ledger.record_callback(&second).await.unwrap(),
        Recorded::Duplicate
    );
    // Only the timestamp differs.
    let third = callback(&u, "3", Some("blurred photo"), 11);
    assert_eq!(ledger.record_callback(&third).await.unwrap(), Recorded::New);
    // No failReason at all.
    let fourth = callback(&u, "3", None, 10);
    assert_ne!(
        ledger.record_callback(&fourth).await.unwrap(),
        Recorded::Duplicate
    );
    let history = ledger.history(&u).await.unwrap();
    assert_eq!(history.len(), 4);
    let reasons: BTreeSet<_> = history.iter().map(|event| event.fail_reason()).collect();
    assert_eq!(
        reasons,
        BTreeSet::from([None, Some("blurred photo"), Some("expired licence")])
    );
    let state = ledger.state(&u).await.unwrap().unwrap();
    assert_eq!(state.timestamp(), Some(t(11)));
    assert_eq!(state.fail_reason(), Some("blurred photo"));
}

async fn a_non_final_event_never_replaces_a_final_one_as_old(db: &Db) {
    let ledger = db.ledger();
    let u = user("stale");
    assert_eq!(
        ledger
            .record_callback(&callback(&u, "2", None, 100))
            .await
            .unwrap(),
        Recorded::New
    );
    for (status, at) in [("1", 100), ("0", 100), ("1", 99), ("0", 5), ("7", 100)] {
        assert_eq!(
            ledger
                .record_callback(&callback(&u, status, None, at))
                .await
                .unwrap(),
            Recorded::Stale,
            "{status} at {at}"
        );
    }
    let state = ledger.state(&u).await.unwrap().unwrap();
    assert_eq!(state.status(), Some(&AuthenticationStatus::Approved));
    assert_eq!(state.timestamp(), Some(t(100)));
    assert!(state.is_final());
    assert_eq!(ledger.history(&u).await.unwrap().len(), 6);
}

async fn a_later_event_replaces_an_earlier_one(db: &Db) {
    let ledger = db.ledger();
    let u = user("later");
    assert_eq!(
        ledger
            .record_callback(&callback(&u, "1", None, 50))
            .await
            .unwrap(),
        Recorded::New
    );
    // A final one as old as a non-final one wins; an older final one does not.
    assert_eq!(
        ledger
            .record_callback(&callback(&u, "3", None, 40))
            .await
            .unwrap(),
        Recorded::Stale
    );
    assert_eq!(
        ledger
            .record_callback(&callback(&u, "3", Some("r"), 50))
            .await
            .unwrap(),
        Recorded::New
    );
    assert_eq!(
        ledger
            .record_callback(&callback(&u, "2", None, 60))
            .await
            .unwrap(),
        Recorded::New
    );
    let state = ledger.state(&u).await.unwrap().unwrap();
    assert_eq!(
        (state.status(), state.fail_reason()),
        (Some(&AuthenticationStatus::Approved), None)
    );
}

async fn a_new_application_after_rejection_opens_a_new_attempt(db: &Db) {
    let ledger = db.ledger();
    let u = user("attempt");
    assert_eq!(
        ledger
            .record_application(&u, t(1_000), &accepted())
            .await
            .unwrap(),
        Recorded::New
    );
    ledger
        .record_callback(&callback(&u, "3", Some("blurred"), 2_000))
        .await
        .unwrap();
    assert_eq!(
        ledger.state(&u).await.unwrap().unwrap().status(),
        Some(&AuthenticationStatus::Rejected)
    );

    assert_eq!(
        ledger
            .record_application(&u, t(3_000), &accepted())
            .await
            .unwrap(),
        Recorded::New
    );
    let state = ledger.state(&u).await.unwrap().unwrap();
    assert_eq!(state.status(), Some(&AuthenticationStatus::Pending));
    assert_eq!(state.fail_reason(), None);
    assert_eq!(state.applications(), 2);
    ledger
        .record_callback(&callback(&u, "2", None, 4_000))
        .await
        .unwrap();

    let history = ledger.history(&u).await.unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|e| {
            (
                e.kind(),
                e.attempt(),
                e.status().map(|s| s.as_str().to_owned()),
                e.timestamp(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (EventKind::Application, 1, Some("0".to_owned()), t(1_000)),
            (EventKind::Callback, 1, Some("3".to_owned()), t(2_000)),
            (EventKind::Application, 2, Some("0".to_owned()), t(3_000)),
            (EventKind::Callback, 2, Some("2".to_owned()), t(4_000)),
        ]
    );
    assert_eq!(history[1].fail_reason(), Some("blurred"));
    assert!(ledger.state(&u).await.unwrap().unwrap().is_final());
}

async fn a_refused_application_is_history_only(db: &Db) {
    let ledger = db.ledger();
    let u = user("refused");
    let refused = ApplicationOutcome::Refused {
        code: "8000".into(),
        reason: Some("system error".into()),
        retryable: true,
    };
    assert_eq!(
        ledger
            .record_application(&u, t(10), &refused)
            .await
            .unwrap(),
        Recorded::New
    );
    assert_eq!(
        ledger
            .record_application(&u, t(10), &refused)
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    let state = ledger.state(&u).await.unwrap().unwrap();
    assert_eq!(
        (state.status(), state.applications(), state.last_event_at()),
        (None, 0, None)
    );
    let history = ledger.history(&u).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (
            history[0].kind(),
            history[0].status(),
            history[0].code(),
            history[0].is_retryable()
        ),
        (EventKind::Application, None, Some("8000"), true)
    );
    assert_eq!(history[0].attempt(), 0);
    // Never due: nothing is pending at the provider.
    assert!(
        !ledger
            .due(t(100 * HOUR), DEFAULT_CUTOFF, 1_000)
            .await
            .unwrap()
            .contains(&u)
    );
    // A later acceptance opens attempt 1.
    ledger
        .record_application(&u, t(20), &accepted())
        .await
        .unwrap();
    assert_eq!(
        ledger.state(&u).await.unwrap().unwrap().status(),
        Some(&AuthenticationStatus::Pending)
    );
}

async fn status_answers_follow_the_callback_rules(db: &Db) {
    let ledger = db.ledger();
    let u = user("status");
    let approved = StatusData::new(AuthenticationStatus::Approved).with_user_id(u.as_str());
    assert_eq!(
        ledger.record_status(&u, &approved, t(100)).await.unwrap(),
        Recorded::New
    );
    assert_eq!(
        ledger.record_status(&u, &approved, t(100)).await.unwrap(),
        Recorded::Duplicate
    );
    let pending = StatusData::new(AuthenticationStatus::Pending);
    assert_eq!(
        ledger.record_status(&u, &pending, t(100)).await.unwrap(),
        Recorded::Stale
    );
    // The same status with another failReason is another answer.
    let with_reason = StatusData::new(AuthenticationStatus::Approved).with_fail_reason("x");
    assert_ne!(
        ledger
            .record_status(&u, &with_reason, t(100))
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    // A status answer and a callback with the same content are two events.
    assert_ne!(
        ledger
            .record_callback(&callback(&u, "2", None, 100))
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    let kinds: Vec<_> = ledger
        .history(&u)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| **kind == EventKind::Status)
            .count(),
        3
    );
    assert_eq!(
        ledger.state(&u).await.unwrap().unwrap().status(),
        Some(&AuthenticationStatus::Approved)
    );

    let other = StatusData::new(AuthenticationStatus::Approved).with_user_id("someone_else");
    let err = ledger.record_status(&u, &other, t(200)).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.field()),
        (ErrorKind::Invalid, Some("userId"))
    );
}

async fn due_users_are_not_final_and_quiet_past_the_cutoff(db: &Db) {
    let ledger = db.ledger();
    let start = 1_000;
    let now = start + 25 * HOUR + 10;
    let quiet = user("due_quiet");
    let reviewed = user("due_reviewed");
    let recent = user("due_recent");
    let approved = user("due_approved");
    let unknown = user("due_unknown");
    let exactly = user("due_exactly");
    ledger
        .record_application(&quiet, t(start), &accepted())
        .await
        .unwrap();
    ledger
        .record_application(&reviewed, t(start), &accepted())
        .await
        .unwrap();
    ledger
        .record_callback(&callback(&reviewed, "1", None, start + 1))
        .await
        .unwrap();
    ledger
        .record_application(&recent, t(start), &accepted())
        .await
        .unwrap();
    ledger
        .record_callback(&callback(&recent, "1", None, start + 2 * HOUR))
        .await
        .unwrap();
    ledger
        .record_application(&approved, t(start), &accepted())
        .await
        .unwrap();
    ledger
        .record_callback(&callback(&approved, "2", None, start + 1))
        .await
        .unwrap();
    ledger
        .record_callback(&callback(&unknown, "9", None, start))
        .await
        .unwrap();
    // Exactly at the cut-off is not older than it.
    ledger
        .record_application(&exactly, t(now - 25 * HOUR), &accepted())
        .await
        .unwrap();

    let due: BTreeSet<_> = ledger
        .due(t(now), DEFAULT_CUTOFF, 1_000)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let mine: BTreeSet<_> = [&quiet, &reviewed, &recent, &approved, &unknown, &exactly]
        .into_iter()
        .filter(|u| due.contains(*u))
        .cloned()
        .collect();
    assert_eq!(
        mine,
        BTreeSet::from([quiet.clone(), reviewed.clone(), unknown.clone()])
    );
    // A shorter cut-off takes the recent one too.
    let due = ledger
        .due(t(now), Duration::from_secs(3600), 1_000)
        .await
        .unwrap();
    assert!(due.contains(&recent) && due.contains(&exactly));
    // Oldest first, and the limit holds.
    assert_eq!(
        ledger.due(t(now), DEFAULT_CUTOFF, 1).await.unwrap().len(),
        1
    );
}

async fn a_claim_holds_for_its_lease(db: &Db) {
    let ledger = db.ledger();
    let u = user("lease");
    ledger
        .record_application(&u, t(0), &accepted())
        .await
        .unwrap();
    let now = 30 * HOUR;
    let lease = Duration::from_secs(600);
    let claim = |at: u64| ledger.claim_due(t(at), DEFAULT_CUTOFF, lease, 1_000);
    assert!(claim(now).await.unwrap().contains(&u));
    assert!(!claim(now).await.unwrap().contains(&u));
    assert!(
        !ledger
            .due(t(now), DEFAULT_CUTOFF, 1_000)
            .await
            .unwrap()
            .contains(&u)
    );
    assert!(!claim(now + 599_999).await.unwrap().contains(&u));
    // The reconciler failed to record an answer: due again when the lease ends.
    assert!(claim(now + 600_000).await.unwrap().contains(&u));
    // An answer moves the last event forward: not due until the cut-off passes again.
    let still_pending = StatusData::new(AuthenticationStatus::UnderReview);
    ledger
        .record_status(&u, &still_pending, t(now + 700_000))
        .await
        .unwrap();
    assert!(!claim(now + 2 * HOUR).await.unwrap().contains(&u));
    assert!(claim(now + 700_001 + 25 * HOUR).await.unwrap().contains(&u));
}

async fn counts_and_export_cover_every_user(db: &Db) {
    let ledger = db.ledger();
    let users: Vec<_> = (0..5).map(|_| user("count")).collect();
    ledger
        .record_callback(&callback(&users[0], "2", None, 1))
        .await
        .unwrap();
    ledger
        .record_callback(&callback(&users[1], "2", None, 1))
        .await
        .unwrap();
    ledger
        .record_callback(&callback(&users[2], "3", Some("r"), 1))
        .await
        .unwrap();
    ledger
        .record_application(&users[3], t(1), &accepted())
        .await
        .unwrap();
    let refused = ApplicationOutcome::Refused {
        code: "invalid-row".into(),
        reason: None,
        retryable: false,
    };
    ledger
        .record_application(&users[4], t(1), &refused)
        .await
        .unwrap();

    let counts = ledger.counts().await.unwrap();
    assert_eq!(counts.of(&AuthenticationStatus::Approved), 2);
    assert_eq!(counts.of(&AuthenticationStatus::Rejected), 1);
    assert_eq!(counts.of(&AuthenticationStatus::Pending), 1);
    assert_eq!(counts.of(&AuthenticationStatus::UnderReview), 0);
    assert_eq!(counts.without_status(), 1);
    assert_eq!(counts.total(), 5);
    let order: Vec<_> = counts
        .iter()
        .map(|(status, _)| status.map(|s| s.as_str().to_owned()))
        .collect();
    assert_eq!(
        order,
        [None, Some("0".into()), Some("2".into()), Some("3".into())]
    );
    assert_eq!(
        serde_json::to_string(&counts).unwrap(),
        r#"{"none":1,"0":1,"2":2,"3":1}"#
    );

    let exported: Vec<_> = ledger.export().try_collect().await.unwrap();
    let ids: Vec<_> = exported
        .iter()
        .map(|state| state.user_id().clone())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert_eq!(exported.len(), 5);
    let rejected = exported.iter().find(|s| s.user_id() == &users[2]).unwrap();
    assert_eq!(
        serde_json::to_value(rejected).unwrap(),
        serde_json::json!({
            "userId": users[2].as_str(), "authenticationStatus": "3", "timestamp": "1",
            "failReason": "r", "applications": 0, "lastEventAt": "1"
        })
    );
}

async fn a_failed_write_leaves_nothing_half_written(db: &Db) {
    let ledger = db.ledger();
    let u = user("atomic");
    // The event insert succeeds, the user update fails: the whole record must roll back.
    db.execute("ALTER TABLE kyc_user RENAME TO kyc_user_away")
        .await;
    let body = callback(&u, "2", None, 10);
    let err = ledger.record_callback(&body).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Database);
    assert!(err.is_retryable());
    db.execute("ALTER TABLE kyc_user_away RENAME TO kyc_user")
        .await;

    assert!(ledger.history(&u).await.unwrap().is_empty());
    assert!(ledger.state(&u).await.unwrap().is_none());
    // The provider's retry is then recorded as new, not as a duplicate of a lost write.
    assert_eq!(ledger.record_callback(&body).await.unwrap(), Recorded::New);
}

// Regression: on SQLite, a timeout dropping `begin_with` left a pooled connection inside an
// unacknowledged transaction; the next write failed with `InvalidSavePointStatement`.
async fn a_timeout_never_cuts_a_write_in_half(db: &Db) {
    let ledger = db.ledger();
    let u = user("cut");
    let bodies: Vec<_> = (1..=40).map(|at| callback(&u, "1", None, at)).collect();
    for (i, body) in bodies.iter().enumerate() {
        // A receiver's timeout, from nothing to a few milliseconds, then the provider's retry.
        let limit = Duration::from_micros((i as u64 * 97) % 3_000);
        let first = tokio::time::timeout(limit, ledger.record_callback(body)).await;
        let retry = ledger.record_callback(body).await.unwrap();
        if let Ok(first) = first {
            assert_ne!((first.unwrap(), retry), (Recorded::New, Recorded::New));
        }
    }
    // Each body is one event, and the pool's connections are all usable afterwards.
    assert_eq!(ledger.history(&u).await.unwrap().len(), bodies.len());
    assert_eq!(
        ledger.state(&u).await.unwrap().unwrap().timestamp(),
        Some(t(40))
    );
    let other = user("cut_after");
    for at in 0..20 {
        ledger
            .record_callback(&callback(&other, "1", None, at))
            .await
            .unwrap();
    }
}

async fn concurrent_deliveries_of_one_callback_make_one_new(db: &Db) {
    let u = user("flood");
    let body = callback(&u, "3", Some("blurred"), 77);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let ledger = db.ledger().clone();
            let body = body.clone();
            tokio::spawn(async move { ledger.record_callback(&body).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| **o == Recorded::New).count(), 1);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Recorded::Duplicate)
            .count(),
        31
    );
    assert_eq!(db.ledger().history(&u).await.unwrap().len(), 1);
}

async fn concurrent_claimers_never_share_a_user(db: &Db) {
    // Claimers are separate pools, as separate processes would be.
    let users: BTreeSet<_> = (0..60).map(|_| user("claim")).collect();
    for u in &users {
        db.ledger()
            .record_application(u, t(0), &accepted())
            .await
            .unwrap();
    }
    let mut claimers = Vec::new();
    for _ in 0..4 {
        let ledger = Ledger::connect(db.url()).await.unwrap();
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = ledger
                    .claim_due(t(30 * HOUR), DEFAULT_CUTOFF, Duration::from_secs(3600), 7)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break;
                }
                mine.extend(batch);
                tokio::task::yield_now().await;
            }
            ledger.close().await;
            mine
        }));
    }
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let claimed: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(claimed.len(), all.len(), "a user was claimed twice");
    assert_eq!(claimed, users);
}

/// One event of a generated delivery.
#[derive(Clone, Debug)]
enum Delivery {
    Application(u64),
    Callback(&'static str, Option<&'static str>, u64),
    Status(&'static str, Option<&'static str>, u64),
}

fn deliveries() -> impl Strategy<Value = (Vec<Delivery>, Vec<Delivery>)> {
    let status = prop::sample::select(vec!["0", "1", "2", "3", "9"]);
    let reason = prop::option::of(prop::sample::select(vec!["a", "b"]));
    let at = 0u64..6;
    let delivery = prop_oneof![
        at.clone().prop_map(Delivery::Application),
        (status.clone(), reason.clone(), at.clone())
            .prop_map(|(s, r, a)| Delivery::Callback(s, r, a)),
        (status, reason, at).prop_map(|(s, r, a)| Delivery::Status(s, r, a)),
    ];
    prop::collection::vec(delivery, 1..10)
        .prop_flat_map(|events| (Just(events.clone()), Just(events).prop_shuffle()))
}

async fn deliver(ledger: &Ledger, u: &kyc_proto::UserId, events: &[Delivery]) {
    for event in events {
        match *event {
            Delivery::Application(at) => {
                ledger
                    .record_application(u, t(at), &accepted())
                    .await
                    .unwrap();
            }
            Delivery::Callback(status, reason, at) => {
                ledger
                    .record_callback(&callback(u, status, reason, at))
                    .await
                    .unwrap();
            }
            Delivery::Status(status, reason, at) => {
                let mut data = StatusData::new(AuthenticationStatus::from_wire(status));
                if let Some(reason) = reason {
                    data = data.with_fail_reason(reason);
                }
                ledger.record_status(u, &data, t(at)).await.unwrap();
            }
        }
    }
}

async fn any_delivery_order_ends_in_the_same_state(db: &Db) {
    let ledger = db.ledger();
    // proptest's generator, driven by hand: the cases run on this test's runtime.
    let mut runner = TestRunner::deterministic();
    let strategy = deliveries();
    for _ in 0..48 {
        let (in_order, shuffled) = strategy.new_tree(&mut runner).unwrap().current();
        let (a, b) = (user("order_a"), user("order_b"));
        deliver(ledger, &a, &in_order).await;
        deliver(ledger, &b, &shuffled).await;
        let (sa, sb) = (
            ledger.state(&a).await.unwrap().unwrap(),
            ledger.state(&b).await.unwrap().unwrap(),
        );
        let strip = |s: &kyc_store::UserState| {
            (
                s.status().cloned(),
                s.timestamp(),
                s.fail_reason().map(str::to_owned),
                s.applications(),
                s.last_event_at(),
            )
        };
        assert_eq!(strip(&sa), strip(&sb), "{in_order:?} vs {shuffled:?}");
        // The deciding event is the latest one, final when a final one is that late.
        let latest = in_order
            .iter()
            .map(|d| match *d {
                Delivery::Application(at)
                | Delivery::Callback(_, _, at)
                | Delivery::Status(_, _, at) => at,
            })
            .max()
            .unwrap();
        assert_eq!(sa.timestamp(), Some(t(latest)));
        let final_at_latest = in_order.iter().any(|d| matches!(*d,
            Delivery::Callback(s, _, at) | Delivery::Status(s, _, at) if at == latest && (s == "2" || s == "3")));
        assert_eq!(sa.is_final(), final_at_latest, "{in_order:?}");
        let history = |events: Vec<kyc_store::Event>| {
            let mut rows: Vec<_> = events
                .iter()
                .map(|e| {
                    (
                        e.kind(),
                        e.attempt(),
                        e.status().cloned().map(|s| s.as_str().to_owned()),
                        e.timestamp(),
                        e.fail_reason().map(str::to_owned),
                    )
                })
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(
            history(ledger.history(&a).await.unwrap()),
            history(ledger.history(&b).await.unwrap())
        );
    }
}

async fn reconnecting_keeps_the_data_and_the_schema_version(db: &Db) {
    let u = user("reopen");
    db.ledger()
        .record_callback(&callback(&u, "2", None, 1))
        .await
        .unwrap();
    let again = Ledger::connect(db.url()).await.unwrap();
    assert_eq!(
        again.state(&u).await.unwrap().unwrap().status(),
        Some(&AuthenticationStatus::Approved)
    );
    assert_eq!(
        again
            .record_callback(&callback(&u, "2", None, 1))
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    again.close().await;
}

async fn timestamps_beyond_63_bits_are_refused(db: &Db) {
    let ledger = db.ledger();
    let u = user("huge");
    let err = ledger
        .record_callback(&callback(&u, "2", None, u64::MAX))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.field()),
        (ErrorKind::Invalid, Some("timestamp"))
    );
    let err = ledger
        .due(t(u64::MAX), DEFAULT_CUTOFF, 1)
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.field()), (ErrorKind::Invalid, Some("now")));
    assert!(ledger.state(&u).await.unwrap().is_none());
}

async fn the_handler_succeeds_once_stored(db: &Db) {
    let handler = db.ledger().callback_handler();
    let u = user("handler");
    handler(callback(&u, "1", None, 5)).await.unwrap();
    handler(callback(&u, "1", None, 5)).await.unwrap(); // a retry is stored already: OK again
    assert_eq!(db.ledger().history(&u).await.unwrap().len(), 1);
}

/// Many records at once (on SQLite, committed together by its writer): each answer is its
/// own, each distinct body is stored once, each retry is a duplicate.
async fn many_concurrent_records_are_each_stored_once(db: &Db) {
    let users: Vec<_> = (0..100).map(|_| user("many")).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..2 {
        for (i, u) in users.iter().enumerate() {
            let (ledger, u) = (db.ledger().clone(), u.clone());
            let status = if i % 2 == 0 { "2" } else { "3" };
            tasks.spawn(async move {
                let recorded = ledger
                    .record_callback(&callback(&u, status, None, 1_000 + i as u64))
                    .await
                    .unwrap();
                (round, recorded)
            });
        }
    }
    let mut answers = std::collections::HashMap::<Recorded, usize>::new();
    while let Some(done) = tasks.join_next().await {
        *answers.entry(done.unwrap().1).or_default() += 1;
    }
    assert_eq!(answers.get(&Recorded::New), Some(&100), "{answers:?}");
    assert_eq!(answers.get(&Recorded::Duplicate), Some(&100), "{answers:?}");
    for (i, u) in users.iter().enumerate() {
        assert_eq!(db.ledger().history(u).await.unwrap().len(), 1);
        let expected = if i % 2 == 0 {
            AuthenticationStatus::Approved
        } else {
            AuthenticationStatus::Rejected
        };
        assert_eq!(
            db.ledger().state(u).await.unwrap().unwrap().status(),
            Some(&expected)
        );
    }
}

async fn applications_recorded_together_follow_the_rules(db: &Db) {
    let (a, b) = (user("together"), user("together"));
    let accepted = ApplicationOutcome::Accepted(AuthenticationStatus::Pending);
    let refused = ApplicationOutcome::Refused {
        code: "transport".into(),
        reason: None,
        retryable: true,
    };
    let rows = [
        (&a, t(1_000), &accepted),
        (&b, t(1_000), &refused),
        (&a, t(1_000), &accepted),
    ];
    let recorded = db.ledger().record_applications(&rows).await.unwrap();
    assert_eq!(
        recorded,
        [Recorded::New, Recorded::New, Recorded::Duplicate]
    );
    assert_eq!(
        db.ledger().state(&a).await.unwrap().unwrap().applications(),
        1
    );
    let history = db.ledger().history(&b).await.unwrap();
    assert!(history[0].is_retryable() && history[0].status().is_none());
    // All duplicates: nothing changes.
    let again = db.ledger().record_applications(&rows[..1]).await.unwrap();
    assert_eq!(again, [Recorded::Duplicate]);
}

/// More rows than one statement takes (the write splits them), for a few users, in a shuffled
/// order: statuses of both ranks, equal timestamps, refusals, copies within the batch and rows
/// already stored. Written in one call, each ends as it does written one call at a time.
async fn many_events_written_together_end_as_if_written_one_by_one(db: &Db) {
    let statuses = ["0", "1", "2", "3"].map(AuthenticationStatus::from_wire);
    let refused = ApplicationOutcome::Refused {
        code: "9001".into(),
        reason: Some("rate limited".into()),
        retryable: true,
    };
    let outcomes: Vec<ApplicationOutcome> = statuses
        .iter()
        .cloned()
        .map(ApplicationOutcome::Accepted)
        .chain([refused])
        .collect();
    let one_by_one: Vec<_> = (0..5).map(|_| user("single")).collect();
    let together: Vec<_> = (0..5).map(|_| user("together")).collect();
    // A fixed pseudo-random sequence (the same on every run).
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let mut plan: Vec<(usize, u64, usize)> = (0..2_500)
        .map(|_| (next(5) as usize, 1_000 + next(400), next(5) as usize))
        .collect();
    let copies: Vec<_> = (0..300).map(|i| plan[i * 7]).collect();
    plan.extend(copies);
    // Some rows are stored before the batch.
    for &(u, at, outcome) in &plan[..50] {
        db.ledger()
            .record_application(&together[u], t(at), &outcomes[outcome])
            .await
            .unwrap();
    }

    let mut expected = Vec::new();
    for &(u, at, outcome) in &plan[..50] {
        db.ledger()
            .record_application(&one_by_one[u], t(at), &outcomes[outcome])
            .await
            .unwrap();
    }
    for &(u, at, outcome) in &plan {
        let recorded = db
            .ledger()
            .record_application(&one_by_one[u], t(at), &outcomes[outcome])
            .await
            .unwrap();
        expected.push(recorded);
    }
    let rows: Vec<_> = plan
        .iter()
        .map(|&(u, at, outcome)| (&together[u], t(at), &outcomes[outcome]))
        .collect();
    let recorded = db.ledger().record_applications(&rows).await.unwrap();

    assert_eq!(recorded, expected);
    for kind in [Recorded::New, Recorded::Duplicate, Recorded::Stale] {
        assert!(
            recorded.contains(&kind),
            "the plan yields every outcome: {kind:?}"
        );
    }
    // Everything of a state but the user.
    let view = |s: kyc_store::UserState| {
        let reason = s.fail_reason().map(str::to_owned);
        let status = s.status().cloned();
        (
            status,
            s.timestamp(),
            reason,
            s.applications(),
            s.last_event_at(),
        )
    };
    for (single, batch) in one_by_one.iter().zip(&together) {
        assert_eq!(
            view(db.ledger().state(single).await.unwrap().unwrap()),
            view(db.ledger().state(batch).await.unwrap().unwrap()),
        );
        assert_eq!(
            db.ledger().history(single).await.unwrap(),
            db.ledger().history(batch).await.unwrap()
        );
    }
}
