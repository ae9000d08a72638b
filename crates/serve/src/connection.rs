//! One accepted connection: the TLS handshake and the first request within one deadline, then
//! hyper until the connection ends or the server shuts down.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::Watcher;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Sleep;

use crate::BoxError;

/// Serves one connection to its end.
pub(crate) async fn serve<S, B>(
    builder: Arc<auto::Builder<TokioExecutor>>,
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    watcher: Watcher,
    header_read_timeout: Duration,
    #[cfg(feature = "tls")] tls: Option<tokio_rustls::TlsAcceptor>,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let first_request = Arc::new(Notify::new());
    let service = Notifying {
        inner: service,
        seen: Arc::clone(&first_request),
    };
    // One deadline for the handshake and the first request together: a sleep started once
    // and polled by both, so no clock is read here.
    let deadline = tokio::time::sleep(header_read_timeout);
    tokio::pin!(deadline);
    #[cfg(feature = "tls")]
    {
        if let Some(acceptor) = tls {
            let stream = tokio::select! {
                accepted = acceptor.accept(stream) => match accepted {
                    Ok(stream) => stream,
                    Err(error) => {
                        tracing::debug!(%peer, %error, "TLS handshake failed");
                        return;
                    }
                },
                () = &mut deadline => {
                    tracing::debug!(%peer, "TLS handshake not finished in time");
                    return;
                }
            };
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let output = first_request_within(deadline, &first_request, watcher.watch(connection));
            report(peer, output.await);
            return;
        }
    }
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let output = first_request_within(deadline, &first_request, watcher.watch(connection));
    report(peer, output.await);
}

/// Drives `connection`, dropping it (closing the socket) unless a first request begins before
/// `deadline`; `None` when it was dropped.
///
/// hyper's HTTP/1 header read timeout only starts once the protocol is detected: before that,
/// the auto builder waits without a limit for the first bytes (to tell HTTP/1 from an HTTP/2
/// preface), so a client that connects and sends nothing, or half a preface, would otherwise
/// hold the connection, a task and a file descriptor forever.
async fn first_request_within<F: Future>(
    deadline: Pin<&mut Sleep>,
    first_request: &Notify,
    connection: F,
) -> Option<F::Output> {
    tokio::pin!(connection);
    tokio::select! {
        output = &mut connection => return Some(output),
        () = first_request.notified() => {}
        () = deadline => return None,
    }
    Some(connection.await)
}

fn report(peer: SocketAddr, output: Option<Result<(), BoxError>>) {
    match output {
        None => tracing::debug!(%peer, "connection sent no request in time; closed"),
        Some(Err(error)) => tracing::debug!(%peer, %error, "connection ended with an error"),
        Some(Ok(())) => {}
    }
}

/// The caller's service, telling the connection that a request has begun.
struct Notifying<S> {
    inner: S,
    seen: Arc<Notify>,
}

impl<S, R> Service<R> for Notifying<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, request: R) -> Self::Future {
        // A stored permit when nobody waits yet: the first request is never missed.
        self.seen.notify_one();
        self.inner.call(request)
    }
}
