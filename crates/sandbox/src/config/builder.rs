//! [`SandboxBuilder`]: every setting, its default, and the checks [`build`](SandboxBuilder::build)
//! makes.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use kyc_sign::SigningKey;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

use super::{Config, DEFAULT_BASE_PATH, MAX_TIMER, PROVIDER_RETRY_SCHEDULE, Sandbox, self_signed};
use crate::trust::CallbackTrust;
use crate::{Clock, Error, MemoryStore, Outcome, Store};

/// Builds a [`Sandbox`]; every setting has a default except the clock and the merchants.
///
/// | setting | default |
/// |---|---|
/// | [`base_path`](Self::base_path) | `/japan` |
/// | [`freshness_window`](Self::freshness_window) | 5 minutes either side of the clock |
/// | [`review_schedule`](Self::review_schedule) | under review after 1 s, final after 3 s (clock time) |
/// | [`callback_schedule`](Self::callback_schedule) | [`PROVIDER_RETRY_SCHEDULE`] |
/// | [`callback_timeout`](Self::callback_timeout) | 10 s |
/// | [`time_scale`](Self::time_scale) | 1.0 (scales retry delays and the slow delay) |
/// | [`slow_delay`](Self::slow_delay) | 5 s |
/// | [`max_body_bytes`](Self::max_body_bytes) | 1 MiB |
/// | [`max_fields`](Self::max_fields) | 32 parts |
/// | [`max_field_bytes`](Self::max_field_bytes) | 4 KiB per text field |
/// | [`header_read_timeout`](Self::header_read_timeout) | 10 s |
/// | [`body_read_timeout`](Self::body_read_timeout) | 10 s |
/// | [`https`](Self::https) | off |
/// | [`store`](Self::store) | a new [`MemoryStore`] |
/// | [`require_https_callbacks`](Self::require_https_callbacks) | off (`http://` accepted) |
/// | [`log_endpoint`](Self::log_endpoint) | on |
/// | [`review_tick`](Self::review_tick) | 50 ms |
/// | [`log_capacity`](Self::log_capacity) | 10 000 entries of each kind |
/// | [`default_outcome`](Self::default_outcome) | [`Outcome::Approve`] for a `userId` naming none |
/// | [`late_callback_after`](Self::late_callback_after) | 60 s (scaled) for the `late` scenario |
/// | [`control`](Self::control) | on: dashboard and decide/resend under `{base}/_sandbox/` |
/// | [`callback_native_roots`](Self::callback_native_roots) | on: `https://` callbacks trust the system's roots |
/// | [`callback_root_pem`](Self::callback_root_pem) | none: roots trusted as well |
/// | [`danger_accept_invalid_callback_certs`](Self::danger_accept_invalid_callback_certs) | off |
///
/// Invalid values are reported by [`build`](Self::build), so calls chain.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{FixedClock, Sandbox};
///
/// let sandbox = Sandbox::builder(FixedClock::new(0))
///     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
///     .merchant("2000000001", "ANOTHER_TEST_SECRET")
///     .base_path("/")
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct SandboxBuilder {
    clock: Arc<dyn Clock>,
    merchants: Vec<(String, Result<SigningKey, kyc_sign::Error>)>,
    base_path: String,
    freshness: Duration,
    under_review_after: Duration,
    final_after: Duration,
    callback_delays: Vec<Duration>,
    callback_timeout: Duration,
    time_scale: f64,
    slow_delay: Duration,
    max_body_bytes: usize,
    max_fields: usize,
    max_field_bytes: usize,
    header_read_timeout: Duration,
    body_read_timeout: Duration,
    https: bool,
    store: Option<Arc<dyn Store>>,
    require_https_callbacks: bool,
    log_endpoint: bool,
    review_tick: Duration,
    log_capacity: usize,
    default_outcome: Outcome,
    late_callback_after: Duration,
    control: bool,
    callback_native_roots: bool,
    callback_roots_pem: Vec<String>,
    accept_invalid_callback_certs: bool,
}

