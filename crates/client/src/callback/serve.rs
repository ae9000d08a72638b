//! The ready-made receiver: [`CallbackService`] on `kyc-serve`'s accept loop (feature
//! `server`).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

use super::{CallbackService, Handled};
use crate::types::Callback;

/// Serves `service` on `listener` (HTTP/1.1 and HTTP/2) until `shutdown` completes, then
/// finishes the exchanges in flight.
///
/// Each connection must begin its first request, and send each request head, within the
/// service's [`header_read_timeout`](CallbackService::header_read_timeout) (10 s by default;
/// slow or silent clients are cut off), and each request is served within its
/// [`request_timeout`](CallbackService::request_timeout) (8 s by default, else `408` or `503`).
/// Request heads over 64 KiB are refused, and an HTTP/2 connection may have 64 requests open
/// at once. After `shutdown`, a connection still open a second past the request timeout is
/// dropped.
///
/// The receiver never stops on an accept error: one connection's failure is skipped, and when
/// the process runs out of file descriptors (a burst of callbacks, or idle connections held
/// open by a client) it logs a warning, pauses briefly and accepts again once descriptors are
/// freed. The accept loop is the one the sandbox uses (`kyc-serve`).
///
/// # Errors
///
/// None: accept errors are survived, and errors of one connection end that connection only.
/// The `io::Result` is kept so that callers' `?` goes on compiling.
///
/// # Examples
///
/// ```
/// use kyc_client::{CallbackService, serve_callbacks};
/// use kyc_client::types::Callback;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let key = kyc_sign::SigningKey::new("s")?;
/// let service = CallbackService::with_key(key, |_: Callback| async { Ok::<(), String>(()) });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// // Serves until the shutdown future completes: here, at once.
/// serve_callbacks(listener, service, async {}).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn serve_callbacks<H, F, T, E>(
    listener: TcpListener,
    service: CallbackService<H>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    H: Fn(Callback) -> F + Send + Sync + 'static,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Into<Handled>,
    E: fmt::Display + Send + 'static,
{
    let request_timeout = service.request_timeout;
    let server = kyc_serve::Server::new()
        .header_read_timeout(service.header_read_timeout)
        // Every exchange ends within the request timeout (with `408` or `503` at worst); the
        // second on top lets that answer be written.
        .shutdown_grace(request_timeout.saturating_add(Duration::from_secs(1)));
    // The service enforces its own request timeout: nothing to add here.
    server.serve(listener, service, shutdown).await;
    Ok(())
}
