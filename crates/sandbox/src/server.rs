//! Sockets: the accept loop, TLS, graceful shutdown, and the handle a caller holds.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::callback::Dispatcher;
use crate::engine::Engine;
use crate::log::LogBook;
use crate::service;
use crate::{Decision, Error, Log, Review, Sandbox};

/// How long a graceful shutdown waits for open connections to finish their answer.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Headers larger than this are refused by the HTTP layer (hyper's minimum is 8 KiB).
const MAX_HEADER_BUFFER: usize = 64 * 1024;

/// HTTP/2 streams one connection may have open at once: bounds the work one client can queue.
const MAX_STREAMS: u32 = 64;

impl Sandbox {
    /// Listens on `addr` (`127.0.0.1:0` picks a free port) and serves in the background of the
    /// current tokio runtime until [`Running::shutdown`] (or the [`Running`] is dropped).
    ///
    /// Must run inside a tokio runtime with I/O and time enabled (`enable_all`).
    ///
    /// # Errors
    ///
    /// An [`Error`] when the address cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let sandbox = Sandbox::builder(FixedClock::new(0)).merchant("1", "s").build()?;
    /// let running = sandbox.start("127.0.0.1:0").await?;
    /// assert!(running.base_url().starts_with("http://127.0.0.1:"));
    /// running.shutdown().await;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn start(self, addr: impl ToSocketAddrs) -> Result<Running, Error> {
        let listener = TcpListener::bind(addr).await.map_err(Error::bind)?;
        self.start_on(listener)
    }

    /// Serves on a listener the caller bound (to choose socket options, or to hold the port
    /// before the sandbox is built).
    ///
    /// # Errors
    ///
    /// An [`Error`] when the listener's address cannot be read, or when called outside a tokio
    /// runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let sandbox = Sandbox::builder(FixedClock::new(0)).merchant("1", "s").build()?;
    /// let running = sandbox.start_on(listener)?;
    /// running.shutdown().await;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_on(self, listener: TcpListener) -> Result<Running, Error> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::config("the sandbox must be started inside a tokio runtime"))?;
        let local_addr = listener.local_addr().map_err(Error::io)?;
        let config = self.config;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let log = Arc::new(LogBook::new(config.log_capacity));
        let dispatcher = Dispatcher::new(
            runtime.clone(),
            Arc::clone(&config),
            Arc::clone(&log),
            shutdown_rx.clone(),
        );
        let engine = Arc::new(Engine::new(Arc::clone(&config), log, dispatcher));
        engine.seed_schedule();
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let base_url = format!(
            "{scheme}://{}{}",
            display_addr(local_addr),
            config.base_path
        );
        let server = runtime.spawn(serve(listener, Arc::clone(&engine), shutdown_rx.clone()));
        let reviewer = runtime.spawn(review(Arc::clone(&engine), shutdown_rx));
        tracing::info!(%base_url, "kyc sandbox listening");
        Ok(Running {
            engine,
            local_addr,
            base_url,
            shutdown,
            server: Some(server),
            reviewer: Some(reviewer),
        })
    }
}

/// A sandbox that is serving. Dropping it stops the server without waiting; prefer
/// [`shutdown`](Self::shutdown).
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
/// let running = Sandbox::builder(clock.clone())
///     .merchant("1027749636", "TEST_SECRET_DO_NOT_USE")
///     .build()?
///     .start("127.0.0.1:0")
///     .await?;
/// // ... send requests to running.base_url() ...
/// clock.advance(Duration::from_secs(5));
/// running.tick(); // reviews move now, without waiting for the background reviewer
/// assert!(running.log().requests.is_empty());
/// running.shutdown().await;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Running {
    engine: Arc<Engine>,
    local_addr: SocketAddr,
    base_url: String,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    reviewer: Option<JoinHandle<()>>,
}

impl Running {
    /// The base URL clients use: scheme, loopback address and port, base path; no trailing
    /// `/` (`http://127.0.0.1:41234/japan`). A wildcard listen address (`0.0.0.0`, `::`) is
    /// shown as the loopback address of its family.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address the listener is bound to.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The full URL of `kycApplyFor`.
    #[must_use]
    pub fn apply_url(&self) -> String {
        format!("{}{}", self.base_url, service::APPLY_PATH)
    }

    /// The full URL of `kycStatusQuery`.
    #[must_use]
    pub fn status_url(&self) -> String {
        format!("{}{}", self.base_url, service::STATUS_PATH)
    }

    /// The full URL of the JSON log (`GET`).
    #[must_use]
    pub fn log_url(&self) -> String {
        format!("{}{}", self.base_url, service::LOG_PATH)
    }

    /// The URL of the dashboard page (`GET`, `{base}/_sandbox/`): open it in a browser.
    #[must_use]
    pub fn dashboard_url(&self) -> String {
        format!("{}{}/", self.base_url, service::CONTROL_PATH)
    }

