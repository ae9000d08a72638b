//! `--store`: where the ledger is, and `kyc ledger show | summary | export`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use futures_util::StreamExt;
use kyc_client::types::UserId;
use kyc_store::{Event, Ledger, UserState};
use serde::Serialize;

use crate::api::describe;

/// The ledger's URL: a flag, or the environment.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// The ledger: sqlite://PATH (created when missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "KYC_STORE", default_value = "sqlite://kyc.db")]
    pub(crate) store: String,
}

impl StoreArgs {
    /// Connects, naming the flag but never the URL (it may hold a password).
    pub(crate) async fn connect(&self) -> anyhow::Result<Ledger> {
        Ledger::connect(&self.store).await.context("--store")
    }
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    Show(ShowArgs),
    Summary(SummaryArgs),
    Export(ExportArgs),
}

/// Show one user's current status and every recorded event, oldest first.
///
/// With --json, prints one object: userId, authenticationStatus (the current one, "0" to "3",
/// or null when none is known), applications (the attempt number) and events, each with kind
/// (application, callback or status), attempt, authenticationStatus, timestamp (milliseconds,
/// as a string) and, when present, failReason, code and retryable. An unknown user prints a
/// null status and no events.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc ledger show --user-id abc_100008
  kyc ledger show --user-id abc_100008 --json --store postgres://kyc@db/kyc")]
pub(crate) struct ShowArgs {
    /// The user.
    #[arg(long)]
    user_id: String,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    store: StoreArgs,
}

/// Count the users in each current status.
///
/// With --json, prints one object from status ("0" pending, "1" under review, "2" approved,
/// "3" rejected, "none" for users with only refused applications) to the count.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc ledger summary
  KYC_STORE=sqlite:///var/lib/kyc/kyc.db kyc ledger summary --json")]
pub(crate) struct SummaryArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    store: StoreArgs,
}

/// Write every user's current state, in userId order, streamed from the database.
///
/// csv: a header row, then userId, authenticationStatus, timestamp, failReason, applications,
/// lastEventAt. jsonl: one object per user with the same names (failReason only when present).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc ledger export --format csv --out states.csv
  kyc ledger export --format jsonl | jq -c 'select(.authenticationStatus == \"3\")'")]
pub(crate) struct ExportArgs {
    /// csv or jsonl.
    #[arg(long, value_enum)]
    format: Format,

    /// The file to write (standard output when absent).
    #[arg(long)]
    out: Option<PathBuf>,

    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Show(args) => show(args).await,
        Command::Summary(args) => summary(args).await,
        Command::Export(args) => export(args).await,
    }
}

/// `show --json`'s object.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown<'a> {
    user_id: &'a str,
    authentication_status: Option<&'a str>,
    applications: u32,
    events: &'a [Event],
}

async fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let user = UserId::new(args.user_id.as_str()).context("--user-id")?;
    let ledger = args.store.connect().await?;
    let state = ledger.state(&user).await.context("reading the state")?;
    let events = ledger.history(&user).await.context("reading the history")?;
    let status = state.as_ref().and_then(UserState::status);
    if args.json {
        let shown = Shown {
            user_id: user.as_str(),
            authentication_status: status.map(|status| status.as_str()),
            applications: state.as_ref().map_or(0, UserState::applications),
            events: &events,
        };
        println!("{}", serde_json::to_string(&shown)?);
        return Ok(ExitCode::SUCCESS);
    }
    match status {
        Some(status) => println!(
            "{}  {} ({})",
            user.as_str(),
            status.as_str(),
            describe(status)
        ),
        None => println!("{}  no status known", user.as_str()),
    }
    for event in &events {
        let status = event.status().map_or_else(
            || "-".to_owned(),
            |s| format!("{} ({})", s.as_str(), describe(s)),
        );
        let mut line = format!(
            "  {}  attempt {}  {:<11}  {status}",
            event.timestamp(),
            event.attempt(),
            event.kind().as_str()
        );
        if let Some(code) = event.code() {
            line.push_str(&format!("  code {code}"));
        }
        if event.is_retryable() {
            line.push_str("  retryable");
        }
        if let Some(reason) = event.fail_reason() {
            line.push_str(&format!("  failReason: {reason}"));
        }
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn summary(args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let ledger = args.store.connect().await?;
    let counts = ledger.counts().await.context("counting")?;
    if args.json {
        println!("{}", serde_json::to_string(&counts)?);
    } else {
        print!("{}", summary_text(&counts));
    }
    Ok(ExitCode::SUCCESS)
}

/// The summary as text: one line per status present, then the total.
pub(crate) fn summary_text(counts: &kyc_store::Counts) -> String {
    let mut text = String::new();
    for (status, count) in counts.iter() {
        let name = status.map_or("no status (refused only)", describe);
        let wire = status.map_or("-", |status| status.as_str());
        text.push_str(&format!("{wire:>2}  {name:<24} {count}\n"));
    }
    text.push_str(&format!("    {:<24} {}\n", "total", counts.total()));
    text
}

async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let ledger = args.store.connect().await?;
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("--out {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut states = std::pin::pin!(ledger.export());
    match args.format {
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(sink);
            csv.write_record([
                "userId",
                "authenticationStatus",
                "timestamp",
                "failReason",
                "applications",
                "lastEventAt",
            ])?;
            let text = |t: Option<kyc_client::types::Timestamp>| {
                t.map(|t| t.to_string()).unwrap_or_default()
            };
            while let Some(state) = states.next().await {
                let state = state.context("reading the ledger")?;
                csv.write_record([
                    state.user_id().as_str(),
                    state.status().map_or("", |status| status.as_str()),
                    &text(state.timestamp()),
                    state.fail_reason().unwrap_or(""),
                    &state.applications().to_string(),
                    &text(state.last_event_at()),
                ])?;
            }
            csv.flush().context("writing the export")?;
        }
        Format::Jsonl => {
            let mut sink = std::io::BufWriter::new(sink);
            while let Some(state) = states.next().await {
                let state = state.context("reading the ledger")?;
                serde_json::to_writer(&mut sink, &state)?;
                sink.write_all(b"\n")?;
            }
            sink.flush().context("writing the export")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
