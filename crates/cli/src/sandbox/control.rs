//! `kyc sandbox decide` and `kyc sandbox resend`: a running sandbox's control API over HTTP.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{Request, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// How long one control call may take.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Decide a pending or under-review application now: it moves, and calls back, as if its
    /// schedule had decided it.
    #[command(after_help = "Examples:
  kyc sandbox decide --sandbox http://127.0.0.1:8080/japan --user-id abc_100008 --approve
  kyc sandbox decide --sandbox http://127.0.0.1:8080/japan --user-id abc_100008 --reject 'document expired'
  kyc sandbox decide --sandbox http://127.0.0.1:8080/japan --user-id abc_100008 --hold")]
    Decide(DecideArgs),
    /// Deliver the callback of a decided application again (the same body).
    Resend(Target),
}

/// Which sandbox and which application.
#[derive(Debug, clap::Args)]
pub(crate) struct Target {
    /// The sandbox's base URL, as `kyc sandbox` printed it (http://127.0.0.1:8080/japan).
    #[arg(long, env = "KYC_SANDBOX_URL")]
    sandbox: String,

    /// The application's userId.
    #[arg(long)]
    user_id: String,

    /// The merchant whose application it is; needed only when several have this userId.
    #[arg(long)]
    merchant_no: Option<String>,
}

#[derive(Debug, clap::Args)]
#[group(id = "decision", required = true, multiple = false, args = ["approve", "reject", "hold"])]
pub(crate) struct DecideArgs {
    #[command(flatten)]
    target: Target,

    /// Approve it (authenticationStatus 2).
    #[arg(long)]
    approve: bool,

    /// Reject it (3) with this failReason.
    #[arg(long, value_name = "REASON")]
    reject: Option<String>,

    /// Keep it under review (1) until another decision.
    #[arg(long)]
    hold: bool,
}

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let (target, path, mut body) = match command {
        Command::Decide(args) => {
            let mut body = json!({"userId": args.target.user_id});
            if args.approve {
                body["decision"] = json!("approve");
            } else if args.hold {
                body["decision"] = json!("hold");
            } else if let Some(reason) = args.reject {
                body["decision"] = json!("reject");
                body["failReason"] = json!(reason);
            }
            (args.target, "decide", body)
        }
        Command::Resend(target) => {
            let body = json!({"userId": target.user_id});
            (target, "resend", body)
        }
    };
    if let Some(merchant_no) = &target.merchant_no {
        body["merchantNo"] = json!(merchant_no);
    }
    let url = format!("{}/_sandbox/{path}", target.sandbox.trim_end_matches('/'));
    let uri: Uri = url
        .parse()
        .with_context(|| format!("--sandbox {}: not a URL", target.sandbox))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        bail!(
            "--sandbox {}: give the http:// base URL the sandbox printed",
            target.sandbox
        );
    }
    let (status, answer) = tokio::time::timeout(TIMEOUT, post(uri, &body))
        .await
        .with_context(|| format!("no answer from {url} within {TIMEOUT:?}"))?
        .with_context(|| format!("POST {url}"))?;
    let json: Value = serde_json::from_slice(&answer).with_context(|| {
        format!("{url} answered HTTP {status} without JSON: is it a kyc sandbox?")
    })?;
    if let Some(error) = json.get("error") {
        bail!(
            "the sandbox refused ({status}, {}): {}",
            error["code"].as_str().unwrap_or("?"),
            error["message"].as_str().unwrap_or("?")
        );
    }
    let application = &json["application"];
    println!("{application}");
    eprintln!(
        "{} {}: {} ({})",
        if path == "decide" {
            "decided"
        } else {
            "resending"
        },
        application["userId"].as_str().unwrap_or_default(),
        application["statusName"].as_str().unwrap_or_default(),
        application["merchantNo"].as_str().unwrap_or_default(),
    );
    Ok(ExitCode::SUCCESS)
}

async fn post(uri: Uri, body: &Value) -> anyhow::Result<(u16, Bytes)> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .context("building the request")?;
    let response = client.request(request).await.context("connecting")?;
    let status = response.status().as_u16();
    let answer = Limited::new(response.into_body(), 64 * 1024)
        .collect()
        .await
        .map_err(|_| anyhow::anyhow!("the answer was cut short or too large"))?
        .to_bytes();
    Ok((status, answer))
}
