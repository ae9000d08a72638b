//! Round trips against the `kyc-sandbox` fake provider, in process, on loopback: apply, status,
//! callback; retries through the sandbox's fault scenarios. Both sides read injected clocks
//! that the test moves together, so reviews progress without sleeping.

use std::time::Duration;

use kyc_client::types::{Application, Callback, CallbackUrl, Furigana, UserId};
use kyc_client::{CallbackService, Client, Environment, FixedClock, RetryPolicy, serve_callbacks};
use kyc_sandbox::{Endpoint, Running, Sandbox};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::support::{MERCHANT, NOW, SECRET};

/// A sandbox, a client and a callback receiver on loopback, sharing one clock the test moves.
pub(crate) struct World {
    pub(crate) sandbox: Running,
    pub(crate) clock: FixedClock,
    pub(crate) client: Client,
    pub(crate) callback_url: String,
    pub(crate) callbacks: mpsc::UnboundedReceiver<Callback>,
}

impl World {
    pub(crate) async fn start() -> Self {
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
            .retry(
                RetryPolicy::default()
                    .with_max_attempts(4)
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
            )
            .build()
            .unwrap();
        let (sender, callbacks) = mpsc::unbounded_channel();
        let service = CallbackService::new(&client, move |callback: Callback| {
            let sender = sender.clone();
            async move { sender.send(callback).map_err(|_| "test ended") }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let callback_url = format!("http://{}/kyc/callback", listener.local_addr().unwrap());
        tokio::spawn(serve_callbacks(listener, service, std::future::pending()));
        Self {
            sandbox,
            clock,
            client,
            callback_url,
            callbacks,
        }
    }

    fn application(&self, user_id: &str) -> Application {
        Application::new(
            UserId::new(user_id).unwrap(),
            CallbackUrl::new_allow_http(&self.callback_url).unwrap(),
            Furigana::new("テスト014").unwrap(),
        )
    }

    /// Moves the clock and lets the sandbox's reviewer catch up.
    fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.sandbox.tick();
    }

    async fn next_callback(&mut self) -> Callback {
        tokio::time::timeout(Duration::from_secs(10), self.callbacks.recv())
            .await
            .expect("a callback arrives")
            .expect("the receiver runs")
    }
}

#[tokio::test]
async fn apply_status_and_callback_round_trip() {
    let mut world = World::start().await;
    let user = UserId::new("approve-e2e-1").unwrap();
    let accepted = world
        .client
        .apply(&world.application(user.as_str()))
        .await
        .unwrap();
    assert_eq!(accepted.authentication_status().as_str(), "0");
    assert_eq!(
        world
            .client
            .status(&user)
            .await
            .unwrap()
            .authentication_status()
            .as_str(),
        "0"
    );

    world.advance(Duration::from_secs(1));
    assert_eq!(
        world
            .client
            .status(&user)
            .await
            .unwrap()
            .authentication_status()
            .as_str(),
        "1"
    );

    world.advance(Duration::from_secs(2));
    let status = world.client.status(&user).await.unwrap();
    assert!(status.authentication_status().is_approved());

    let callback = world.next_callback().await;
    assert_eq!(callback.user_id(), &user);
    assert!(callback.status().is_approved());
    // The handler ran before the sandbox read the `OK`: wait for the sandbox to record it.
    tokio::time::timeout(
        Duration::from_secs(10),
        world
            .sandbox
            .wait_until(|log| log.is_delivered(user.as_str())),
    )
    .await
    .expect("the sandbox records the delivery");
    let log = world.sandbox.log();
    assert_eq!(
        log.callbacks_for(user.as_str()).count(),
        1,
        "acknowledged the first time"
    );
}

#[tokio::test]
async fn a_rejection_carries_its_reason_in_status_and_callback() {
    let mut world = World::start().await;
    let user = UserId::new("reject-e2e-2").unwrap();
    world
        .client
        .apply(&world.application(user.as_str()))
        .await
        .unwrap();
    world.advance(Duration::from_secs(3));
    let status = world.client.status(&user).await.unwrap();
    assert_eq!(status.authentication_status().as_str(), "3");
    assert!(status.fail_reason().is_some());
    let callback = world.next_callback().await;
    assert_eq!(callback.status().as_str(), "3");
    assert_eq!(callback.fail_reason(), status.fail_reason());
}

#[tokio::test]
async fn provider_faults_are_retried_with_counts() {
    let world = World::start().await;
    // Code 8000 twice, then accepted: three applications reach the sandbox.
    world
        .client
        .apply(&world.application("fault8000x2-e2e-3"))
        .await
        .unwrap();
    let applies = |log: &kyc_sandbox::Log, user: &str| {
        log.requests_for(user)
            .filter(|r| r.endpoint == Endpoint::Apply)
            .count()
    };
    assert_eq!(applies(&world.sandbox.log(), "fault8000x2-e2e-3"), 3);

    // HTTP 500 on every attempt: the client gives up after its four attempts.
    let err = world
        .client
        .apply(&world.application("fault500-e2e-4"))
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(applies(&world.sandbox.log(), "fault500-e2e-4"), 4);

    // A dropped connection after the application was sent: not retried.
    let err = world
        .client
        .apply(&world.application("drop-e2e-5"))
        .await
        .unwrap_err();
    assert!(err.request_may_have_been_sent());
    assert_eq!(applies(&world.sandbox.log(), "drop-e2e-5"), 1);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_not_retried() {
    let world = World::start().await;
    let client = Client::builder()
        .environment(Environment::custom(world.sandbox.base_url()).unwrap())
        .merchant_no(MERCHANT)
        .app_secret("not the secret")
        .clock(world.clock.clone())
        .build()
        .unwrap();
    let err = client
        .apply(&world.application("approve-e2e-6"))
        .await
        .unwrap_err();
    assert!(matches!(err, kyc_client::Error::Api(_)), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(world.sandbox.log().requests_for("approve-e2e-6").count(), 1);
}
