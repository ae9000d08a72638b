//! Runs one contender of the `client` and `transport` benches in a loop, for a profiler:
//! `apply_loop <ceiling|transport|client> [requests]`. See `benches/README.md`, "Profiling".

#![allow(clippy::print_stdout)] // a profiling harness reports to its terminal

use kyc_benches::{
    CALLBACK_URL, Ceiling, FURIGANA, KYC2_FORM, MERCHANT, SECRET, USER_ID, start_server,
};
use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
use kyc_client::{Client, Environment, Proxy};
use kyc_transport::Transport;
use kyc_transport::multipart::Form;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "client".to_owned());
    let requests: usize = args.next().map_or(2000, |n| n.parse().expect("a count"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let addr = start_server(&runtime);
    let base = format!("http://{addr}/japan");
    let uri: http::Uri = format!("{base}/v1/vexora/kycApplyFor")
        .parse()
        .expect("uri");
    let form = KYC2_FORM
        .iter()
        .fold(Form::new(), |form, (name, value)| form.text(*name, *value));
    let encoded = runtime.block_on(form.prepare_random()).expect("encodes");
    let ceiling = Ceiling::new(
        uri.clone(),
        encoded.content_type(),
        encoded.to_bytes().expect("in memory"),
    );
    let transport = Transport::builder()
        .proxy(kyc_transport::Proxy::none())
        .build()
        .expect("transport");
    let client = Client::builder()
        .environment(Environment::custom(&base).expect("base"))
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
    let merchant = http::HeaderValue::from_static(MERCHANT);
    println!(
        "future sizes: Client::apply {} bytes, Transport::post_form {} bytes",
        std::mem::size_of_val(&client.apply(&application)),
        std::mem::size_of_val(&transport.post_form(&uri, http::HeaderMap::new(), &form)),
    );
    let seconds = timed(|| {
        runtime.block_on(async {
            for _ in 0..requests {
                match which.as_str() {
                    "ceiling" => {
                        std::hint::black_box(ceiling.send().await);
                    }
                    "transport" => {
                        let mut headers = http::HeaderMap::new();
                        headers.insert("merchantNo", merchant.clone());
                        let response = transport.post_form(&uri, headers, &form).await;
                        std::hint::black_box(response.expect("sent").into_parts().2);
                    }
                    "client" => {
                        let data = client.apply(&application).await.expect("accepted");
                        std::hint::black_box(data);
                    }
                    other => panic!("unknown contender {other:?}: ceiling, transport or client"),
                }
            }
        });
    });
    println!("{which}: {:.0} requests/s", requests as f64 / seconds);
}

/// Seconds `work` took.
#[allow(clippy::disallowed_methods)] // a profiling harness measures wall time
fn timed(work: impl FnOnce()) -> f64 {
    let start = std::time::Instant::now();
    work();
    start.elapsed().as_secs_f64()
}
