//! Sockets: the accept loop, TLS, graceful shutdown, and the handle a caller holds.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::callback::Dispatcher;
use crate::engine::Engine;
use crate::log::LogBook;
use crate::service;
use crate::{Error, Log, Review, Sandbox};

/// How long a graceful shutdown waits for open connections to finish their answer.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Headers larger than this are refused by the HTTP layer (hyper's minimum is 8 KiB).
const MAX_HEADER_BUFFER: usize = 64 * 1024;

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

async fn serve(listener: TcpListener, engine: Arc<Engine>, mut shutdown: watch::Receiver<bool>) {
    let config = Arc::clone(&engine.config);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(MAX_HEADER_BUFFER);
    // HTTP/2 has no header read timeout; pings find dead peers and a stream cap bounds the work
    // one connection can queue.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(config.header_read_timeout)
        .keep_alive_timeout(config.header_read_timeout)
        .max_concurrent_streams(64)
        .max_header_list_size(u32::try_from(MAX_HEADER_BUFFER).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let acceptor = config
        .tls
        .as_ref()
        .map(|tls| TlsAcceptor::from(Arc::clone(&tls.server_config)));
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stopped| *stopped) => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: back off briefly instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let engine = Arc::clone(&engine);
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        let handshake_timeout = config.header_read_timeout;
        tokio::spawn(async move {
            // hyper's header read timeout starts once HTTP/1 is detected; a client that sends
            // nothing, or half an HTTP/2 preface, would hold the connection forever. The first
            // request must therefore begin within the header read timeout.
            let first_request = Arc::new(Notify::new());
            let seen = Arc::clone(&first_request);
            let service = service_fn(move |request| {
                seen.notify_one();
                service::handle(Arc::clone(&engine), request)
            });
            let deadline = handshake_timeout;
            let result = match acceptor {
                None => {
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    let connection = watcher.watch(connection.into_owned());
                    first_request_within(deadline, &first_request, connection).await
                }
                Some(acceptor) => {
                    // The handshake counts against the same deadline.
                    // This accept loop gives way to the shared one, which reads no clock.
                    #[allow(clippy::disallowed_methods)]
                    let started = tokio::time::Instant::now();
                    let Ok(Ok(tls)) = tokio::time::timeout(deadline, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let left = deadline.saturating_sub(started.elapsed());
                    let connection = builder.serve_connection(TokioIo::new(tls), service);
                    let connection = watcher.watch(connection.into_owned());
                    first_request_within(left, &first_request, connection).await
                }
            };
            if let Some(Err(error)) = result {
                tracing::debug!(error = %error, "connection closed with an error");
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// Drives `connection`, dropping it (closing the socket) unless a first request begins within
/// `deadline`. `None` when it was dropped.
async fn first_request_within<F: Future>(
    deadline: Duration,
    first_request: &Notify,
    connection: F,
) -> Option<F::Output> {
    let mut connection = pin!(connection);
    tokio::select! {
        output = &mut connection => return Some(output),
        started = tokio::time::timeout(deadline, first_request.notified()) => {
            if started.is_err() {
                return None;
            }
        }
    }
    Some(connection.await)
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