impl Sandbox {
    /// A builder taking its time from `clock`: [`SystemClock`](crate::SystemClock) to serve a
    /// client on its default clock, a shared [`FixedClock`](crate::FixedClock) in tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox, SystemClock};
    ///
    /// let for_a_default_client = Sandbox::builder(SystemClock);
    /// let for_a_test = Sandbox::builder(FixedClock::new(1_774_925_553_256));
    /// # let _ = (for_a_default_client, for_a_test);
    /// ```
    pub fn builder(clock: impl Clock) -> SandboxBuilder {
        SandboxBuilder {
            clock: Arc::new(clock),
            merchants: Vec::new(),
            base_path: DEFAULT_BASE_PATH.to_owned(),
            freshness: Duration::from_secs(5 * 60),
            under_review_after: Duration::from_secs(1),
            final_after: Duration::from_secs(3),
            callback_delays: PROVIDER_RETRY_SCHEDULE.to_vec(),
            callback_timeout: Duration::from_secs(10),
            time_scale: 1.0,
            slow_delay: Duration::from_secs(5),
            max_body_bytes: 1024 * 1024,
            max_fields: 32,
            max_field_bytes: 4096,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            https: false,
            store: None,
            require_https_callbacks: false,
            log_endpoint: true,
            review_tick: Duration::from_millis(50),
            log_capacity: 10_000,
            default_outcome: Outcome::Approve,
            late_callback_after: Duration::from_secs(60),
            control: true,
            callback_native_roots: true,
            callback_roots_pem: Vec::new(),
            accept_invalid_callback_certs: false,
        }
    }
}

impl SandboxBuilder {
    /// Adds a merchant and its app secret. Call once per merchant.
    ///
    /// [`build`](Self::build) fails for an empty secret, an empty merchant number, one with
    /// whitespace or control characters, or a number given twice.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// let err = Sandbox::builder(FixedClock::new(0))
    ///     .merchant("1027749636", "a")
    ///     .merchant("1027749636", "b")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "invalid sandbox configuration: merchant 1027749636 given twice");
    /// ```
    pub fn merchant(mut self, merchant_no: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        self.merchants
            .push((merchant_no.into(), SigningKey::new(secret)));
        self
    }

