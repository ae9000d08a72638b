//! [`Reconciler`]: query the provider about users it stopped calling back about, and record the
//! answers (the `client` feature).

use std::future::Future;
use std::num::NonZeroU32;
use std::time::Duration;

use kyc_client::Client;
use kyc_proto::{Clock, Timestamp, UserId};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::{DEFAULT_CUTOFF, Error, Ledger, Recorded};

/// The default lease on claimed users: 10 minutes.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(600);

/// The default rate: 10 status queries per second.
pub const DEFAULT_RATE: NonZeroU32 = NonZeroU32::new(10).expect("not zero");

/// Most users claimed at once.
const MAX_CHUNK: u32 = 100;

/// Polls the provider about users whose status is not final and who have heard nothing for
/// longer than a cut-off, and records each answer in the ledger.
///
/// Each run claims due users with [`Ledger::claim_due`] under a lease, so reconcilers running
/// at once (in several processes, on PostgreSQL) split the due users and never query the same
/// one twice within the lease; it sends `client.status` for each at no more than
/// [`rate`](Self::rate) queries per second, and records each answer with
/// [`Ledger::record_status`] at the run's `now`. Recording at the time the run started, not
/// when the answer came, is the cautious choice: a callback the provider timestamped while
/// the query was in flight still decides over the answer.
///
/// A user whose query fails stays due: it is claimed again once its lease ends. A recorded
/// answer moves the user's latest event to `now`, so the user is due again only after the
/// cut-off has passed once more (a review still open is polled once per cut-off).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
///
/// use kyc_client::{Client, SystemClock};
/// use kyc_store::Ledger;
/// use kyc_store::reconcile::Reconciler;
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder().merchant_no("1027749636").app_secret("s").build()?;
/// let ledger = Ledger::connect("sqlite://kyc.db").await?;
/// let reconciler = Reconciler::new(ledger, client)
///     .older_than(Duration::from_secs(25 * 3600))
///     .rate(std::num::NonZeroU32::new(5).expect("not zero"));
/// let report = reconciler.run_once(kyc_proto::Clock::now(&SystemClock)).await?;
/// println!("{} polled, {} changed, {} failed", report.polled, report.changed, report.failed);
/// // Or every ten minutes until `shutdown` completes (here: never).
/// let shutdown = std::future::pending::<()>();
/// reconciler.run_every(Duration::from_secs(600), &SystemClock, shutdown).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Reconciler {
    ledger: Ledger,
    client: Client,
    older_than: Duration,
    rate: NonZeroU32,
    lease: Duration,
}

/// What a run did.
///
/// # Examples
///
/// ```
/// let report = kyc_store::reconcile::Report::default();
/// assert_eq!((report.polled, report.changed, report.failed), (0, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Users queried whose answer was recorded.
    pub polled: u64,
    /// Of those, users whose current status changed with the answer.
    pub changed: u64,
    /// Users whose query or record failed (due again when their lease ends).
    pub failed: u64,
}

impl Report {
    fn add(&mut self, other: Self) {
        self.polled += other.polled;
        self.changed += other.changed;
        self.failed += other.failed;
    }
}

impl Reconciler {
    /// A reconciler recording into `ledger` what `client` answers, with the defaults: cut-off
    /// [`DEFAULT_CUTOFF`] (25 h), [`DEFAULT_RATE`] (10 queries per second), lease
    /// [`DEFAULT_LEASE`] (10 minutes).
    ///
    /// # Examples
    ///
    /// See [`Reconciler`].
    #[must_use]
    pub fn new(ledger: Ledger, client: Client) -> Self {
        Self {
            ledger,
            client,
            older_than: DEFAULT_CUTOFF,
            rate: DEFAULT_RATE,
            lease: DEFAULT_LEASE,
        }
    }

    /// Polls users whose latest status-carrying event is older than `cut_off`.
    ///
    /// # Examples
    ///
    /// See [`Reconciler`].
    #[must_use]
    pub fn older_than(mut self, cut_off: Duration) -> Self {
        self.older_than = cut_off;
        self
    }

    /// At most `per_second` status queries per second.
    ///
    /// # Examples
    ///
    /// See [`Reconciler`].
    #[must_use]
    pub fn rate(mut self, per_second: NonZeroU32) -> Self {
        self.rate = per_second;
        self
    }

    /// How long a claim keeps other reconcilers off a user. Claims are taken in chunks that
    /// the rate lets this reconciler finish within half the lease.
    ///
    /// # Examples
    ///
    /// See [`Reconciler`].
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Polls every user due at `now` once, then returns what it did.
    ///
    /// # Errors
    ///
    /// An [`Error`] when claiming users failed (the database is unreachable). A failed query
    /// or record is counted in [`Report::failed`] instead, and the run goes on.
    ///
    /// # Examples
    ///
    /// See [`Reconciler`].
    pub async fn run_once(&self, now: Timestamp) -> Result<Report, Error> {
        let mut report = Report::default();
        let mut pace = tokio::time::interval(Duration::from_secs(1) / self.rate.get());
        pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let users = self
                .ledger
                .claim_due(now, self.older_than, self.lease, self.chunk())
                .await?;
            if users.is_empty() {
                return Ok(report);
            }
            let mut queries = JoinSet::new();
            for user in users {
                pace.tick().await;
                let (ledger, client) = (self.ledger.clone(), self.client.clone());
                queries.spawn(async move { poll(&ledger, &client, &user, now).await });
            }
            while let Some(done) = queries.join_next().await {
                match done {
                    Ok(one) => report.add(one),
                    Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                    Err(_) => report.failed += 1,
                }
            }
        }
    }

    /// Runs [`run_once`](Self::run_once) at once and then every `interval`, at `clock`'s
    /// time, until `shutdown` completes; returns the runs' reports added up. `shutdown` is
    /// heeded between runs: a run under way finishes first (at most one claimed chunk, at the
    /// configured rate), so every answer it recorded is in the report and no claim is left to
    /// wait out its lease.
    ///
    /// # Errors
    ///
    /// The first [`Error`] of a run: the loop stops there.
    ///
    /// # Examples
    ///
    /// See [`Reconciler`].
    pub async fn run_every<C: Clock + ?Sized>(
        &self,
        interval: Duration,
        clock: &C,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Report, Error> {
        let mut total = Report::default();
        let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(1)));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(total),
                _ = ticks.tick() => {}
            }
            total.add(self.run_once(clock.now()).await?);
        }
    }

    /// How many users to claim at once: what the rate lets this reconciler query within half
    /// the lease, from 1 to 100.
    fn chunk(&self) -> u32 {
        let seconds = u32::try_from(self.lease.as_secs() / 2).unwrap_or(u32::MAX);
        seconds.saturating_mul(self.rate.get()).clamp(1, MAX_CHUNK)
    }
}

/// Queries one user and records the answer.
async fn poll(ledger: &Ledger, client: &Client, user: &UserId, now: Timestamp) -> Report {
    let failed = Report {
        failed: 1,
        ..Report::default()
    };
    let before = match ledger.state(user).await {
        Ok(state) => state.and_then(|state| state.status().cloned()),
        Err(_) => return failed,
    };
    let Ok(answer) = client.status(user).await else {
        return failed;
    };
    match ledger.record_status(user, &answer, now).await {
        Ok(Recorded::New) => Report {
            polled: 1,
            changed: u64::from(before.as_ref() != Some(answer.authentication_status())),
            failed: 0,
        },
        Ok(Recorded::Duplicate | Recorded::Stale) => Report {
            polled: 1,
            ..Report::default()
        },
        Err(_) => failed,
    }
}
