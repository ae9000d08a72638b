//! The configured sandbox and everything it runs with; [`builder`] sets it up.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use kyc_sign::SigningKey;
use tokio_rustls::rustls;

use crate::trust::CallbackTrust;
use crate::{Clock, Error, Outcome, Store};

mod builder;

pub use builder::SandboxBuilder;

/// The base path the real provider's Japan sandbox uses.
pub const DEFAULT_BASE_PATH: &str = "/japan";

/// The provider's callback retry schedule: the delay before each retry after a failed attempt
/// (8 retries after the first attempt, within 24 hours; then the provider stops and the
/// merchant must use the status query).
pub const PROVIDER_RETRY_SCHEDULE: [Duration; 8] = [
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(30),
    Duration::from_secs(3600),
    Duration::from_secs(3 * 3600),
    Duration::from_secs(3 * 3600),
    Duration::from_secs(3 * 3600),
];

/// The longest timeout or review tick accepted.
pub(crate) const MAX_TIMER: Duration = Duration::from_secs(24 * 3600);

/// The `failReason` of applications rejected by the `reject` scenario.
pub const SCENARIO_FAIL_REASON: &str = "sandbox scenario: identity could not be verified";

/// A configured fake provider, ready to [`start`](Sandbox::start).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use kyc_sandbox::{FixedClock, Sandbox};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let clock = FixedClock::new(1_774_925_553_256);
/// let sandbox = Sandbox::builder(clock.clone())
///     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
///     .review_schedule(Duration::from_secs(1), Duration::from_secs(3))
///     .time_scale(0.001) // callback retries in milliseconds
///     .build()?;
/// let running = sandbox.start("127.0.0.1:0").await?;
/// assert!(running.base_url().ends_with("/japan"));
/// running.shutdown().await;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sandbox {
    pub(crate) config: Arc<Config>,
}

/// Everything the running sandbox needs; immutable once built.
pub(crate) struct Config {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) merchants: HashMap<String, SigningKey>,
    pub(crate) base_path: String,
    pub(crate) freshness: Duration,
    pub(crate) under_review_after: Duration,
    pub(crate) final_after: Duration,
    pub(crate) callback_delays: Vec<Duration>,
    pub(crate) callback_timeout: Duration,
    pub(crate) time_scale: f64,
    pub(crate) slow_delay: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_fields: usize,
    pub(crate) max_field_bytes: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) tls: Option<Tls>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) require_https_callbacks: bool,
    pub(crate) log_endpoint: bool,
    pub(crate) review_tick: Duration,
    pub(crate) log_capacity: usize,
    pub(crate) default_outcome: Outcome,
    pub(crate) late_callback_after: Duration,
    pub(crate) callback_tls: CallbackTrust,
    pub(crate) control: bool,
}

pub(crate) struct Tls {
    pub(crate) server_config: Arc<rustls::ServerConfig>,
    pub(crate) certificate_pem: String,
}

impl Config {
    /// `delay` multiplied by the time scale; saturates instead of panicking.
    pub(crate) fn scaled(&self, delay: Duration) -> Duration {
        Duration::try_from_secs_f64(delay.as_secs_f64() * self.time_scale).unwrap_or(Duration::MAX)
    }
}

impl Sandbox {
    /// The configured merchant numbers, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// let sandbox = Sandbox::builder(FixedClock::new(0)).merchant("1", "s").build()?;
    /// assert_eq!(sandbox.merchant_numbers(), ["1"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn merchant_numbers(&self) -> Vec<&str> {
        let mut numbers: Vec<&str> = self.config.merchants.keys().map(String::as_str).collect();
        numbers.sort_unstable();
        numbers
    }

    /// The PEM of the self-signed certificate, when built with [`SandboxBuilder::https`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// let sandbox = Sandbox::builder(FixedClock::new(0)).merchant("1", "s").https(true).build()?;
    /// assert!(sandbox.certificate_pem().is_some_and(|pem| pem.starts_with("-----BEGIN CERTIFICATE-----")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn certificate_pem(&self) -> Option<&str> {
        self.config
            .tls
            .as_ref()
            .map(|tls| tls.certificate_pem.as_str())
    }
}

/// A fresh key pair and a self-signed certificate for the loopback names.
pub(crate) fn self_signed() -> Result<Tls, Error> {
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|_| Error::tls("certificate generation failed"))?;
    let certificate_pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.key_pair.serialize_der(),
    ));
    // An explicit provider: the process-wide default is ambiguous when another crate in the
    // build enables a second one, and picking it would panic.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| Error::tls("no usable protocol version"))?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .map_err(|_| Error::tls("the generated certificate was refused"))?;
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        server_config: Arc::new(server_config),
        certificate_pem,
    })
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("merchants", &self.merchant_numbers())
            .field("base_path", &self.config.base_path)
            .field("https", &self.config.tls.is_some())
            .finish_non_exhaustive()
    }
}
