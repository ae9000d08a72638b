//! The whole apply call, side by side, against one in-process server in the same run.
//!
//! - `kyc-client`: `Client::apply` (stamp, sign, encode multipart, send, decode the envelope);
//! - `reqwest`: the same work with reqwest's multipart client (signing with `kyc-sign`,
//!   decoding with `kyc-proto`, so only the HTTP and multipart layers differ);
//! - `ceiling`: a pre-encoded, pre-signed body replayed over a bare hyper-util client, reading
//!   the answer and nothing more: what no client can beat.
//!
//! Each at concurrency 1 and 16 (16 requests in flight), client and server sharing one thread. Criterion's
//! groups give the per-batch times; interleaved batches of the three give load-robust ratios,
//! printed at the end as requests per second.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::OnceLock;

use criterion::{Criterion, Throughput};
use futures_util::future::join_all;
use kyc_benches::{CALLBACK_URL, Ceiling, FURIGANA, MERCHANT, SECRET, USER_ID, start_server};
use kyc_client::types::{Application, ApplyResponse, CallbackUrl, Furigana, UserId};
use kyc_client::{Client, Clock, Environment, Proxy, SystemClock};
use kyc_sign::{Canonical, Settings, SigningKey};
use tokio::runtime::Runtime;

const CONCURRENCY: [usize; 2] = [1, 16];

/// Requests per second of the interleaved batches, by concurrency: ceiling, kyc-client, reqwest.
static INTERLEAVED: OnceLock<Vec<(usize, [f64; 3])>> = OnceLock::new();

/// The three contenders, each making one whole apply call.
struct Contenders {
    url: String,
    ours: Client,
    application: Application,
    reqwest: reqwest::Client,
    key: SigningKey,
    ceiling: Ceiling,
}

impl Contenders {
    fn new(addr: SocketAddr, runtime: &Runtime) -> Self {
        let base = format!("http://{addr}/japan");
        let url = format!("{base}/v1/vexora/kycApplyFor");
        let ours = Client::builder()
            .environment(Environment::custom(&base).expect("valid base"))
            .merchant_no(MERCHANT)
            .app_secret(SECRET)
            .proxy(Proxy::none())
            .build()
            .expect("client");
        let application = Application::new(
            UserId::new(USER_ID).expect("valid"),
            CallbackUrl::new(CALLBACK_URL).expect("valid"),
            Furigana::new(FURIGANA).expect("valid"),
        );
        let key = SigningKey::new(SECRET).expect("not empty");
        let signed = application
            .signed_form(SystemClock.now(), &key)
            .expect("signs");
        let form = signed
            .text_fields()
            .fold(kyc_transport::multipart::Form::new(), |form, (n, v)| {
                form.text(n, v)
            });
        let encoded = runtime.block_on(form.prepare_random()).expect("encodes");
        Self {
            ceiling: Ceiling::new(
                url.parse().expect("uri"),
                encoded.content_type(),
                encoded.to_bytes().expect("in memory"),
            ),
            url,
            ours,
            application,
            reqwest: reqwest::Client::builder()
                .no_proxy()
                .tcp_nodelay(true)
                .build()
                .expect("reqwest"),
            key,
        }
    }

    async fn ours(&self) {
        let data = self.ours.apply(&self.application).await.expect("accepted");
        black_box(data);
    }

    async fn reqwest(&self) {
        let timestamp = SystemClock.now().to_string();
        let fields = [
            ("userId", USER_ID),
            ("callBackUrl", CALLBACK_URL),
            ("usernameFurigana", FURIGANA),
            ("timestamp", timestamp.as_str()),
        ];
        let settings = Settings::default();
        let canonical = Canonical::new(&fields, &settings).expect("distinct names");
        let sign = self.key.sign(&canonical).to_hex();
        let form = fields
            .iter()
            .fold(reqwest::multipart::Form::new(), |form, (name, value)| {
                form.text(*name, (*value).to_owned())
            })
            .text("sign", sign);
        let response = self
            .reqwest
            .post(&self.url)
            .header("merchantNo", MERCHANT)
            .multipart(form)
            .send()
            .await
            .expect("sent");
        let body = response.bytes().await.expect("read");
        let decoded = ApplyResponse::from_slice(&body).expect("decodes");
        black_box(decoded.into_api_result().expect("accepted"));
    }

    async fn ceiling(&self) {
        black_box(self.ceiling.send().await);
    }

    /// Runs `n` calls of contender `which` at once and waits for all.
    async fn round(&self, which: usize, n: usize) {
        match which {
            0 => drop(join_all((0..n).map(|_| self.ceiling())).await),
            1 => drop(join_all((0..n).map(|_| self.ours())).await),
            _ => drop(join_all((0..n).map(|_| self.reqwest())).await),
        }
    }
}

const NAMES: [&str; 3] = [
    "ceiling: pre-encoded body, bare hyper-util",
    "kyc-client: apply",
    "reqwest: multipart (same signing and decoding)",
];

fn apply(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let addr = start_server(&runtime);
    let contenders = Contenders::new(addr, &runtime);
    let mut interleaved = Vec::new();
    for n in CONCURRENCY {
        let mut group = c.benchmark_group(format!("client/apply-c{n}"));
        group.throughput(Throughput::Elements(n as u64));
        for (which, name) in NAMES.iter().enumerate() {
            group.bench_function(*name, |b| {
                b.iter(|| runtime.block_on(contenders.round(which, n)))
            });
        }
        group.finish();
        if !std::env::args().any(|arg| arg == "--bench") {
            continue; // `cargo test` runs each bench once as a smoke test: no figures then
        }

        // Interleaved short batches expose the three to the same machine load; the median of
        // each gives ratios that a noisy, shared machine shifts little.
        let calls = (400 / n).max(10) as u32;
        let (runtime, contenders) = (&runtime, &contenders);
        let round = |which: usize| {
            move |calls: u32| {
                for _ in 0..calls {
                    runtime.block_on(contenders.round(which, n));
                }
            }
        };
        let (mut ceiling, mut ours, mut reqwest) = (round(0), round(1), round(2));
        let seconds = kyc_benches::interleaved(21, calls, [&mut ceiling, &mut ours, &mut reqwest]);
        let rps = seconds.map(|per_call| n as f64 / per_call); // a call is n requests at once
        interleaved.push((n, rps));
    }
    let _ = INTERLEAVED.set(interleaved);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    apply(&mut c);
    Criterion::default().configure_from_args().final_summary();
    report();
}

/// Prints requests per second and the ratios the targets are stated in.
#[allow(clippy::print_stdout)] // a bench reports to its terminal
fn report() {
    let Some(rows) = INTERLEAVED.get() else {
        return; // filtered out
    };
    println!();
    println!(
        "client/apply, requests per second (median of interleaved batches, loopback HTTP/1.1):"
    );
    for (n, [ceiling, ours, reqwest]) in rows {
        println!(
            "  concurrency {n:>2}: ceiling {ceiling:>8.0}  kyc-client {ours:>8.0}  reqwest {reqwest:>8.0}  \
             kyc-client/reqwest {:.2}x (target >= 1.30)  kyc-client/ceiling {:.2}x (target >= 0.75)",
            ours / reqwest,
            ours / ceiling
        );
    }
}
