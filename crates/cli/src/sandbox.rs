//! `kyc sandbox`: the fake provider as a server, and `kyc sandbox decide | resend` against a
//! running one (through its HTTP control API, `{base}/_sandbox/…`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use kyc_sandbox::{Outcome, Sandbox, SystemClock};

use crate::secret::Secret;

mod control;

/// The merchant the sandbox knows when none is given.
pub(crate) const DEFAULT_MERCHANT: &str = "1027749636";
/// Its secret: public on purpose, for local development only.
pub(crate) const DEFAULT_SECRET: &str = "TEST_SECRET_DO_NOT_USE";

/// Run the fake provider and print its base URL, or decide and resend against a running one.
///
/// Merchants are given as --merchant-no/--secret pairs (repeat both); with none, merchant
/// 1027749636 with secret TEST_SECRET_DO_NOT_USE. The userId prefix chooses the review's fate:
/// approve- (the default, see --default-outcome), reject-, review- (stays under review),
/// hold- (waits for `kyc sandbox decide`), pending-; callbacks lost-, twice-, late-; and faults
/// for client tests: fault500-, fault8000-, fault5000-, slow-, drop-, each optionally counted
/// (fault500x2-… fails twice, then succeeds). The dashboard is at {base}/_sandbox/, the
/// request log at {base}/_sandbox/log.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  kyc sandbox --listen 127.0.0.1:8080
  kyc sandbox --listen 127.0.0.1:8080 --default-outcome hold
  kyc sandbox --listen 127.0.0.1:8080 --merchant-no 1027749636 --secret s1 --merchant-no 2000000001 --secret s2
  kyc sandbox --listen 127.0.0.1:8443 --https --final-after 10s
  kyc sandbox decide --sandbox http://127.0.0.1:8080/japan --user-id abc_100008 --approve
  kyc sandbox resend --sandbox http://127.0.0.1:8080/japan --user-id abc_100008"
)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<control::Command>,

    #[command(flatten)]
    serve: ServeArgs,
}

/// The flags of a sandbox run as a server.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,

    /// A merchant number the sandbox accepts; pair each with a --secret.
    #[arg(long = "merchant-no")]
    merchant_nos: Vec<String>,

    /// The app secret of the merchant given at the same position.
    #[arg(long = "secret")]
    secrets: Vec<Secret>,

    /// Serve HTTPS with a generated self-signed certificate (its PEM is printed).
    #[arg(long)]
    https: bool,

    /// When an application becomes "under review" (e.g. 1s, 500ms).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    review_after: Duration,

    /// When an application reaches its final status.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    final_after: Duration,

    /// Factor applied to callback retry delays (0.001 turns 2 s into 2 ms).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,

    /// The outcome of a userId that names none: approve, reject, review, pending, or hold
    /// (under review until `kyc sandbox decide`).
    #[arg(long, default_value = "approve", value_parser = parse_outcome)]
    default_outcome: Outcome,

    /// A PEM file of root certificates that https:// callbacks trust besides the system's
    /// (repeatable).
    #[arg(long = "callback-root", value_name = "PEM_FILE")]
    callback_roots: Vec<std::path::PathBuf>,

    /// Local development only: https:// callbacks accept any certificate.
    #[arg(long)]
    danger_accept_invalid_callback_certs: bool,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(command) => control::run(command).await,
        None => serve(args.serve).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.merchant_nos.len() != args.secrets.len() {
        bail!(
            "--merchant-no and --secret come in pairs: got {} merchant numbers and {} secrets",
            args.merchant_nos.len(),
            args.secrets.len()
        );
    }
    let mut builder = Sandbox::builder(SystemClock)
        .https(args.https)
        .review_schedule(args.review_after, args.final_after)
        .time_scale(args.time_scale)
        .default_outcome(args.default_outcome)
        .danger_accept_invalid_callback_certs(args.danger_accept_invalid_callback_certs);
    for path in &args.callback_roots {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("--callback-root {}", path.display()))?;
        builder = builder.callback_root_pem(pem);
    }
    if args.merchant_nos.is_empty() {
        builder = builder.merchant(DEFAULT_MERCHANT, DEFAULT_SECRET);
        eprintln!(
            "merchant {DEFAULT_MERCHANT}, secret {DEFAULT_SECRET} (the default test merchant)"
        );
    }
    for (merchant_no, secret) in args.merchant_nos.iter().zip(&args.secrets) {
        builder = builder.merchant(merchant_no.as_str(), secret.expose());
    }
    let running = builder
        .build()
        .context("sandbox configuration")?
        .start(args.listen.as_str())
        .await
        .with_context(|| format!("--listen {}", args.listen))?;
    if let Some(pem) = running.certificate_pem() {
        eprintln!("certificate (trust it as a root):\n{pem}");
    }
    println!("{}", running.base_url());
    eprintln!("dashboard: {}", running.dashboard_url());
    eprintln!("request log: {}", running.log_url());
    running
        .run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    Ok(ExitCode::SUCCESS)
}

fn parse_outcome(text: &str) -> Result<Outcome, String> {
    match text {
        "approve" => Ok(Outcome::Approve),
        "reject" => Ok(Outcome::Reject),
        "review" => Ok(Outcome::Review),
        "pending" => Ok(Outcome::Pending),
        "hold" => Ok(Outcome::Hold),
        _ => Err(format!(
            "{text:?}: expected approve, reject, review, pending or hold"
        )),
    }
}

/// `250ms`, `3s`, `2m`, `1h`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |at| text.split_at(at));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms, 3s, 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("3 days").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