    /// Decides the open (pending or under review) application of `user_id` with
    /// `merchant_no` now: it moves, and calls back, exactly as if its schedule had decided it
    /// (a [`Decision::Hold`] keeps it under review, without a callback, until the next
    /// decision). Returns the review as decided. Also `POST {base}/_sandbox/decide`.
    ///
    /// # Errors
    ///
    /// An [`Error`] whose [`control_code`](Error::control_code) says why: an unknown merchant
    /// or `userId`, an application already approved or rejected, a bad `failReason`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn example(running: &kyc_sandbox::Running) -> Result<(), kyc_sandbox::Error> {
    /// use kyc_sandbox::Decision;
    ///
    /// running.decide("1027749636", "abc_100008", Decision::Reject("document expired".into()))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn decide(
        &self,
        merchant_no: &str,
        user_id: &str,
        decision: Decision,
    ) -> Result<Review, Error> {
        self.engine.decide(Some(merchant_no), user_id, decision)
    }

    /// Delivers the callback of a decided application again, as the provider resends one:
    /// the same body (same `timestamp` and `sign`), on the full retry schedule, regardless of
    /// the `lost` scenario. Also `POST {base}/_sandbox/resend`.
    ///
    /// # Errors
    ///
    /// An [`Error`] whose [`control_code`](Error::control_code) says why: an unknown merchant
    /// or `userId`, or an application not decided yet (`not_decided`).
    pub fn resend(&self, merchant_no: &str, user_id: &str) -> Result<Review, Error> {
        self.engine.resend(Some(merchant_no), user_id)
    }

    /// The PEM of the self-signed certificate, when serving HTTPS: give it to a client as its
    /// only trusted root.
    #[must_use]
    pub fn certificate_pem(&self) -> Option<&str> {
        self.engine
            .config
            .tls
            .as_ref()
            .map(|tls| tls.certificate_pem.as_str())
    }

    /// A snapshot of the request and callback log.
    #[must_use]
    pub fn log(&self) -> Log {
        self.engine.log.snapshot()
    }

    /// Empties the log.
    pub fn clear_log(&self) {
        self.engine.log.clear();
    }

    /// Waits until `done` holds for the log, checking after every change. Wrap it in
    /// `tokio::time::timeout` in tests.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example(running: &kyc_sandbox::Running) {
    /// running.wait_until(|log| log.is_delivered("abc_100008")).await;
    /// # }
    /// ```
    pub async fn wait_until(&self, done: impl FnMut(&Log) -> bool) {
        self.engine.log.wait_until(done).await;
    }

    /// The review of every application, with statuses as of the last time the sandbox looked
    /// at the clock (call [`tick`](Self::tick) first to bring them up to date).
    #[must_use]
    pub fn applications(&self) -> Vec<Review> {
        self.engine.config.store.list()
    }

    /// The review of `user_id`'s application with `merchant_no`, if any.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn example(running: &kyc_sandbox::Running) {
    /// running.tick();
    /// if let Some(review) = running.application("1027749636", "reject-u1") {
    ///     println!("{} is {}", review.user_id(), review.status());
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn application(&self, merchant_no: &str, user_id: &str) -> Option<Review> {
        self.engine.config.store.load(merchant_no, user_id)
    }

    /// Moves every review along to the clock's current time at once, starting the callbacks
    /// that became due (the background reviewer does the same every review tick).
    pub fn tick(&self) {
        self.engine.tick();
    }

    /// Stops accepting connections, lets open ones finish their current answer (up to 5 s),
    /// and stops the reviewer and pending callback deliveries.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(reviewer) = self.reviewer.take() {
            let _ = reviewer.await;
        }
        tracing::info!(base_url = %self.base_url, "kyc sandbox stopped");
    }

    /// Serves until `signal` completes (for example `tokio::signal::ctrl_c()`), then shuts
    /// down gracefully. This is the whole life of a sandbox run as a command.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{FixedClock, Sandbox};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let running = Sandbox::builder(FixedClock::new(0)).merchant("1", "s").build()?
    ///     .start("127.0.0.1:0").await?;
    /// running.run_until(async { /* a signal */ }).await;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("base_url", &self.base_url)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// `0.0.0.0` and `::` are where the sandbox listens, not where a client connects.
fn display_addr(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port()).to_string()
}

/// Serves the engine on `listener` until `shutdown` turns true, through the accept loop the
/// callback receiver of `kyc-client` uses too (`kyc-serve`): its deadline for the first request
/// bounds the TLS handshake as well, and accept errors never stop it.
async fn serve(listener: TcpListener, engine: Arc<Engine>, mut shutdown: watch::Receiver<bool>) {
    let config = Arc::clone(&engine.config);
    let mut server = kyc_serve::Server::new()
        .header_read_timeout(config.header_read_timeout)
        .max_header_bytes(MAX_HEADER_BUFFER)
        .max_concurrent_streams(MAX_STREAMS)
        .shutdown_grace(SHUTDOWN_GRACE);
    if let Some(tls) = &config.tls {
        server = server.tls(TlsAcceptor::from(Arc::clone(&tls.server_config)));
    }
    let service = service_fn(move |request| service::handle(Arc::clone(&engine), request));
    let stopped = async move {
        let _ = shutdown.wait_for(|stopped| *stopped).await;
    };
    server.serve(listener, service, stopped).await;
}

async fn review(engine: Arc<Engine>, mut shutdown: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(engine.config.review_tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => engine.tick(),
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
    }
}
