//! The accept loop that the `kyc-sandbox` fake provider and `kyc-client`'s callback receiver
//! share: one [`Server`] that takes connections from a [`tokio::net::TcpListener`], optionally
//! completes a TLS handshake, serves each connection with a `hyper` service over HTTP/1.1 or
//! HTTP/2 (hyper-util's auto builder tells them apart), and on shutdown lets open connections
//! finish their answer for a bounded time.
//!
//! What it guarantees:
//!
//! - **Slow or silent clients are cut off.** A connection must complete its TLS handshake and
//!   begin its first request within the [header read timeout](Server::header_read_timeout),
//!   and send each HTTP/1 request head within it; HTTP/2 peers that stop answering pings within
//!   it are dropped. hyper's own header timeout only starts once the protocol is known, so
//!   without the first deadline a client sending nothing, or half an HTTP/2 preface, would hold
//!   a task and a file descriptor forever.
//! - **Accept errors never stop it.** An error about one pending connection (`ECONNABORTED`,
//!   `ECONNRESET`, `EPROTO` and the network errors Linux reports on a new socket) is skipped.
//!   Running out of descriptors, buffers or memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`), or
//!   any other error, makes the loop pause (10 ms, doubling up to 1 s, back to 10 ms after an
//!   accept succeeds) instead of spinning, then accept again. It is logged through `tracing`
//!   without flooding: the first failure at once with its error, the ones after it summed up
//!   once a minute, and a minute without failures as the end of the trouble. A burst of
//!   connections beyond the descriptor limit slows the server down; it does not stop it.
//! - **Graceful shutdown, bounded.** When the shutdown future completes, the listener is closed,
//!   HTTP/1 connections close after their current answer, HTTP/2 connections get `GOAWAY`, and
//!   whatever is still open after the [shutdown grace](Server::shutdown_grace) is dropped.
//!
//! What it deliberately is not: it has no routing, no request timeouts and no body limits (those
//! belong to the service, which knows what a request may cost), reads no clock of its own (all
//! waiting goes through tokio's timer, so a test may pause time), and depends on no other `kyc-*`
//! crate, so the sandbox can use it and stay independent of the client it tests.
//!
//! # Examples
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//!
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use hyper::service::service_fn;
//! use kyc_serve::Server;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let service = service_fn(|_request| async {
//!     Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"hello"))))
//! });
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(
//!     Server::new()
//!         .header_read_timeout(Duration::from_secs(5))
//!         .serve(listener, service, async { let _ = stopped.await; }),
//! );
//!
//! let mut stream = tokio::net::TcpStream::connect(addr).await?;
//! stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer).await?;
//! assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("hello"));
//!
//! let _ = stop.send(());
//! server.await?; // returns once open connections have finished
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//!
//! - `tls` (off by default): `Server::tls` serves HTTPS with a `tokio_rustls::TlsAcceptor`
//!   the caller builds (certificates, ALPN, crypto provider are the caller's choice).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accept;
mod connection;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::accept::{Backoff, Failure, Reports};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest timeout kept: hyper adds it to the current instant, which must not overflow.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// hyper refuses an HTTP/1 read buffer under 8 KiB.
const MIN_HEADER_BYTES: usize = 8 * 1024;

/// How to serve: timeouts, limits and (with the `tls` feature) TLS. Cheap to clone.
///
/// The defaults suit both the sandbox and a callback receiver:
///
/// | setting | default |
/// | --- | --- |
/// | [`header_read_timeout`](Self::header_read_timeout) | 10 s |
/// | [`max_header_bytes`](Self::max_header_bytes) | 64 KiB |
/// | [`max_concurrent_streams`](Self::max_concurrent_streams) | 64 |
/// | [`shutdown_grace`](Self::shutdown_grace) | 5 s |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let server = kyc_serve::Server::new()
///     .header_read_timeout(Duration::from_secs(2))
///     .shutdown_grace(Duration::from_secs(30));
/// assert!(format!("{server:?}").contains("header_read_timeout: 2s"));
/// ```
#[derive(Clone)]
pub struct Server {
    header_read_timeout: Duration,
    max_header_bytes: usize,
    max_concurrent_streams: u32,
    shutdown_grace: Duration,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Server");
        debug
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("max_concurrent_streams", &self.max_concurrent_streams)
            .field("shutdown_grace", &self.shutdown_grace);
        #[cfg(feature = "tls")]
        debug.field("tls", &self.tls.is_some());
        debug.finish()
    }
}

