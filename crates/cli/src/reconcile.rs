//! `kyc reconcile`: query the provider about users it stopped calling back about.

use std::num::NonZeroU32;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use kyc_client::{Clock, SystemClock};
use kyc_store::reconcile::{Reconciler, Report};

use crate::api::ClientArgs;
use crate::store::StoreArgs;

/// Query the status of every user whose review is not final and who has heard nothing for
/// longer than --older-than, and record the answers in the ledger.
///
/// The provider stops calling back 24 hours after a result (8 tries); a user still pending
/// or under review past the cut-off (25h by default) is queried, at most --rate queries per
/// second. Several reconcilers may run at once on one PostgreSQL ledger: each claims users
/// under a lease, so no user is queried twice within it. --once (the default) polls the users
/// due now and exits; --every DUR does so again every DUR until Ctrl-C.
///
/// Exit status: 0 when every query was answered and recorded, 2 when some failed (they are
/// due again when their lease ends), 1 when the ledger could not be read.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc reconcile --store sqlite://kyc.db --once
  kyc reconcile --store postgres://kyc@db/kyc --older-than 25h --rate 5 --every 10m")]
pub(crate) struct Args {
    #[command(flatten)]
    store: StoreArgs,

    /// Query users whose latest event is older than this (like 25h, 30m, 10s).
    #[arg(long, default_value = "25h", value_parser = crate::sandbox::parse_duration)]
    older_than: Duration,

    /// At most this many status queries per second.
    #[arg(long, default_value = "10")]
    rate: NonZeroU32,

    /// Poll the users due now, then exit (the default).
    #[arg(long, conflicts_with = "every")]
    once: bool,

    /// Poll again every DUR (like 10m) until Ctrl-C.
    #[arg(long, value_parser = parse_every)]
    every: Option<Duration>,

    /// How long a claim keeps other reconcilers off a user.
    #[arg(long, default_value = "10m", value_parser = parse_every)]
    lease: Duration,

    #[command(flatten)]
    client: ClientArgs,
}

fn parse_every(text: &str) -> Result<Duration, String> {
    let every = crate::sandbox::parse_duration(text)?;
    if every.is_zero() {
        return Err(format!("{text:?} must be above zero"));
    }
    Ok(every)
}

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let client = args.client.client()?;
    let ledger = args.store.connect().await?;
    let reconciler = Reconciler::new(ledger, client)
        .older_than(args.older_than)
        .rate(args.rate)
        .lease(args.lease);
    let report = match args.every {
        None => reconciler.run_once(SystemClock.now()).await,
        Some(every) => {
            reconciler
                .run_every(every, &SystemClock, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
        }
    }
    .context("reconciling")?;
    print_report(&report);
    Ok(if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn print_report(report: &Report) {
    println!(
        "{} polled, {} changed, {} failed",
        report.polled, report.changed, report.failed
    );
}
