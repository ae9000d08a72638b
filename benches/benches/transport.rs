//! `kyc-transport` against baselines measured in the same run.
//!
//! - `transport/encode-1KiB` and `transport/encode-10MiB`: encoding a small form and a form with
//!   a 10 MiB file part, as throughput, next to a plain copy of the same number of bytes. The
//!   sending path (`prepare` + draining the body) shares the file bytes instead of copying them;
//!   `encode` builds one contiguous buffer (the golden-test path).
//! - `transport/send-kyc2`: requests per second for the KYC 2.0 apply request (five text
//!   fields) to an in-process hyper server over loopback HTTP/1.1, sent through
//!   `kyc_transport::Transport`, through reqwest's multipart client, and as a pre-encoded body
//!   replayed over a bare hyper-util client (the ceiling no multipart client can beat).
//!
//! After the run the ratios (transport ÷ reqwest, transport ÷ ceiling) are printed from
//! criterion's saved estimates.

use std::hint::black_box;
use std::path::Path;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use http_body_util::BodyExt;
use kyc_benches::{Ceiling, KYC2_FORM, MERCHANT, interleaved, start_server};
use kyc_transport::multipart::{Boundary, FileSource, Form};
use kyc_transport::{Proxy, Transport};

fn kyc2_form() -> Form {
    KYC2_FORM
        .iter()
        .fold(Form::new(), |form, (name, value)| form.text(*name, *value))
}

fn encode(c: &mut Criterion) {
    let boundary = Boundary::new("----kycBenchBoundary0123456789abcdef").expect("valid boundary");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");

    // The KYC 2.0 request itself, and the parts of `post_form`'s per-request encoding cost.
    let kyc2 = kyc2_form();
    let kyc2_bytes = kyc2.encode(&boundary).expect("encodes");
    let mut group = c.benchmark_group("transport/encode-kyc2");
    group.throughput(Throughput::Bytes(kyc2_bytes.len() as u64));
    group.bench_function("baseline: memcpy of the encoded bytes", |b| {
        b.iter(|| black_box(&kyc2_bytes[..]).to_vec())
    });
    group.bench_function("kyc-transport: encode", |b| {
        b.iter(|| black_box(&kyc2).encode(&boundary).expect("encodes"))
    });
    group.bench_function("kyc-transport: Boundary::random", |b| {
        b.iter(|| Boundary::random().expect("OS random source"))
    });
    group.bench_function("kyc-transport: prepare_random (what post_form does)", |b| {
        b.iter(|| {
            runtime
                .block_on(black_box(&kyc2).prepare_random())
                .expect("prepares")
        })
    });
    group.finish();

    // About 1 KiB: the KYC fields plus an older-page style address and a few extras.
    let small = kyc2_form()
        .text("usernameKanji", "山田太郎")
        .text("address", "東京都千代田区千代田1-1 ".repeat(12))
        .text("phone", "09012345678")
        .text("note", "x".repeat(300));
    let small_bytes = small.encode(&boundary).expect("encodes");
    let mut group = c.benchmark_group("transport/encode-1KiB");
    group.throughput(Throughput::Bytes(small_bytes.len() as u64));
    group.bench_function("baseline: memcpy of the encoded bytes", |b| {
        b.iter(|| black_box(&small_bytes[..]).to_vec())
    });
    group.bench_function("kyc-transport: encode", |b| {
        b.iter(|| black_box(&small).encode(&boundary).expect("encodes"))
    });
    group.finish();

    let file = Bytes::from(vec![0xA5_u8; 10 * 1024 * 1024]);
    let large = kyc2_form().file(
        "document",
        "passport.jpg",
        "image/jpeg",
        FileSource::Bytes(file.clone()),
    );
    let large_bytes = large.encode(&boundary).expect("encodes");
    let mut group = c.benchmark_group("transport/encode-10MiB");
    group.throughput(Throughput::Bytes(large_bytes.len() as u64));
    group.sample_size(20);
    group.bench_function("baseline: memcpy of the encoded bytes", |b| {
        b.iter(|| black_box(&large_bytes[..]).to_vec())
    });
    group.bench_function("kyc-transport: prepare + drain body (send path)", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let encoded = large.prepare(&boundary).await.expect("prepares");
                let mut body = encoded.body();
                let mut total = 0;
                while let Some(frame) = body.frame().await {
                    total += frame.expect("in memory").into_data().map_or(0, |d| d.len());
                }
                total
            })
        })
    });
    group.bench_function("kyc-transport: encode into one buffer", |b| {
        b.iter(|| black_box(&large).encode(&boundary).expect("encodes"))
    });
    group.finish();
}

