//! The connector stack under hyper-util's pooled client: TCP, then an optional proxy (CONNECT
//! tunnel for `https`, forward proxy for `http`), then TLS (in hyper-rustls), all under the
//! connect timeout.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::error::{BoxError, ConnectTimedOut};
use crate::origin::{Open, Origins};

type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// A TCP stream, direct or through a proxy; `proxied` tells the pool to send absolute-form
/// request targets (forward proxy for plain `http`).
#[derive(Debug)]
pub(crate) struct Conn {
    inner: TokioIo<TcpStream>,
    proxied: bool,
    /// Counts the connection open to its `https` origin while it lives.
    _open: Option<Open>,
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.inner.connected().proxy(self.proxied)
    }
}

/// TCP with proxy rules applied.
#[derive(Clone, Debug)]
pub(crate) struct ProxyConnector {
    pub(crate) http: HttpConnector,
    pub(crate) proxy: Option<Arc<Matcher>>,
    pub(crate) origins: Origins,
}

impl Service<Uri> for ProxyConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Connecting<Conn>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // HttpConnector is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept = self
            .proxy
            .as_ref()
            .and_then(|matcher| matcher.intercept(&dst));
        let mut http = self.http.clone();
        let origins = self.origins.clone();
        let Some(intercept) = intercept else {
            return Box::pin(async move {
                let inner = http.call(dst.clone()).await?;
                Ok(Conn {
                    inner,
                    proxied: false,
                    _open: origins.open(&dst),
                })
            });
        };
        let proxy_uri = intercept.uri().clone();
        if proxy_uri.scheme_str() != Some("http") {
            return Box::pin(async move {
                Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "only http:// proxies are supported",
                )
                .into())
            });
        }
        if dst.scheme_str() == Some("https") {
            tracing::debug!(proxy.host = proxy_uri.host(), "tunnelling through proxy");
            let mut tunnel = Tunnel::new(proxy_uri, http);
            if let Some(auth) = intercept.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            Box::pin(async move {
                let inner = tunnel.call(dst.clone()).await?;
                Ok(Conn {
                    inner,
                    proxied: false,
                    _open: origins.open(&dst),
                })
            })
        } else {
            tracing::debug!(proxy.host = proxy_uri.host(), "forwarding through proxy");
            Box::pin(async move {
                let inner = http.call(proxy_uri).await?;
                Ok(Conn {
                    inner,
                    proxied: true,
                    _open: None, // plain `http`: never HTTP/2
                })
            })
        }
    }
}

/// Bounds the whole connect (TCP, tunnel, TLS handshake) by one timeout.
#[derive(Clone, Debug)]
pub(crate) struct TimeoutConnector<C> {
    pub(crate) inner: C,
    pub(crate) timeout: Duration,
}

impl<C> Service<Uri> for TimeoutConnector<C>
where
    C: Service<Uri> + Send,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Connecting<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.inner.call(dst);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(result) => result.map_err(Into::into),
                Err(_) => Err(Box::new(ConnectTimedOut) as BoxError),
            }
        })
    }
}
