//! Signed, distinct callbacks POSTed to `kyc callback listen` replicas, N in flight, each
//! retried (on the next replica, after a connection error or an answer other than `OK`) until
//! it is answered `OK`. The load of `benches/scripts/ledger-figures.sh`.
//!
//! ```text
//! callback-load --targets HOST:PORT[,HOST:PORT...] --count N [--in-flight 64]
//!               [--secret S] [--prefix P] [--acked FILE]
//! ```
//!
//! Prints one JSON line, `{"count", "seconds", "acks_per_s", "retries"}`; with `--acked`,
//! writes each acknowledged `userId` to FILE, a line each (for the lost and duplicate checks).
//!
//! It runs on one thread, so that it leaves the receiver the machine's other cores, and each
//! in-flight slot keeps one HTTP/1.1 connection open, as a provider's sender would.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool reports to its terminal

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use kyc_proto::{AuthenticationStatus, CALLBACK_ACK, Callback, Timestamp, UserId};
use kyc_sign::SigningKey;
use tokio::net::TcpStream;

const USAGE: &str = "usage: callback-load --targets HOST:PORT[,HOST:PORT...] --count N \
                     [--in-flight 64] [--secret S] [--prefix P] [--acked FILE]";

struct Args {
    targets: Vec<String>,
    count: usize,
    in_flight: usize,
    secret: String,
    prefix: String,
    acked: Option<String>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        targets: Vec::new(),
        count: 0,
        in_flight: 64,
        secret: "TEST_SECRET_DO_NOT_USE".into(),
        prefix: "load".into(),
        acked: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |value: &str| {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag} {value:?} is not a count"))
        };
        match flag.as_str() {
            "--targets" => parsed.targets = value.split(',').map(str::to_owned).collect(),
            "--count" => parsed.count = number(&value)?,
            "--in-flight" => parsed.in_flight = number(&value)?.max(1),
            "--secret" => parsed.secret = value,
            "--prefix" => parsed.prefix = value,
            "--acked" => parsed.acked = Some(value),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if parsed.targets.is_empty() {
        return Err("--targets is required".into());
    }
    Ok(parsed)
}

/// The JSON body of callback `i`: approved, at its own millisecond, signed like the provider's.
fn body(key: &SigningKey, user: &str, i: usize) -> Result<Bytes, kyc_proto::ValidationError> {
    let callback = Callback::new(
        UserId::new(user)?,
        AuthenticationStatus::Approved,
        None,
        Timestamp::from_millis(1_728_609_277_476 + i as u64),
    );
    Ok(Bytes::from(callback.to_signed_json(key)))
}

/// What the slots share (one thread: no locks).
struct Shared {
    args: Args,
    key: SigningKey,
    next: Cell<usize>,
    retries: Cell<u64>,
    acked: RefCell<Option<std::io::BufWriter<std::fs::File>>>,
}

async fn connect(target: &str) -> Result<SendRequest<Full<Bytes>>, Box<dyn std::error::Error>> {
    let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(target)).await??;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// One POST on `sender`: whether the receiver answered 200 `OK`.
async fn post(
    sender: &mut SendRequest<Full<Bytes>>,
    target: &str,
    body: Bytes,
) -> Result<bool, Box<dyn std::error::Error>> {
    let request = http::Request::post("/kyc/callback")
        .header(http::header::HOST, target)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))?;
    let exchange = async {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let answer = response.into_body().collect().await?.to_bytes();
        Ok::<_, hyper::Error>(
            status == http::StatusCode::OK && answer.as_ref() == CALLBACK_ACK.as_bytes(),
        )
    };
    Ok(tokio::time::timeout(Duration::from_secs(30), exchange).await??)
}

/// One in-flight slot: takes the next callback, sends it until it is acknowledged, and so on.
async fn slot(shared: Rc<Shared>, index: usize) -> Result<(), kyc_proto::ValidationError> {
    let targets = &shared.args.targets;
    let mut turn = index;
    let mut sender = None;
    loop {
        let i = shared.next.get();
        if i >= shared.args.count {
            return Ok(());
        }
        shared.next.set(i + 1);
        let user = format!("{}-{i:07}", shared.args.prefix);
        let payload = body(&shared.key, &user, i)?;
        loop {
            let target = &targets[turn % targets.len()];
            let sent = match sender.as_mut() {
                Some(sender) => post(sender, target, payload.clone()).await,
                None => match connect(target).await {
                    Ok(fresh) => post(sender.insert(fresh), target, payload.clone()).await,
                    Err(err) => Err(err),
                },
            };
            match sent {
                Ok(true) => break,
                Ok(false) => shared.retries.set(shared.retries.get() + 1),
                Err(_) => {
                    shared.retries.set(shared.retries.get() + 1);
                    sender = None;
                    turn += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        if let Some(acked) = shared.acked.borrow_mut().as_mut() {
            let _ = writeln!(acked, "{user}");
        }
    }
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("callback-load: {err}\n{USAGE}");
            return ExitCode::from(64);
        }
    };
    let key = match SigningKey::new(args.secret.as_bytes()) {
        Ok(key) => key,
        Err(err) => {
            eprintln!("callback-load: --secret: {err}");
            return ExitCode::from(64);
        }
    };
    let acked = match args.acked.as_deref().map(std::fs::File::create).transpose() {
        Ok(file) => file.map(std::io::BufWriter::new),
        Err(err) => {
            eprintln!("callback-load: --acked: {err}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("callback-load: {err}");
            return ExitCode::FAILURE;
        }
    };
    let in_flight = args.in_flight;
    let shared = Rc::new(Shared {
        args,
        key,
        next: Cell::new(0),
        retries: Cell::new(0),
        acked: RefCell::new(acked),
    });
    #[allow(clippy::disallowed_methods)] // a load generator measures wall time
    let start = Instant::now();
    let outcome = tokio::task::LocalSet::new().block_on(&runtime, async {
        let slots: Vec<_> = (0..in_flight)
            .map(|index| tokio::task::spawn_local(slot(Rc::clone(&shared), index)))
            .collect();
        for slot in slots {
            slot.await??;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    });
    let seconds = start.elapsed().as_secs_f64();
    if let Err(err) = outcome {
        eprintln!("callback-load: {err}");
        return ExitCode::FAILURE;
    }
    if let Some(mut acked) = shared.acked.borrow_mut().take()
        && let Err(err) = acked.flush()
    {
        eprintln!("callback-load: --acked: {err}");
        return ExitCode::FAILURE;
    }
    let count = shared.args.count;
    println!(
        "{}",
        serde_json::json!({
            "count": count,
            "seconds": (seconds * 100.0).round() / 100.0,
            "acks_per_s": (count as f64 / seconds).round() as u64,
            "retries": shared.retries.get(),
        })
    );
    ExitCode::SUCCESS
}