fn send(c: &mut Criterion) {
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let addr = start_server(&client_runtime);
    let uri: http::Uri = format!("http://{addr}/v1/vexora/kycApplyFor")
        .parse()
        .expect("uri");
    let url = uri.to_string();
    let merchant = http::HeaderValue::from_static(MERCHANT);

    let transport = Transport::builder()
        .proxy(Proxy::none())
        .build()
        .expect("transport");
    let form = kyc2_form();

    let encoded = client_runtime
        .block_on(form.prepare_random())
        .expect("prepares");
    let bare = Ceiling::new(
        uri.clone(),
        encoded.content_type(),
        encoded.to_bytes().expect("in memory"),
    );

    let reqwest = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .expect("reqwest client");

    let ceiling = || bare.send();
    let ours = || async {
        let mut headers = http::HeaderMap::new();
        headers.insert("merchantNo", merchant.clone());
        transport
            .post_form(&uri, headers, &form)
            .await
            .expect("sent")
            .into_parts()
            .2
    };
    let theirs = || async {
        let form = KYC2_FORM
            .iter()
            .fold(reqwest::multipart::Form::new(), |form, (name, value)| {
                form.text(*name, *value)
            });
        let response = reqwest
            .post(&url)
            .header("merchantNo", merchant.clone())
            .multipart(form)
            .send()
            .await
            .expect("sent");
        response.bytes().await.expect("read")
    };

    let mut group = c.benchmark_group("transport/send-kyc2");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ceiling: pre-encoded body, bare hyper-util client", |b| {
        b.iter(|| client_runtime.block_on(ceiling()))
    });
    group.bench_function("kyc-transport: post_form", |b| {
        b.iter(|| client_runtime.block_on(ours()))
    });
    group.bench_function("reqwest: multipart", |b| {
        b.iter(|| client_runtime.block_on(theirs()))
    });
    group.finish();

    if !std::env::args().any(|arg| arg == "--bench") {
        return; // `cargo test` runs each bench once as a smoke test: no figures then
    }

    // The machine is shared, so load changes between criterion's benches can skew their ratio;
    // interleaved batches see the same load.
    let medians = interleaved(
        31,
        100,
        [
            &mut |calls| batch(calls, || client_runtime.block_on(ceiling())),
            &mut |calls| batch(calls, || client_runtime.block_on(ours())),
            &mut |calls| batch(calls, || client_runtime.block_on(theirs())),
        ],
    );
    let _ = INTERLEAVED.set(medians);
}

/// Median seconds per request of the interleaved batches: ceiling, kyc-transport, reqwest.
static INTERLEAVED: std::sync::OnceLock<[f64; 3]> = std::sync::OnceLock::new();

/// Makes `count` calls of `call`.
fn batch<T>(count: u32, mut call: impl FnMut() -> T) {
    for _ in 0..count {
        black_box(call());
    }
}

/// Runs both groups with the command line's criterion settings (`--quick`, filters, ...).
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    encode(&mut c);
    send(&mut c);
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}

/// Reads criterion's saved estimates and prints the figures the issue asks for.
#[allow(clippy::print_stdout)] // a bench reports to its terminal
fn report() {
    if !std::env::args().any(|arg| arg == "--bench") {
        return; // a smoke test under `cargo test` measured nothing worth reporting
    }
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("criterion");
    let mean_ns = |group: &str, bench: &str| -> Option<f64> {
        // criterion's file-name-safe spelling of group and bench names
        let dir =
            |name: &str| name.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_");
        let path = root
            .join(dir(group))
            .join(dir(bench))
            .join("new/estimates.json");
        let text = std::fs::read_to_string(path).ok()?;
        // The figure criterion prints: the slope of its linear sampling, else the mean.
        let estimate = |name: &str| -> Option<f64> {
            let at = &text[text.find(&format!("\"{name}\":{{"))?..];
            let value = &at[at.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
            value[..value.find([',', '}'])?].parse().ok()
        };
        estimate("slope").or_else(|| estimate("mean"))
    };
    let group = "transport/send-kyc2";
    let ceiling = mean_ns(group, "ceiling: pre-encoded body, bare hyper-util client");
    let ours = mean_ns(group, "kyc-transport: post_form");
    let reqwest = mean_ns(group, "reqwest: multipart");
    let rps = |seconds: f64| 1.0 / seconds;
    println!();
    println!("transport/send-kyc2, requests per second (one at a time, loopback HTTP/1.1):");
    if let (Some(ceiling), Some(ours), Some(reqwest)) = (ceiling, ours, reqwest) {
        println!("  criterion estimates:");
        println!(
            "    ceiling (bare hyper-util, pre-encoded): {:>9.0}",
            rps(ceiling / 1e9)
        );
        println!(
            "    kyc-transport post_form:                {:>9.0}",
            rps(ours / 1e9)
        );
        println!(
            "    reqwest multipart:                      {:>9.0}",
            rps(reqwest / 1e9)
        );
        println!(
            "    kyc-transport / reqwest = {:.2}x (target >= 1.3x); kyc-transport / ceiling = {:.2}x (target >= 0.75x)",
            reqwest / ours,
            ceiling / ours
        );
    }
    if let Some([ceiling, ours, reqwest]) = INTERLEAVED.get().copied() {
        println!("  interleaved batches, medians:");
        println!(
            "    ceiling (bare hyper-util, pre-encoded): {:>9.0}",
            rps(ceiling)
        );
        println!(
            "    kyc-transport post_form:                {:>9.0}",
            rps(ours)
        );
        println!(
            "    reqwest multipart:                      {:>9.0}",
            rps(reqwest)
        );
        println!(
            "    kyc-transport / reqwest = {:.2}x (target >= 1.3x); kyc-transport / ceiling = {:.2}x (target >= 0.75x)",
            reqwest / ours,
            ceiling / ours
        );
    }
}
