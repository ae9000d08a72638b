//! Running out of file descriptors: the server pauses, logs, and answers again once
//! descriptors are freed.
//!
//! The server runs in a child process (this test binary again, selected by an environment
//! variable) started under `ulimit -n`, so the low limit never touches the other tests. The
//! parent holds more connections open than the child has descriptors, waits until the child
//! logs that accepting failed, releases them, and checks that a fresh request is answered.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use kyc_serve::Server;
use tokio::io::AsyncReadExt;

use crate::support::{BOUND, Gate, is_hello};

/// Set in the child: serve instead of testing.
const CHILD: &str = "KYC_SERVE_EXHAUSTION_CHILD";
/// The child's descriptor limit; the parent holds twice as many connections.
const LIMIT: usize = 64;
/// What the child writes before its address.
const LISTENING: &str = "child listening on ";
const EXHAUSTED: &str = "out of file descriptors";

#[cfg(unix)]
#[test]
fn the_server_survives_running_out_of_descriptors() {
    if std::env::var_os(CHILD).is_some() {
        serve_in_child();
        return;
    }
    let name = concat!(
        module_path!(),
        "::the_server_survives_running_out_of_descriptors"
    );
    let name = name.split_once("::").expect("a crate prefix").1;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\""))
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = forward_lines(child.stdout.take().unwrap(), child.stderr.take().unwrap());
    // The harness may have written `test … ... ` before it on the same line.
    let line = wait_for(&lines, LISTENING);
    let addr: SocketAddr = line
        .split(LISTENING)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));

    // Twice the limit: the child runs out while the rest wait in the listen backlog. A connect
    // that times out means the backlog is full too: the child is out of descriptors either way.
    let mut held = Vec::new();
    for _ in 0..2 * LIMIT {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(stream) => held.push(stream),
            Err(_) => break,
        }
    }
    assert!(
        held.len() > LIMIT,
        "only {} connections got through",
        held.len()
    );
    wait_for(&lines, EXHAUSTED);
    drop(held);

    let answer = fresh_request(addr);
    assert!(is_hello(&answer), "{answer}");

    // EOF on its stdin stops the child, which must exit cleanly: the server returned.
    drop(child.stdin.take());
    let (done, exited) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    let status = exited.recv_timeout(BOUND).unwrap().unwrap();
    assert!(status.success(), "{status}");
    // The forwarding threads end with the child's pipes; then every line is in.
    let rest: Vec<String> = lines.iter().collect();
    // The first failure was logged above; the hundreds after it within the minute are only
    // counted, not logged one by one.
    assert!(
        !rest.iter().any(|line| line.contains(EXHAUSTED)),
        "{rest:#?}"
    );
}

/// The child: a server on `127.0.0.1:0` with a long header read timeout (held connections
/// stay open until the parent closes them), its address on stdout, its log on stderr, until
/// stdin closes.
fn serve_in_child() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // A plain write, not `println!`: this line is the child's answer to the parent.
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{LISTENING}{}", listener.local_addr().unwrap()).unwrap();
        stdout.flush().unwrap();
        let until_stdin_closes = async {
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 64];
            while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
        };
        Server::new()
            .header_read_timeout(Duration::from_secs(120))
            .serve(listener, Gate::default(), until_stdin_closes)
            .await;
    });
}

/// Every line the child writes, stdout and stderr interleaved as they come.
fn forward_lines(
    stdout: impl Read + Send + 'static,
    stderr: impl Read + Send + 'static,
) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    let err_sender = sender.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = err_sender.send(line);
        }
    });
    lines
}

/// The first line containing `needle`, waiting up to [`BOUND`].
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        match lines.recv_timeout(BOUND) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(error) => panic!("the child never wrote {needle:?}: {error}"),
        }
    }
}

fn fresh_request(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(BOUND)).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}