    /// Adds a merchant whose key is already built.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    /// use kyc_sign::SigningKey;
    ///
    /// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let sandbox = Sandbox::builder(FixedClock::new(0)).merchant_key("1027749636", key).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn merchant_key(mut self, merchant_no: impl Into<String>, key: SigningKey) -> Self {
        self.merchants.push((merchant_no.into(), Ok(key)));
        self
    }

    /// The path the endpoints live under: `/japan` by default, `/` or `""` for the root.
    /// A trailing `/` is dropped; a missing leading `/` is added.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// let sandbox = Sandbox::builder(FixedClock::new(0)).merchant("1", "s").base_path("api/").build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = path.into();
        self
    }

    /// How far a request `timestamp` may be from the sandbox's clock, either way.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).freshness_window(Duration::from_secs(60));
    /// ```
    pub fn freshness_window(mut self, window: Duration) -> Self {
        self.freshness = window;
        self
    }

    /// When an application becomes under review (`1`) and when it reaches its final status,
    /// both counted from its acceptance by the sandbox's clock. `final_after` must not be
    /// before `under_review_after`. Zero for both decides at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0))
    ///     .review_schedule(Duration::from_secs(10), Duration::from_secs(60));
    /// ```
    pub fn review_schedule(mut self, under_review_after: Duration, final_after: Duration) -> Self {
        self.under_review_after = under_review_after;
        self.final_after = final_after;
        self
    }

    /// The delays before each callback retry (after the first attempt, which is immediate).
    /// The number of delays is the number of retries; they are multiplied by the time scale.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0))
    ///     .callback_schedule(vec![Duration::from_millis(10); 3]);
    /// ```
    pub fn callback_schedule(mut self, delays: Vec<Duration>) -> Self {
        self.callback_delays = delays;
        self
    }

    /// How long one callback attempt may take, connection to last byte of the answer (not
    /// scaled).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).callback_timeout(Duration::from_secs(1));
    /// ```
    pub fn callback_timeout(mut self, timeout: Duration) -> Self {
        self.callback_timeout = timeout;
        self
    }

    /// The factor applied to callback retry delays and to the slow delay: `0.001` turns the
    /// provider's 2 s into 2 ms. Must be finite and not negative.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).time_scale(0.001);
    /// ```
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// How long the `slow` scenario waits before answering (before scaling).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).slow_delay(Duration::from_secs(30));
    /// ```
    pub fn slow_delay(mut self, delay: Duration) -> Self {
        self.slow_delay = delay;
        self
    }

    /// The largest body accepted, in bytes (`Content-Length` above it is refused unread).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).max_body_bytes(16 * 1024);
    /// ```
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// The most parts (multipart) or members (JSON) a body may have.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).max_fields(8);
    /// ```
    pub fn max_fields(mut self, max: usize) -> Self {
        self.max_fields = max;
        self
    }

    /// The longest text field value, in bytes (file parts are bounded by the body limit only).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).max_field_bytes(256);
    /// ```
    pub fn max_field_bytes(mut self, max: usize) -> Self {
        self.max_field_bytes = max;
        self
    }

    /// How long a client may take to send a request's headers (slow-loris protection); the
    /// connection is closed when it runs out. Also bounds the TLS handshake.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).header_read_timeout(Duration::from_secs(2));
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a client may take to send a request's body; answered `S118` (408) after it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).body_read_timeout(Duration::from_secs(2));
    /// ```
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Serves HTTPS (HTTP/1.1 and HTTP/2 by ALPN) with a self-signed certificate generated at
    /// build time for `localhost`, `127.0.0.1` and `::1`; its PEM is
    /// [`Sandbox::certificate_pem`] / [`Running::certificate_pem`](crate::Running::certificate_pem).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).https(true);
    /// ```
    pub fn https(mut self, enabled: bool) -> Self {
        self.https = enabled;
        self
    }

    /// Where applications are kept (a new [`MemoryStore`] by default).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Refuses `http://` callback URLs (`S105`), as the provider's older page requires.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).require_https_callbacks(true);
    /// ```
    pub fn require_https_callbacks(mut self, required: bool) -> Self {
        self.require_https_callbacks = required;
        self
    }

    /// Whether `GET {base}/_sandbox/log` serves the log as JSON (on by default).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).log_endpoint(false);
    /// ```
    pub fn log_endpoint(mut self, enabled: bool) -> Self {
        self.log_endpoint = enabled;
        self
    }

    /// How often the background reviewer looks at the clock to move reviews along and send
    /// callbacks (`tokio::time`; [`Running::tick`](crate::Running::tick) does it at once).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).review_tick(Duration::from_millis(5));
    /// ```
    pub fn review_tick(mut self, tick: Duration) -> Self {
        self.review_tick = tick;
        self
    }

    /// How many request records, and how many callback records, the log keeps (the oldest go
    /// first).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).log_capacity(100);
    /// ```
    pub fn log_capacity(mut self, capacity: usize) -> Self {
        self.log_capacity = capacity;
        self
    }

    /// The outcome of an application whose `userId` names none (`abc_100008`): approved by
    /// default; [`Outcome::Hold`] keeps every such application under review until decided on
    /// demand. Prefix scenarios (`reject-…`, `review-…`) are unaffected.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Outcome, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).default_outcome(Outcome::Hold);
    /// ```
    pub fn default_outcome(mut self, outcome: Outcome) -> Self {
        self.default_outcome = outcome;
        self
    }

    /// The longest a `late` callback waits for a status query that shows its result, before
    /// it is delivered anyway (multiplied by the time scale).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).late_callback_after(Duration::from_secs(5));
    /// ```
    pub fn late_callback_after(mut self, delay: Duration) -> Self {
        self.late_callback_after = delay;
        self
    }

    /// Whether the control API is served under `{base}/_sandbox/`: the dashboard page
    /// (`GET {base}/_sandbox/`), `GET …/applications`, `POST …/decide` and `POST …/resend`
    /// (on by default; [`Running::decide`](crate::Running::decide) works either way).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).control(false);
    /// ```
    pub fn control(mut self, enabled: bool) -> Self {
        self.control = enabled;
        self
    }

    /// Whether callbacks to `https://` URLs trust the operating system's root certificates
    /// (on by default; read on the first such callback).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).callback_native_roots(false);
    /// ```
    pub fn callback_native_roots(mut self, enabled: bool) -> Self {
        self.callback_native_roots = enabled;
        self
    }

    /// Trusts the certificates in `pem` (one or more `CERTIFICATE` blocks) as roots for
    /// callbacks to `https://` URLs, besides the system's: a merchant's local CA, or the
    /// self-signed certificate of a test's callback receiver. Call once per PEM.
    ///
    /// [`build`](Self::build) fails when `pem` holds no certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let err = Sandbox::builder(FixedClock::new(0)).merchant("1", "s")
    ///     .callback_root_pem("not a certificate")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.is_config());
    /// ```
    pub fn callback_root_pem(mut self, pem: impl Into<String>) -> Self {
        self.callback_roots_pem.push(pem.into());
        self
    }

    /// For local development only: callbacks to `https://` URLs accept **any** certificate
    /// (self-signed, expired, for another name). The handshake is still encrypted, but to
    /// whoever answers. Off by default; prefer [`callback_root_pem`](Self::callback_root_pem).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_sandbox::{FixedClock, Sandbox};
    /// let builder = Sandbox::builder(FixedClock::new(0)).danger_accept_invalid_callback_certs(true);
    /// ```
    pub fn danger_accept_invalid_callback_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_callback_certs = accept;
        self
    }

    /// Checks the settings and, with [`https`](Self::https), generates the certificate.
    ///
    /// # Errors
    ///
    /// A configuration [`Error`] for: no merchant, a bad or repeated merchant number, an empty
    /// secret, a base path with characters other than `A-Z a-z 0-9 / - _ . ~`, a time scale
    /// that is negative or not finite, a final delay before the under-review delay, a zero
    /// limit, a timeout or tick of zero or over a day. A TLS [`Error`] if the certificate cannot be made.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// let err = Sandbox::builder(FixedClock::new(0)).merchant("1", "s").time_scale(-1.0).build();
    /// assert!(err.unwrap_err().is_config());
    /// ```
    pub fn build(self) -> Result<Sandbox, Error> {
        if self.merchants.is_empty() {
            return Err(Error::config("no merchant configured"));
        }
        let mut merchants = HashMap::new();
        for (number, key) in self.merchants {
            if number.is_empty() || number.len() > 64 {
                return Err(Error::config(
                    "a merchant number must have 1 to 64 characters",
                ));
            }
            if number.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::config(
                    "a merchant number must not contain whitespace or control characters",
                ));
            }
            let Ok(key) = key else {
                return Err(Error::config(format!(
                    "merchant {number} has an empty secret"
                )));
            };
            if merchants.contains_key(&number) {
                return Err(Error::config(format!("merchant {number} given twice")));
            }
            merchants.insert(number, key);
        }
        let base_path = normalise_base_path(&self.base_path)?;
        if !self.time_scale.is_finite() || self.time_scale < 0.0 {
            return Err(Error::config(
                "the time scale must be finite and not negative",
            ));
        }
        if self.final_after < self.under_review_after {
            return Err(Error::config(
                "the final delay of the review schedule must not be before its under-review delay",
            ));
        }
        if self.max_body_bytes == 0 || self.max_fields == 0 || self.max_field_bytes == 0 {
            return Err(Error::config("limits must be above zero"));
        }
        let timers = [
            self.header_read_timeout,
            self.body_read_timeout,
            self.callback_timeout,
            self.review_tick,
        ];
        // A day bounds every deadline computed from them, so none can overflow an `Instant`.
        if timers.iter().any(|t| t.is_zero() || *t > MAX_TIMER) {
            return Err(Error::config(
                "timeouts and the review tick must be above zero and at most a day",
            ));
        }
        if self.log_capacity == 0 {
            return Err(Error::config("the log capacity must be above zero"));
        }
        let mut extra_roots = Vec::new();
        for pem in &self.callback_roots_pem {
            let before = extra_roots.len();
            for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let certificate = certificate.map_err(|_| {
                    Error::config("a callback root PEM holds a malformed certificate")
                })?;
                // Parsed as a trust anchor now, so a bad root fails the build, not a callback.
                tokio_rustls::rustls::RootCertStore::empty()
                    .add(certificate.clone())
                    .map_err(|_| {
                        Error::config("a callback root PEM holds an unusable certificate")
                    })?;
                extra_roots.push(certificate);
            }
            if extra_roots.len() == before {
                return Err(Error::config("a callback root PEM holds no certificate"));
            }
        }
        let tls = if self.https {
            Some(self_signed()?)
        } else {
            None
        };
        Ok(Sandbox {
            config: Arc::new(Config {
                clock: self.clock,
                merchants,
                base_path,
                freshness: self.freshness,
                under_review_after: self.under_review_after,
                final_after: self.final_after,
                callback_delays: self.callback_delays,
                callback_timeout: self.callback_timeout,
                time_scale: self.time_scale,
                slow_delay: self.slow_delay,
                max_body_bytes: self.max_body_bytes,
                max_fields: self.max_fields,
                max_field_bytes: self.max_field_bytes,
                header_read_timeout: self.header_read_timeout,
                body_read_timeout: self.body_read_timeout,
                tls,
                store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                require_https_callbacks: self.require_https_callbacks,
                log_endpoint: self.log_endpoint,
                review_tick: self.review_tick,
                log_capacity: self.log_capacity,
                default_outcome: self.default_outcome,
                late_callback_after: self.late_callback_after,
                callback_tls: CallbackTrust {
                    native_roots: self.callback_native_roots,
                    extra_roots,
                    accept_invalid_certs: self.accept_invalid_callback_certs,
                },
                control: self.control,
            }),
        })
    }
}

fn normalise_base_path(path: &str) -> Result<String, Error> {
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b))
    {
        return Err(Error::config(
            "the base path may only contain A-Z a-z 0-9 / - _ . ~",
        ));
    }
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        Ok(String::new())
    } else {
        Ok(format!("/{trimmed}"))
    }
}

impl fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let numbers: Vec<&str> = self.merchants.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("SandboxBuilder")
            .field("merchants", &numbers)
            .field("base_path", &self.base_path)
            .field("https", &self.https)
            .field("default_outcome", &self.default_outcome)
            .field(
                "danger_accept_invalid_callback_certs",
                &self.accept_invalid_callback_certs,
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths_are_normalised() {
        assert_eq!(normalise_base_path("/japan").unwrap(), "/japan");
        assert_eq!(normalise_base_path("japan/").unwrap(), "/japan");
        assert_eq!(normalise_base_path("/").unwrap(), "");
        assert_eq!(normalise_base_path("").unwrap(), "");
        assert_eq!(normalise_base_path("/a/b").unwrap(), "/a/b");
        assert!(normalise_base_path("/a b").is_err());
        assert!(normalise_base_path("/a?b").is_err());
    }
}