impl Server {
    /// A server with the defaults in the table above, serving plain HTTP.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = kyc_serve::Server::new();
    /// assert!(format!("{server:?}").contains("shutdown_grace: 5s"));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            max_concurrent_streams: 64,
            shutdown_grace: Duration::from_secs(5),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// How long a client may take to complete the TLS handshake and begin its first request
    /// (together), and to send each HTTP/1 request head; also the HTTP/2 ping interval and the
    /// time a ping may go unanswered. A connection that runs out is closed. A value over a day
    /// is taken as a day.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let server = kyc_serve::Server::new().header_read_timeout(Duration::MAX);
    /// assert!(format!("{server:?}").contains("header_read_timeout: 86400s"));
    /// ```
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// The largest request head accepted: the HTTP/1 read buffer and the HTTP/2 header list
    /// size. hyper needs at least 8 KiB; a smaller value is taken as 8 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = kyc_serve::Server::new().max_header_bytes(16 * 1024);
    /// # let _ = server;
    /// ```
    #[must_use]
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes.max(MIN_HEADER_BYTES);
        self
    }

    /// How many HTTP/2 streams one connection may have open at once: bounds the work one
    /// client can queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = kyc_serve::Server::new().max_concurrent_streams(16);
    /// # let _ = server;
    /// ```
    #[must_use]
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.max_concurrent_streams = streams;
        self
    }

    /// How long, after the shutdown future completes, open connections may take to finish
    /// their answers before they are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let server = kyc_serve::Server::new().shutdown_grace(Duration::from_secs(30));
    /// # let _ = server;
    /// ```
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace.min(MAX_TIMEOUT);
        self
    }

    /// Serves HTTPS: every accepted connection first completes a TLS handshake with
    /// `acceptor`, within the [header read timeout](Self::header_read_timeout). Offer `h2` and
    /// `http/1.1` through ALPN in the acceptor's configuration for HTTP/2 clients.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use tokio_rustls::rustls;
    ///
    /// let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    /// let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
    ///     certified.key_pair.serialize_der().into(),
    /// );
    /// let provider = Arc::new(rustls::crypto::ring::default_provider());
    /// let config = rustls::ServerConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()?
    ///     .with_no_client_auth()
    ///     .with_single_cert(vec![certified.cert.der().clone()], key)?;
    /// let server = kyc_serve::Server::new().tls(tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    /// assert!(format!("{server:?}").contains("tls: true"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, acceptor: tokio_rustls::TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
        self
    }

    /// Accepts connections on `listener` and serves each with a clone of `service` until
    /// `shutdown` completes; then closes the listener, lets open connections finish their
    /// answers for up to the [shutdown grace](Self::shutdown_grace), drops the rest and
    /// returns.
    ///
    /// It never returns early: accept errors are survived (see the crate docs), and errors of
    /// one connection end that connection only. Dropping the returned future drops every open
    /// connection at once. Must run inside a tokio runtime with I/O and time enabled.
    ///
    /// # Examples
    ///
    /// See the [crate docs](crate).
    pub async fn serve<S, B>(
        self,
        listener: TcpListener,
        service: S,
        shutdown: impl Future<Output = ()>,
    ) where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let builder = Arc::new(self.builder());
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        let mut backoff = Backoff::new();
        let mut reports = Reports::default();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                // Finished connections are reaped as they end, so the set holds open ones only.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                () = reports.window_over(), if reports.is_counting() => {
                    reports.close_window();
                    continue;
                }
                () = &mut shutdown => break,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    let failure = Failure::of(&error);
                    if failure == Failure::Connection {
                        tracing::debug!(%error, "a connection failed before it was accepted");
                        continue;
                    }
                    reports.failed(failure, &error);
                    let pause = backoff.failed();
                    tokio::select! {
                        () = tokio::time::sleep(pause) => continue,
                        () = &mut shutdown => break,
                    }
                }
            };
            backoff.succeeded();
            let _ = stream.set_nodelay(true);
            connections.spawn(connection::serve(
                Arc::clone(&builder),
                stream,
                peer,
                service.clone(),
                graceful.watcher(),
                self.header_read_timeout,
                #[cfg(feature = "tls")]
                self.tls.clone(),
            ));
        }
        drop(listener);
        if tokio::time::timeout(self.shutdown_grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::info!(
                open = connections.len(),
                "shutdown grace is over; dropping the connections still open"
            );
        }
        connections.shutdown().await;
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let header_bytes = self.max_header_bytes;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(header_bytes);
        // HTTP/2 has no header read timeout: pings find dead peers, and a stream cap bounds the
        // work one connection can queue.
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(self.header_read_timeout)
            .keep_alive_timeout(self.header_read_timeout)
            .max_concurrent_streams(self.max_concurrent_streams)
            .max_header_list_size(u32::try_from(header_bytes).unwrap_or(u32::MAX));
        builder
    }
}
