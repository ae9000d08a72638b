//! The connection pool under [`Transport`](crate::Transport), on hyper's connection API.
//!
//! HTTP/1.1 connections are kept alive and lent out one request at a time; an HTTP/2
//! connection (negotiated through ALPN) is shared by every request to its origin. hyper-util's
//! general-purpose client did this too, but at a price per request (hashing the pool key,
//! checkout and connect futures raced against each other, a task spawned to hand each
//! connection back) that exceeded everything this crate adds to a request.
//!
//! What the pool promises:
//!
//! - a request that a reused connection could not start writing (the server had closed it
//!   while it was idle) is sent again on another connection, a new one after a few such
//!   failures; one that may have been written is never resent here;
//! - an HTTP/1.1 connection goes back to the pool only after its response body was read whole,
//!   so a half-read connection is never reused (dropping the [`Lease`] closes it);
//! - idle connections older than the idle timeout are not reused, and at most
//!   [`Pool::MAX_IDLE`] are kept.

use std::sync::Mutex;
use std::time::Duration;

use http::header::HOST;
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Uri};
use hyper::client::conn::{http1, http2};
use hyper_util::client::legacy::connect::Connection;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;
use tower_service::Service;

use crate::error::{self, Error};
use crate::transport::{Connector, OutBody};

/// Idle connections to one origin, HTTP/1.1 and HTTP/2, kept alive for reuse.
pub(crate) struct Pool {
    connector: Connector,
    connect_timeout: Duration,
    idle_timeout: Duration,
    idle: Mutex<Vec<Idle>>,
}

/// Where a connection leads: scheme and authority, as hyper-util keyed its pool.
#[derive(Clone, PartialEq, Eq)]
struct Key {
    scheme: Scheme,
    authority: Authority,
}

struct Idle {
    key: Key,
    conn: Conn,
    since: Instant,
}

/// A connection able to take a request.
struct Conn {
    sender: Sender,
    /// A forward proxy's connection: HTTP/1.1 request targets go in absolute form.
    proxied: bool,
    /// The `Host` header for HTTP/1.1 requests to this origin, made once per connection.
    host: HeaderValue,
}

enum Sender {
    Http1(http1::SendRequest<OutBody>),
    Http2(http2::SendRequest<OutBody>),
}

/// An HTTP/1.1 connection out on a request; [`Lease::release`] hands it back once the
/// response body was read whole. Dropped instead, it closes the connection.
pub(crate) struct Lease<'a> {
    pool: &'a Pool,
    key: Key,
    conn: Conn,
}

impl Lease<'_> {
    pub(crate) fn release(self) {
        self.pool.check_in(self.key, self.conn);
    }
}

impl Pool {
    /// Idle connections kept at most, over all origins: room for a client that sends a hundred
    /// requests at once to reuse its connections.
    const MAX_IDLE: usize = 128;
    /// Pooled connections one request tries before it goes to a new connection.
    const MAX_RESENDS: usize = 3;

    pub(crate) fn new(
        connector: Connector,
        connect_timeout: Duration,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            connector,
            connect_timeout,
            idle_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `request` (its URI absolute) on a pooled or new connection and returns the
    /// response head, with the lease of an HTTP/1.1 connection to release after the body.
    pub(crate) async fn send(
        &self,
        mut request: http::Request<OutBody>,
    ) -> Result<(http::Response<hyper::body::Incoming>, Option<Lease<'_>>), Error> {
        let uri = request.uri().clone();
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(Error::invalid(crate::error::InvalidKind::Uri));
        };
        let key = Key {
            scheme: scheme.clone(),
            authority: authority.clone(),
        };
        // Each pooled connection that fails before writing costs a resend; after a few, the
        // request goes to a new connection (whose failure is final), so the loop ends.
        let mut resends = 0;
        loop {
            let pooled = if resends < Self::MAX_RESENDS {
                self.check_out(&key)
            } else {
                None
            };
            let (mut conn, reused) = match pooled {
                Some(conn) => (conn, true),
                // Boxed: connecting is rare, and its future would otherwise swell every
                // request future built on this one.
                None => (Box::pin(self.connect(&key, &uri)).await?, false),
            };
            let attempt = match &mut conn.sender {
                Sender::Http1(sender) => {
                    if let Err(err) = sender.ready().await {
                        if reused {
                            resends += 1;
                            continue; // closed while idle: nothing was written
                        }
                        return Err(error::send_failed(err, false));
                    }
                    let headers = request.headers_mut();
                    if !headers.contains_key(HOST) {
                        headers.insert(HOST, conn.host.clone());
                    }
                    if !conn.proxied {
                        *request.uri_mut() = origin_form(&uri);
                    }
                    sender.try_send_request(request).await
                }
                Sender::Http2(sender) => {
                    if let Err(err) = sender.ready().await {
                        self.forget(&key);
                        if reused {
                            resends += 1;
                            continue;
                        }
                        return Err(error::send_failed(err, false));
                    }
                    sender.try_send_request(request).await
                }
            };
            match attempt {
                Ok(response) => {
                    let lease = matches!(conn.sender, Sender::Http1(_)).then_some(Lease {
                        pool: self,
                        key,
                        conn,
                    });
                    return Ok((response, lease));
                }
                Err(mut failed) => match failed.take_message() {
                    // Not written: safe to send again, on another connection.
                    Some(back) if reused => {
                        resends += 1;
                        if matches!(conn.sender, Sender::Http2(_)) {
                            self.forget(&key);
                        }
                        tracing::debug!(
                            "pooled connection closed before the request was written; resending"
                        );
                        request = back;
                        *request.uri_mut() = uri.clone();
                    }
                    Some(_) => return Err(error::send_failed(failed.into_error(), false)),
                    None => return Err(error::send_failed(failed.into_error(), true)),
                },
            }
        }
    }

