//! A service that answers `hello` (or waits to be released first), and a running server.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use kyc_serve::Server;
use kyc_test_support::loris::read_until_closed;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// Long enough for any cut-off in these tests to happen; never a timing assertion.
pub(crate) use kyc_test_support::loris::BOUND;

/// Answers `hello`; a request to `/held` first waits until [`Gate::release`].
#[derive(Clone, Default)]
pub(crate) struct Gate {
    started: Arc<Notify>,
    released: Arc<Notify>,
}

impl hyper::service::Service<http::Request<Incoming>> for Gate {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let gate = self.clone();
        Box::pin(async move {
            if request.uri().path() == "/held" {
                gate.started.notify_one();
                gate.released.notified().await;
            }
            Ok(http::Response::new(Full::new(Bytes::from_static(b"hello"))))
        })
    }
}

impl Gate {
    /// Waits until a `/held` request has reached the service.
    pub(crate) async fn started(&self) {
        tokio::time::timeout(BOUND, self.started.notified())
            .await
            .expect("the held request reaches the service");
    }

    pub(crate) fn release(&self) {
        self.released.notify_one();
    }
}

/// A server serving a [`Gate`] on `127.0.0.1:0` until [`stop`](Self::stop).
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) gate: Gate,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

impl Running {
    pub(crate) async fn start(server: Server) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let gate = Gate::default();
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(server.serve(listener, gate.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            gate,
            stop: Some(stop),
            server,
        }
    }

    /// Sends the shutdown signal; the server may still be draining.
    pub(crate) fn signal(&mut self) {
        let _ = self.stop.take().expect("signalled once").send(());
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.server.is_finished()
    }

    /// Waits (bounded) for `serve` to return.
    pub(crate) async fn stopped(self) {
        tokio::time::timeout(BOUND, self.server)
            .await
            .expect("the server returns")
            .expect("the server does not panic");
    }

    pub(crate) async fn stop(mut self) {
        self.signal();
        self.stopped().await;
    }
}

/// One HTTP/1 `GET path` on a fresh connection, raw; returns everything the server sent.
pub(crate) async fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    read_all(stream).await
}

/// Reads until the server closes the connection (bounded by [`BOUND`]).
pub(crate) async fn read_all(stream: impl tokio::io::AsyncRead + Unpin) -> String {
    let cut = read_until_closed(stream).await;
    assert!(cut.closed, "the server closes the connection");
    String::from_utf8_lossy(&cut.answer).into_owned()
}

pub(crate) fn is_hello(answer: &str) -> bool {
    answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\nhello")
}
