//! Abuse and security, end to end through the `kyc` binary: slow-loris connections, huge,
//! nested and non-UTF-8 bodies and forged or reshaped signatures against `kyc callback listen`;
//! header injection through `kyc apply`; and secrets, signatures and names kept out of
//! everything the commands print and the sandbox logs.
//!
//! Each test owns its processes (ports `127.0.0.1:0`) and a temporary directory. Waits are
//! bounded by generous timeouts; nothing asserts how long something took.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use kyc_client::types::AuthenticationStatus;

use kyc_test_support::assert_none_leaked;
use kyc_test_support::callbacks::{reshaped, sign_of, signed};
use kyc_test_support::loris::{BOUND, HALF_PREFACE, stall_blocking, status_and_body as parse};

use crate::support::{MERCHANT, SECRET, eventually, exported, kyc, run, stderr, stdout, store_url};

const NAME: &str = "ヤマダタロウ";
/// The secret of the leak test: not the default test secret, which `kyc sandbox` prints.
const LEAK_SECRET: &str = "LEAK_TEST_SECRET_7c1e";

/// A `kyc` process whose stderr goes to a file, killed when dropped.
struct Process {
    child: Child,
    first_line: String,
}

impl Process {
    fn spawn(command: &mut Command, stderr: &Path) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(File::create(stderr).unwrap())
            .spawn()
            .expect("the kyc binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("it prints its address");
        assert!(!line.is_empty(), "exited before printing its address");
        Self {
            child,
            first_line: line.trim().to_owned(),
        }
    }

