//! `Reconciler` against the sandbox, on both backends: who is polled, what is recorded, and
//! that two reconcilers at once never poll one user twice.

use std::num::NonZeroU32;
use std::time::Duration;

use kyc_client::types::{Application, CallbackUrl, Furigana};
use kyc_client::{Client, Environment, FixedClock, RetryPolicy};
use kyc_proto::{AuthenticationStatus, Clock, UserId};
use kyc_sandbox::{Endpoint, Running, Sandbox};
use kyc_store::ApplicationOutcome;
use kyc_store::reconcile::{Reconciler, Report};

use crate::support::{Db, HOUR, user};

both_backends!(
    due_users_are_polled_once_per_cut_off,
    concurrent_reconcilers_split_the_due_users
);

const MERCHANT: &str = "1027749636";
const SECRET: &str = "TEST_SECRET_DO_NOT_USE";
const NOW: u64 = 1_728_609_277_476;

async fn world() -> (Running, Client, FixedClock) {
    let clock = FixedClock::new(NOW);
    let sandbox = Sandbox::builder(clock.clone())
        .merchant(MERCHANT, SECRET)
        .review_schedule(Duration::from_secs(1), Duration::from_secs(3))
        .time_scale(0.001)
        .build()
        .unwrap()
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let client = Client::builder()
        .environment(Environment::custom(sandbox.base_url()).unwrap())
        .merchant_no(MERCHANT)
        .app_secret(SECRET)
        .clock(clock.clone())
        .retry(RetryPolicy::default().with_max_attempts(1))
        .build()
        .unwrap();
    (sandbox, client, clock)
}

/// Applies for `user` through the sandbox and records the accepted application.
async fn apply(db: &Db, client: &Client, clock: &FixedClock, user: &UserId) {
    let application = Application::new(
        user.clone(),
        // Nobody listens there: the sandbox's callbacks fail, as when the provider gave up.
        CallbackUrl::new_allow_http("http://127.0.0.1:9/cb").unwrap(),
        Furigana::normalize("テスト").unwrap(),
    );
    let answer = client.apply(&application).await.unwrap();
    let outcome = ApplicationOutcome::Accepted(answer.authentication_status().clone());
    db.ledger()
        .record_application(user, clock.now(), &outcome)
        .await
        .unwrap();
}

fn status_queries(sandbox: &Running, user: &UserId) -> usize {
    sandbox
        .log()
        .requests_for(user.as_str())
        .filter(|record| record.endpoint == Endpoint::StatusQuery)
        .count()
}

fn report(polled: u64, changed: u64, failed: u64) -> Report {
    let mut report = Report::default();
    report.polled = polled;
    report.changed = changed;
    report.failed = failed;
    report
}

async fn due_users_are_polled_once_per_cut_off(db: &Db) {
    let (sandbox, client, clock) = world().await;
    let approve = user("approve-rc");
    let reject = user("reject-rc");
    let review = user("review-rc");
    for u in [&approve, &reject, &review] {
        apply(db, &client, &clock, u).await;
    }
    let fast = NonZeroU32::new(1000).unwrap();
    let reconciler = Reconciler::new(db.ledger().clone(), client.clone()).rate(fast);

    // Within the cut-off the provider still calls back: nobody is polled.
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        reconciler.run_once(clock.now()).await.unwrap(),
        report(0, 0, 0)
    );
    assert_eq!(status_queries(&sandbox, &approve), 0);

    // Past it, each open application is queried once and its answer recorded.
    clock.advance(Duration::from_millis(26 * HOUR));
    assert_eq!(
        reconciler.run_once(clock.now()).await.unwrap(),
        report(3, 3, 0)
    );
    let status = |u: &UserId| {
        let ledger = db.ledger().clone();
        let u = u.clone();
        async move { ledger.state(&u).await.unwrap().unwrap().status().cloned() }
    };
    assert_eq!(status(&approve).await, Some(AuthenticationStatus::Approved));
    assert_eq!(status(&reject).await, Some(AuthenticationStatus::Rejected));
    assert_eq!(
        status(&review).await,
        Some(AuthenticationStatus::UnderReview)
    );
    let kinds: Vec<_> = db.ledger().history(&approve).await.unwrap();
    assert_eq!(kinds.last().unwrap().kind(), kyc_store::EventKind::Status);

    // Answered just now: not due again at the same time.
    assert_eq!(
        reconciler.run_once(clock.now()).await.unwrap(),
        report(0, 0, 0)
    );

    // A cut-off later only the review still open is due; it is polled, unchanged.
    clock.advance(Duration::from_millis(26 * HOUR));
    assert_eq!(
        reconciler.run_once(clock.now()).await.unwrap(),
        report(1, 0, 0)
    );
    assert_eq!(status_queries(&sandbox, &approve), 1);
    assert_eq!(status_queries(&sandbox, &review), 2);

    // A user the provider does not know: the query fails, counted, and due again after the
    // lease, not before (the open review, due again too, is polled beside it).
    let unknown = user("unknown-rc");
    db.ledger()
        .record_application(
            &unknown,
            clock.now(),
            &ApplicationOutcome::Accepted(AuthenticationStatus::Pending),
        )
        .await
        .unwrap();
    clock.advance(Duration::from_millis(26 * HOUR));
    let short = reconciler.clone().lease(Duration::from_secs(60));
    assert_eq!(short.run_once(clock.now()).await.unwrap(), report(1, 0, 1));
    assert_eq!(short.run_once(clock.now()).await.unwrap(), report(0, 0, 0));
    clock.advance(Duration::from_secs(61));
    assert_eq!(short.run_once(clock.now()).await.unwrap(), report(0, 0, 1));

    // The loop variant: runs at once, stops on shutdown, adds the reports up.
    clock.advance(Duration::from_millis(26 * HOUR));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let looping = {
        let (reconciler, clock) = (reconciler.clone(), clock.clone());
        tokio::spawn(async move {
            reconciler
                .run_every(Duration::from_millis(50), &clock, async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    let before = db.ledger().history(&review).await.unwrap().len();
    for _ in 0..500 {
        if db.ledger().history(&review).await.unwrap().len() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    let total = looping.await.unwrap().unwrap();
    assert_eq!((total.polled, total.changed), (1, 0), "{total:?}");
    assert_eq!(status_queries(&sandbox, &review), 4);
    sandbox.shutdown().await;
}

async fn concurrent_reconcilers_split_the_due_users(db: &Db) {
    let (sandbox, client, clock) = world().await;
    let users: Vec<UserId> = (0..40).map(|_| user("approve-split")).collect();
    for u in &users {
        apply(db, &client, &clock, u).await;
    }
    clock.advance(Duration::from_millis(26 * HOUR));
    let now = clock.now();
    // A second ledger on the same database: as another process would connect.
    let other = kyc_store::Ledger::connect(db.url()).await.unwrap();
    let fast = NonZeroU32::new(2000).unwrap();
    let runs = [
        db.ledger().clone(),
        other.clone(),
        db.ledger().clone(),
        other,
    ]
    .map(|ledger| {
        let reconciler = Reconciler::new(ledger, client.clone())
            .rate(fast)
            .lease(Duration::from_secs(2));
        tokio::spawn(async move { reconciler.run_once(now).await.unwrap() })
    });
    let mut polled = 0;
    for run in runs {
        let report = run.await.unwrap();
        assert_eq!(report.failed, 0, "{report:?}");
        polled += report.polled;
    }
    assert_eq!(polled, 40);
    for u in &users {
        assert_eq!(status_queries(&sandbox, u), 1, "{u:?} polled twice");
    }
    sandbox.shutdown().await;
}
