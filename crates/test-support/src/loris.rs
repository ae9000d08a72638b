//! Slow-loris clients: connections that send nothing, half a preface or half a request, or
//! trickle bytes, and report whether the server cut them off within [`BOUND`].
//!
//! [`BOUND`] is a generous upper limit for a cut-off that should happen in well under a second;
//! nothing here asserts how long anything took.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// How long a stalled client waits for the server to end its connection before calling it
/// held open.
pub const BOUND: Duration = Duration::from_secs(30);

/// Half of the HTTP/2 connection preface: what protocol detection must not wait on forever.
pub const HALF_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// How often a trickling client sends its next byte.
const TRICKLE_EVERY: Duration = Duration::from_millis(50);

/// At most this many trickled bytes (a minute of them); the server must cut the client off
/// long before.
const TRICKLE_BYTES: usize = 1200;

/// What a stalled or trickling client saw.
#[derive(Debug)]
pub struct Cut {
    /// Every byte the server sent.
    pub answer: Vec<u8>,
    /// Whether the server ended the connection (EOF or reset) within [`BOUND`].
    pub closed: bool,
}

/// The HTTP/2 connection preface and an empty SETTINGS frame.
pub fn http2_opening() -> Vec<u8> {
    let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    bytes
}

/// Connects to `addr`, writes `opening`, then either trickles `trickle` one byte every 50 ms
/// until the server stops reading, or (with `None`) holds its write half open without a FIN;
/// meanwhile reads until the server ends the connection or [`BOUND`] passes.
///
/// Panics if the connection or the opening write fails.
pub async fn stall(addr: SocketAddr, opening: Vec<u8>, trickle: Option<u8>) -> Cut {
    let stream = TcpStream::connect(addr).await.expect("connects");
    let (read, mut write) = stream.into_split();
    write
        .write_all(&opening)
        .await
        .expect("the opening is sent");
    let writer = tokio::spawn(async move {
        if let Some(byte) = trickle {
            for _ in 0..TRICKLE_BYTES {
                tokio::time::sleep(TRICKLE_EVERY).await;
                if write.write_all(&[byte]).await.is_err() {
                    return;
                }
            }
        } else {
            // Hold the write half open (no FIN) until the reader is done.
            std::future::pending::<()>().await;
        }
    });
    let cut = read_until_closed(read).await;
    writer.abort();
    cut
}

/// The six slow-loris clients of an HTTP/1 server, started at once on `addr`, in this order:
///
/// 0. nothing at all;
/// 1. half an HTTP/2 preface ([`HALF_PREFACE`]);
/// 2. `partial_head` (a request head cut off inside a header), then silence;
/// 3. `partial_head`, then `header_byte` trickled (a head that never ends);
/// 4. `body_head` (a whole head announcing a body) and the start of a JSON body, then silence;
/// 5. `body_head`, then spaces trickled (a body that never ends).
///
/// The first four are heads, the last two bodies. Await each handle for its [`Cut`].
pub fn stall_http1(
    addr: SocketAddr,
    partial_head: &[u8],
    header_byte: u8,
    body_head: &[u8],
) -> Vec<JoinHandle<Cut>> {
    let mut stalled_body = body_head.to_vec();
    stalled_body.extend_from_slice(b"{\"userId\":");
    vec![
        tokio::spawn(stall(addr, Vec::new(), None)),
        tokio::spawn(stall(addr, HALF_PREFACE.to_vec(), None)),
        tokio::spawn(stall(addr, partial_head.to_vec(), None)),
        tokio::spawn(stall(addr, partial_head.to_vec(), Some(header_byte))),
        tokio::spawn(stall(addr, stalled_body, None)),
        tokio::spawn(stall(addr, body_head.to_vec(), Some(b' '))),
    ]
}

/// Reads `stream` until the server ends it (EOF or an error) or [`BOUND`] passes.
pub async fn read_until_closed(mut stream: impl AsyncRead + Unpin) -> Cut {
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    Cut { answer, closed }
}

/// [`stall`] without a runtime, for tests that drive a child process from plain threads:
/// connects to `address`, writes `opening`, and reads (its write half kept open) until the
/// server ends the connection or [`BOUND`] passes.
///
/// Panics if the connection or the opening write fails.
pub fn stall_blocking(address: &str, opening: &[u8]) -> Cut {
    use std::io::{ErrorKind, Read, Write};

    let mut stream = std::net::TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(BOUND))
        .expect("a read timeout");
    stream.write_all(opening).expect("the opening is sent");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => {
                return Cut {
                    answer,
                    closed: true,
                };
            }
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Cut {
                    answer,
                    closed: false,
                };
            }
            Err(_) => {
                return Cut {
                    answer,
                    closed: true,
                };
            }
        }
    }
}

/// The status code and body of a raw HTTP/1 answer: status 0 when there is no status line,
/// the body empty when there is no blank line.
///
/// ```
/// let (status, body) = kyc_test_support::loris::status_and_body(b"HTTP/1.1 200 OK\r\n\r\nOK");
/// assert_eq!((status, body.as_str()), (200, "OK"));
/// ```
pub fn status_and_body(answer: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(answer);
    let status = text
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}