    /// `host:port` from `listening on http://host:port/` or `http://host:port/japan`.
    fn address(&self) -> String {
        let rest = self.first_line.rsplit("http://").next().unwrap();
        rest.split('/').next().unwrap().to_owned()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listener(dir: &Path, extra: &[&str]) -> Process {
    listener_with(dir, SECRET, extra)
}

fn listener_with(dir: &Path, secret: &str, extra: &[&str]) -> Process {
    Process::spawn(
        kyc()
            .args(extra)
            .args(["callback", "listen", "--listen", "127.0.0.1:0", "--store"])
            .arg(store_url(dir))
            .env("KYC_APP_SECRET", secret),
        &dir.join("listener.stderr"),
    )
}

/// The users the listener's ledger holds, one exported JSON line each.
fn stored(dir: &Path) -> Vec<serde_json::Value> {
    exported(&store_url(dir))
}

/// Sends `bytes` on a fresh connection and reads until the server closes it; the status and
/// body of the answer (status 0 when there was none).
fn exchange(address: &str, bytes: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(BOUND)).unwrap();
    // The server may answer and close before reading everything: a failed write is fine.
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    parse(&answer)
}

/// The provider's callback for `user`, a rejection with a reason, signed with `secret`.
fn callback(user: &str, secret: &str) -> Vec<u8> {
    signed(
        user,
        AuthenticationStatus::Rejected,
        Some("Photo unclear"),
        secret,
    )
}

fn post(address: &str, body: &[u8]) -> (u16, String) {
    let mut bytes = format!(
        "POST /kyc/callback HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    exchange(address, &bytes)
}

#[test]
fn the_listener_cuts_slow_loris_connections_and_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = Process::spawn(
        kyc()
            .args(["callback", "listen", "--listen", "127.0.0.1:0", "--store"])
            .arg(store_url(dir.path()))
            .args([
                "--header-read-timeout",
                "300ms",
                "--request-timeout",
                "300ms",
            ])
            .env("KYC_APP_SECRET", SECRET),
        &dir.path().join("listener.stderr"),
    );
    let address = server.address();
    let openings: Vec<Vec<u8>> = vec![
        Vec::new(),
        HALF_PREFACE.to_vec(),
        b"POST /kyc/callback HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_vec(),
        b"POST /kyc/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n{\"userId\":"
            .to_vec(),
    ];
    let stalls: Vec<_> = openings
        .into_iter()
        .map(|opening| {
            let address = address.clone();
            std::thread::spawn(move || stall_blocking(&address, &opening))
        })
        .collect();
    // While they hold their connections, a real callback is stored and acknowledged.
    assert_eq!(
        post(&address, &callback("during-loris", SECRET)),
        (200, "OK".to_owned())
    );
    let results: Vec<_> = stalls.into_iter().map(|s| s.join().unwrap()).collect();
    for (i, cut) in results.iter().enumerate() {
        assert!(cut.closed, "connection {i} was never cut off");
        assert_ne!(parse(&cut.answer).1, "OK");
    }
    assert_eq!(
        parse(&results[3].answer).0,
        408,
        "a stalled body is answered 408"
    );
    assert_eq!(stored(dir.path()).len(), 1);

    // The flags refuse nonsense.
    let output = run(kyc().args([
        "callback",
        "listen",
        "--listen",
        "127.0.0.1:0",
        "--secret",
        SECRET,
        "--header-read-timeout",
        "0s",
    ]));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("above zero"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_listener_refuses_huge_nested_and_non_utf8_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let server = listener(dir.path(), &[]);
    let address = server.address();
    let mut nested = b"{\"userId\":".to_vec();
    nested.extend(std::iter::repeat_n(b'[', 100_000));
    nested.extend(std::iter::repeat_n(b']', 100_000));
    nested.push(b'}');
    let mut shallow_but_deep = b"{\"userId\":".to_vec();
    shallow_but_deep.extend(std::iter::repeat_n(b'[', 10_000));
    shallow_but_deep.extend(std::iter::repeat_n(b']', 10_000));
    shallow_but_deep.push(b'}');
    let valid = String::from_utf8(callback("utf8", SECRET)).unwrap();
    for (body, expected) in [
        (nested, 413),
        (vec![b'['; 10 * 1024 * 1024], 413),
        (shallow_but_deep, 400),
        (
            valid
                .replace("utf8", "utf\u{1}")
                .replace('\u{1}', "\u{0}")
                .bytes()
                .map(|b| if b == 0 { 0xff } else { b })
                .collect(),
            400,
        ),
        (b"{\"user\xffId\":\"u\"}".to_vec(), 400),
        (b"\xfe\xff{}".to_vec(), 400),
    ] {
        let (status, answer) = post(&address, &body);
        assert_eq!(
            status,
            expected,
            "{}",
            String::from_utf8_lossy(&body[..40.min(body.len())])
        );
        assert_ne!(answer, "OK");
    }
    assert!(stored(dir.path()).is_empty());
    assert_eq!(
        post(&address, &callback("after", SECRET)),
        (200, "OK".to_owned())
    );
    assert_eq!(stored(dir.path()).len(), 1);
}

#[test]
fn the_listener_refuses_forged_truncated_empty_and_shifted_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let server = listener(dir.path(), &[]);
    let address = server.address();
    let good = String::from_utf8(callback("sig-user", SECRET)).unwrap();
    let sign = sign_of(good.as_bytes());
    let with = |replacement: &str| good.replace(&format!("\"{sign}\""), replacement);
    // The reason moved into the status: the same signed text, so the signature verifies; the
    // status format check refuses it.
    let shifted = String::from_utf8(reshaped(
        &[
            ("userId", "\"sig-user\""),
            ("authenticationStatus", "\"3failReason=Photo unclear\""),
            ("timestamp", "1728609277476"),
        ],
        &[
            ("authenticationStatus", "3"),
            ("failReason", "Photo unclear"),
            ("timestamp", "1728609277476"),
            ("userId", "sig-user"),
        ],
        SECRET,
    ))
    .unwrap();
    assert_eq!(
        sign_of(shifted.as_bytes()),
        sign,
        "the shifted body carries the honest signature"
    );
    for (body, expected) in [
        (
            String::from_utf8(callback("sig-user", "forged")).unwrap(),
            401,
        ),
        (with(&format!("\"{}\"", "0".repeat(32))), 401),
        (with(&format!("\"{}\"", &sign[..31])), 400),
        (with("\"\""), 400),
        (with("null"), 400),
        (shifted, 400),
    ] {
        let (status, answer) = post(&address, body.as_bytes());
        assert_eq!(status, expected, "{body}");
        assert_ne!(answer, "OK");
    }
    assert!(stored(dir.path()).is_empty());
    // Upper-case hex verifies.
    let upper = with(&format!("\"{}\"", sign.to_ascii_uppercase()));
    assert_eq!(post(&address, upper.as_bytes()), (200, "OK".to_owned()));
    assert_eq!(stored(dir.path()).len(), 1);
}

fn sandbox(dir: &Path, merchant: &[&str]) -> Process {
    Process::spawn(
        kyc().args(["--verbose", "sandbox"]).args(merchant).args([
            "--listen",
            "127.0.0.1:0",
            "--review-after",
            "100ms",
            "--final-after",
            "300ms",
            "--time-scale",
            "0.001",
        ]),
        &dir.join("sandbox.stderr"),
    )
}

fn sandbox_log(sandbox: &Process) -> String {
    let address = sandbox.address();
    let (status, body) = exchange(
        &address,
        format!("GET /japan/_sandbox/log HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(status, 200);
    body
}

#[test]
fn header_injection_through_the_command_line_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(dir.path(), &[]);
    for (merchant, furigana) in [
        ("1027749636\r\nX-Evil: 1", "テスト"),
        ("1027749636\n", "テスト"),
        (MERCHANT, "テスト\r\nX-Evil: 1"),
    ] {
        let output = run(kyc().args([
            "apply",
            "--base-url",
            &sandbox.first_line,
            "--merchant-no",
            merchant,
            "--app-secret",
            SECRET,
            "--user-id",
            "inject",
            "--callback-url",
            "http://127.0.0.1:9/cb",
            "--furigana",
            furigana,
        ]));
        assert!(!output.status.success(), "{merchant:?} {furigana:?}");
        assert!(!stderr(&output).contains("X-Evil"), "{}", stderr(&output));
    }
    let log = sandbox_log(&sandbox);
    assert!(!log.contains("inject"), "nothing was sent: {log}");
}

/// A one-shot fake provider: records the first request it gets, answers it with `answer`.
fn recorder(answer: &'static str) -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/japan", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(BOUND)).unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 8192];
        // Read the head, then exactly Content-Length bytes of body.
        loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the client hung up");
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        );
        stream.write_all(response.as_bytes()).unwrap();
        let _ = stream.shutdown(Shutdown::Write);
        request
    });
    (url, handle)
}

