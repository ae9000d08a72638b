//! Waiting for a final status by polling, for merchants who cannot expose a callback URL.

use std::time::Duration;

use super::Client;
use crate::error::{Error, TransportError};
use crate::retry::monotonic_now;
use crate::types::{StatusData, UserId};

/// How [`Client::wait_for_final`] polls.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use kyc_client::PollPolicy;
///
/// let poll = PollPolicy::default().with_timeout(Duration::from_secs(600));
/// assert_eq!(poll.timeout, Duration::from_secs(600));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollPolicy {
    /// The wait after the first non-final answer.
    pub initial_interval: Duration,
    /// The longest wait between two queries.
    pub max_interval: Duration,
    /// When to give up.
    pub timeout: Duration,
}

impl PollPolicy {
    /// Sets the first and the longest wait between queries.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let poll = kyc_client::PollPolicy::default().with_intervals(Duration::from_secs(1), Duration::from_secs(10));
    /// assert_eq!(poll.max_interval, Duration::from_secs(10));
    /// ```
    #[must_use]
    pub fn with_intervals(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max.max(initial);
        self
    }

    /// Sets when to give up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let poll = kyc_client::PollPolicy::default().with_timeout(Duration::from_secs(60));
    /// assert_eq!(poll.timeout, Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// 2 s, doubling up to 60 s, for at most 30 minutes.
impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl Client {
    /// Polls [`Client::status`] until the review is final (approved or rejected), for merchants
    /// who cannot expose a callback URL.
    ///
    /// Waits `poll.initial_interval` after the first non-final answer, doubling up to
    /// `poll.max_interval`, and gives up after `poll.timeout`. A retryable error of one query
    /// does not end the wait; any other error does.
    ///
    /// # Errors
    ///
    /// The first non-retryable [`Error`], or [`Error::Transport`] with
    /// [`TransportError::is_deadline`] when `poll.timeout` ran out first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use kyc_client::{Client, Environment, PollPolicy};
    /// use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let sandbox = kyc_sandbox::Sandbox::builder(kyc_client::SystemClock)
    /// #     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
    /// #     .review_schedule(Duration::ZERO, Duration::ZERO) // decides at once
    /// #     .build()?
    /// #     .start("127.0.0.1:0")
    /// #     .await?;
    /// let client = Client::builder()
    ///     .environment(Environment::custom(sandbox.base_url())?)
    ///     .merchant_no("1027749636")
    ///     .app_secret("TEST_SECRET_DO_NOT_USE")
    ///     .build()?;
    /// let user = UserId::new("reject-u1")?; // the sandbox rejects this one
    /// let application = Application::new(
    ///     user.clone(),
    ///     CallbackUrl::new("https://merchant.example.com/cb")?,
    ///     Furigana::new("テスト")?,
    /// );
    /// client.apply(&application).await?;
    /// let poll = PollPolicy::default().with_intervals(Duration::from_millis(10), Duration::from_millis(50));
    /// let done = client.wait_for_final(&user, &poll).await?;
    /// assert_eq!(done.authentication_status().as_str(), "3");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn wait_for_final(
        &self,
        user_id: &UserId,
        poll: &PollPolicy,
    ) -> Result<StatusData, Error> {
        let deadline = monotonic_now() + poll.timeout;
        let mut interval = poll.initial_interval;
        loop {
            match self.status(user_id).await {
                Ok(data) if data.authentication_status().is_final() => return Ok(data),
                Ok(data) => {
                    tracing::debug!(
                        status = data.authentication_status().as_str(),
                        "not final yet"
                    );
                }
                Err(err) if err.is_retryable() => {
                    tracing::debug!(error = %err, "status query failed; polling on");
                }
                Err(err) => return Err(err),
            }
            if monotonic_now() + interval >= deadline {
                return Err(Error::Transport(TransportError::deadline(
                    poll.timeout,
                    true,
                )));
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(poll.max_interval);
        }
    }
}