    /// A live idle connection to `key`: an HTTP/1.1 one is taken out of the pool, an HTTP/2
    /// one is shared.
    fn check_out(&self, key: &Key) -> Option<Conn> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.is_empty() {
            return None;
        }
        // Idle ages on tokio's clock; this file goes when hyper-util's pool replaces it.
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut at = idle.len();
        while at > 0 {
            at -= 1;
            if idle[at].key != *key {
                continue;
            }
            let expired = now.saturating_duration_since(idle[at].since) >= self.idle_timeout;
            match &idle[at].conn.sender {
                Sender::Http2(sender) if !sender.is_closed() && !expired => {
                    let shared = Conn {
                        sender: Sender::Http2(sender.clone()),
                        proxied: idle[at].conn.proxied,
                        host: idle[at].conn.host.clone(),
                    };
                    idle[at].since = now;
                    return Some(shared);
                }
                Sender::Http1(sender) if !sender.is_closed() && !expired => {
                    return Some(idle.swap_remove(at).conn);
                }
                _ => drop(idle.swap_remove(at)),
            }
        }
        None
    }

    fn check_in(&self, key: Key, conn: Conn) {
        if let Sender::Http1(sender) = &conn.sender {
            if sender.is_closed() {
                return;
            }
        }
        #[allow(clippy::disallowed_methods)] // as in `check_out`
        let now = Instant::now();
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Entries are pushed in order, so the first is (about) the longest idle: when it has
        // expired, sweep every expired one, closing their connections.
        if idle
            .first()
            .is_some_and(|first| now.saturating_duration_since(first.since) >= self.idle_timeout)
        {
            idle.retain(|entry| now.saturating_duration_since(entry.since) < self.idle_timeout);
        }
        if idle.len() >= Self::MAX_IDLE {
            idle.remove(0);
        }
        idle.push(Idle {
            key,
            conn,
            since: now,
        });
    }

    /// Drops the shared HTTP/2 connection to `key`, which failed.
    fn forget(&self, key: &Key) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        idle.retain(|entry| entry.key != *key || matches!(entry.conn.sender, Sender::Http1(_)));
    }

    /// Opens a connection to `uri`'s origin, `key` (TCP, proxy, TLS, all under the connect
    /// timeout), and starts HTTP/2 if ALPN chose it, HTTP/1.1 otherwise. A new HTTP/2
    /// connection joins the pool at once, to be shared.
    async fn connect(&self, key: &Key, uri: &Uri) -> Result<Conn, Error> {
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(|err| error::connect_failed(err, self.connect_timeout))?;
        let io = connector
            .call(uri.clone())
            .await
            .map_err(|err| error::connect_failed(err, self.connect_timeout))?;
        let connected = io.connected();
        let host = host_header(uri);
        if connected.is_negotiated_h2() {
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .handshake(io)
                .await
                .map_err(|err| error::connect_failed(err.into(), self.connect_timeout))?;
            drive(connection, "HTTP/2");
            let shared = Conn {
                sender: Sender::Http2(sender.clone()),
                proxied: false,
                host: host.clone(),
            };
            self.check_in(key.clone(), shared);
            Ok(Conn {
                sender: Sender::Http2(sender),
                proxied: false,
                host,
            })
        } else {
            let (sender, connection) = http1::Builder::new()
                .handshake(io)
                .await
                .map_err(|err| error::connect_failed(err.into(), self.connect_timeout))?;
            drive(connection, "HTTP/1.1");
            Ok(Conn {
                sender: Sender::Http1(sender),
                proxied: connected.is_proxied(),
                host,
            })
        }
    }
}

/// Runs a connection's I/O on its own task until it closes.
fn drive<C>(connection: C, protocol: &'static str)
where
    C: std::future::Future<Output = Result<(), hyper::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, protocol, "connection ended");
        }
    });
}

/// The request target for a direct HTTP/1.1 connection: path and query only.
fn origin_form(uri: &Uri) -> Uri {
    match uri.path_and_query() {
        Some(path) if path.as_str() != "/" => {
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = Some(path.clone());
            Uri::from_parts(parts).expect("a path and query make a valid URI")
        }
        _ => Uri::from_static("/"),
    }
}

/// `Host` for `uri`: the host, and the port when it is not the scheme's default.
fn host_header(uri: &Uri) -> HeaderValue {
    let host = uri.host().unwrap_or_default();
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    let value = match uri.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    HeaderValue::from_maybe_shared(bytes::Bytes::from(value))
        .expect("a URI's host and port are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_form_keeps_path_and_query_only() {
        let cases = [
            ("http://h:8080/a/b?c=d", "/a/b?c=d"),
            ("https://h/", "/"),
            ("https://h", "/"),
        ];
        for (absolute, origin) in cases {
            let uri: Uri = absolute.parse().expect("uri");
            assert_eq!(origin_form(&uri), origin, "{absolute}");
        }
    }

    #[test]
    fn host_names_the_port_only_when_it_is_not_the_default() {
        let cases = [
            ("http://h/", "h"),
            ("http://h:80/", "h"),
            ("http://h:443/", "h:443"),
            ("https://h:443/", "h"),
            ("https://h:8443/", "h:8443"),
            ("http://127.0.0.1:41000/x", "127.0.0.1:41000"),
            ("http://[::1]:8080/", "[::1]:8080"),
        ];
        for (uri, host) in cases {
            let uri: Uri = uri.parse().expect("uri");
            assert_eq!(host_header(&uri), host);
        }
    }
}
