//! `kyc callback listen`: verified, durable, deduplicated, and never `OK` for a bad callback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use kyc_client::types::AuthenticationStatus;
use kyc_test_support::callbacks::signed;

use crate::support::{SECRET, Server, against, eventually, kyc, run, sandbox, stderr};

fn listener(out: &Path) -> Server {
    Server::spawn(
        kyc()
            .args([
                "callback",
                "listen",
                "--listen",
                "127.0.0.1:0",
                "--secret",
                SECRET,
                "--out",
            ])
            .arg(out),
    )
}

/// The `host:port` a listener printed (`listening on http://host:port/`).
fn address(server: &Server) -> String {
    server
        .first_line
        .trim_start_matches("listening on http://")
        .trim_end_matches('/')
        .to_owned()
}

/// POSTs `body` over a fresh connection; returns the status code and the body.
fn post(address: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /any/path HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

fn callback(user: &str, secret: &str) -> Vec<u8> {
    signed(user, AuthenticationStatus::Approved, None, secret)
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn verified_callbacks_are_stored_once_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.jsonl");
    let mut server = listener(&out);
    let address = address(&server);

    assert_eq!(
        post(&address, &callback("u1", SECRET)),
        (200, "OK".to_owned())
    );
    assert_eq!(lines(&out).len(), 1, "appended before OK");
    assert_eq!(lines(&out)[0]["userId"], "u1");
    assert_eq!(lines(&out)[0]["authenticationStatus"], "2");

    // The provider's retry of the same callback: acknowledged, not appended again.
    assert_eq!(
        post(&address, &callback("u1", SECRET)),
        (200, "OK".to_owned())
    );
    assert_eq!(lines(&out).len(), 1);

    let (status, body) = post(&address, &callback("u2", "forged"));
    assert_eq!(status, 401);
    assert_ne!(body, "OK");
    let (status, body) = post(&address, b"{\"userId\":");
    assert_eq!(status, 400);
    assert_ne!(body, "OK");
    assert_eq!(lines(&out).len(), 1);

    // After a restart, the file still deduplicates.
    server.kill();
    let server = listener(&out);
    let address = self::address(&server);
    assert_eq!(
        post(&address, &callback("u1", SECRET)),
        (200, "OK".to_owned())
    );
    assert_eq!(
        post(&address, &callback("u3", SECRET)),
        (200, "OK".to_owned())
    );
    let users: Vec<_> = lines(&out)
        .iter()
        .map(|line| line["userId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["u1", "u3"]);
}

#[test]
fn the_sandbox_delivers_to_the_listener() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.jsonl");
    let listener = listener(&out);
    let sandbox = sandbox();
    let output = run(against(&sandbox).args([
        "apply",
        "--user-id",
        "approve-cb-1",
        "--callback-url",
        &format!("http://{}/kyc/callback", address(&listener)),
        "--furigana",
        "テスト014",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    eventually("the callback to be stored", || lines(&out).len() == 1);
    assert_eq!(lines(&out)[0]["userId"], "approve-cb-1");
    assert_eq!(lines(&out)[0]["authenticationStatus"], "2");
}

#[test]
fn concurrent_duplicate_deliveries_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.jsonl");
    let server = listener(&out);
    let address = address(&server);
    let body = callback("dup-1", SECRET);
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let posts: Vec<_> = (0..16)
            .map(|_| scope.spawn(|| post(&address, &body)))
            .collect();
        posts.into_iter().map(|post| post.join().unwrap()).collect()
    });
    assert!(
        answers
            .iter()
            .all(|answer| *answer == (200, "OK".to_owned())),
        "{answers:?}"
    );
    assert_eq!(
        lines(&out).len(),
        1,
        "sixteen deliveries of one callback, one line"
    );
}