#[test]
fn secrets_signatures_and_names_stay_out_of_what_the_commands_print() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = listener_with(dir.path(), LEAK_SECRET, &["--verbose"]);
    let sandbox = sandbox(
        dir.path(),
        &["--merchant-no", MERCHANT, "--secret", LEAK_SECRET],
    );

    // One apply recorded on the wire, to learn the signature the command sent.
    let (url, recorded) = recorder(
        r#"{"msg":"success","code":"0000","timestamp":"1774925553300","success":true,"data":{"userId":"wire-user","authenticationStatus":"0","message":"received"}}"#,
    );
    let wire = run(kyc()
        .args([
            "--verbose",
            "apply",
            "--base-url",
            &url,
            "--merchant-no",
            MERCHANT,
            "--user-id",
            "wire-user",
            "--callback-url",
            "http://127.0.0.1:9/cb",
            "--furigana",
            NAME,
        ])
        .env("KYC_APP_SECRET", LEAK_SECRET));
    assert!(wire.status.success(), "{}", stderr(&wire));
    let request = String::from_utf8_lossy(&recorded.join().unwrap()).into_owned();
    let sent_sign = request
        .split("name=\"sign\"\r\n\r\n")
        .nth(1)
        .expect("the request carried a sign part")[..32]
        .to_owned();
    assert!(request.contains(NAME), "the name was sent");

    // The same against the sandbox, rejected so that a callback with a reason is delivered,
    // plus a status query and a call with the wrong secret.
    let callback_url = format!("http://{}/kyc/callback", receiver.address());
    let env = |command: &mut Command| {
        command
            .env("KYC_BASE_URL", &sandbox.first_line)
            .env("KYC_MERCHANT_NO", MERCHANT)
            .env("KYC_APP_SECRET", LEAK_SECRET);
    };
    let mut apply = kyc();
    env(&mut apply);
    let applied = run(apply.args([
        "--verbose",
        "apply",
        "--user-id",
        "reject-leak",
        "--callback-url",
        &callback_url,
        "--furigana",
        NAME,
    ]));
    assert!(applied.status.success(), "{}", stderr(&applied));
    let mut wrong = kyc();
    env(&mut wrong);
    let refused = run(wrong
        .env("KYC_APP_SECRET", "WRONG_SECRET_ALSO_SECRET")
        .args([
            "--verbose",
            "apply",
            "--user-id",
            "wrong-secret",
            "--callback-url",
            &callback_url,
            "--furigana",
            NAME,
        ]));
    assert!(!refused.status.success());
    eventually("the rejection to be stored", || {
        stored(dir.path()).len() == 1
    });
    let mut status = kyc();
    env(&mut status);
    let queried = run(status.args(["--verbose", "status", "--user-id", "reject-leak"]));
    assert!(queried.status.success(), "{}", stderr(&queried));
    // A forged callback and an empty-signature one at the listener.
    let forged = callback("reject-leak", "WRONG_SECRET_ALSO_SECRET");
    assert_eq!(post(&receiver.address(), &forged).0, 401);
    let forged_sign = sign_of(&forged);

    let log = sandbox_log(&sandbox);
    assert!(log.contains("reject-leak"), "{log}");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let everything = [
        stdout(&wire),
        stderr(&wire),
        stdout(&applied),
        stderr(&applied),
        stdout(&refused),
        stderr(&refused),
        stdout(&queried),
        stderr(&queried),
        log,
        read("sandbox.stderr"),
        read("listener.stderr"),
    ]
    .join("\n");
    assert!(everything.contains("kyc.attempt"), "traces were captured");
    assert_none_leaked(
        &everything,
        [
            LEAK_SECRET,
            "WRONG_SECRET_ALSO_SECRET",
            NAME,
            sent_sign.as_str(),
            forged_sign.as_str(),
        ],
    );
}
