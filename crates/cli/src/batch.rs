//! `kyc batch`: apply for many users, each outcome recorded in the ledger; rerun to resume.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kyc_client::types::{Application, Furigana, UserId};
use kyc_client::{Client, Clock, SystemClock};
use kyc_store::{ApplicationOutcome, EventKind, Ledger};
use tokio::sync::{Semaphore, mpsc};

use crate::api::ClientArgs;
use crate::rows::{self, Row};
use crate::store::StoreArgs;

/// Exit status when some rows of the input are malformed.
const MALFORMED: u8 = 3;

/// Most outcomes recorded in one transaction.
const GROUP: usize = 512;

/// Apply for many users from a CSV or JSON-lines file, each outcome recorded in the ledger.
///
/// Each input row names userId, callBackUrl and usernameFurigana (a CSV header row with those
/// names and one row per line, or one JSON object per line). Each application's outcome, the
/// accepted status or the refusal, is recorded in --store. Rerun to resume: users whose last
/// application was accepted, or refused for good, are skipped; those refused with a retryable
/// failure (a timeout, a provider fault) are sent again.
///
/// A malformed row (a missing or extra column, bytes that are not UTF-8, an unterminated quote,
/// a userId already on an earlier line, a line that is not a JSON object) is reported on
/// stderr with its line number, never its content, and not sent; the other rows proceed.
///
/// Exit status: 0 when every user ends accepted; 2 when some were refused (see `kyc ledger
/// show`); 3 when some rows are malformed (whatever the others did); 1 when the batch could
/// not run.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc batch --input users.csv --store sqlite://kyc.db
  kyc batch --input users.jsonl --store postgres://kyc@db/kyc --concurrency 32 --base-url http://127.0.0.1:8080/japan

users.csv:
  userId,callBackUrl,usernameFurigana
  abc_100008,https://merchant.example.com/api/kyc/callback,テスト014")]
pub(crate) struct Args {
    /// The users: a .csv file with a header row, or a .jsonl file.
    #[arg(long)]
    input: PathBuf,

    #[command(flatten)]
    store: StoreArgs,

    /// How many applications are in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,

    #[command(flatten)]
    client: ClientArgs,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let input =
        std::fs::read(&args.input).with_context(|| format!("--input {}", args.input.display()))?;
    let parsed = match args.input.extension().and_then(|ext| ext.to_str()) {
        Some("csv") => rows::csv(&input),
        Some("jsonl") => rows::jsonl(&input),
        _ => bail!("--input: the file must end in .csv or .jsonl"),
    }
    .with_context(|| format!("--input {}", args.input.display()))?;
    let client = args.client.client()?;
    let ledger = args.store.connect().await?;

    let mut malformed = parsed.malformed.len();
    for (line, why) in &parsed.malformed {
        eprintln!("line {line}: {why}");
    }
    // One scan for the users the ledger knows; only their histories are read.
    let mut known = std::collections::HashSet::new();
    let mut states = std::pin::pin!(ledger.export());
    while let Some(state) = futures_util::StreamExt::next(&mut states).await {
        known.insert(
            state
                .context("reading the ledger")?
                .user_id()
                .as_str()
                .to_owned(),
        );
    }
    let mut todo = Vec::with_capacity(parsed.rows.len());
    let mut skipped = 0usize;
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (line, row) in parsed.rows {
        if let Some(first) = first_line.get(&row.user_id) {
            eprintln!("line {line}: duplicate userId (first on line {first})");
            malformed += 1;
            continue;
        }
        first_line.insert(row.user_id.clone(), line);
        if known.contains(row.user_id.as_str()) && done(&ledger, &row.user_id).await? {
            skipped += 1;
        } else {
            todo.push((line, row));
        }
    }

    let progress = ProgressBar::new(todo.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users  {per_sec}  eta {eta}")
            .expect("the template is valid"),
    );
    // One writer records the outcomes that are ready together, in one transaction: one
    // commit (one sync to disk) for many users. An outcome counts once it is committed.
    let (outcomes, mut ready) = mpsc::channel::<(UserId, ApplicationOutcome)>(4096);
    let writer = {
        let (ledger, progress) = (ledger.clone(), progress.clone());
        tokio::spawn(async move {
            let (mut accepted, mut refused) = (0usize, 0usize);
            let mut group = Vec::with_capacity(GROUP);
            while ready.recv_many(&mut group, GROUP).await > 0 {
                let at = SystemClock.now();
                let rows: Vec<_> = group
                    .iter()
                    .map(|(user, outcome)| (user, at, outcome))
                    .collect();
                ledger.record_applications(&rows).await?;
                for (_, outcome) in &group {
                    if matches!(outcome, ApplicationOutcome::Accepted(_)) {
                        accepted += 1;
                    } else {
                        refused += 1;
                    }
                }
                progress.inc(group.len() as u64);
                group.clear();
            }
            Ok::<_, kyc_store::Error>((accepted, refused))
        })
    };
    let policy = CallbackPolicy::from(&args.client);
    let permits = Arc::new(Semaphore::new(args.concurrency as usize));
    let mut tasks = tokio::task::JoinSet::new();
    for (line, row) in todo {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("never closed");
        let (client, outcomes) = (client.clone(), outcomes.clone());
        tasks.spawn(async move {
            let outcome = apply_one(&client, policy, line, row).await;
            drop(permit);
            match outcome {
                // A closed channel means the writer failed: its error is reported below.
                Some(outcome) => outcomes.send(outcome).await.is_ok(),
                None => false,
            }
        });
    }
    drop(outcomes);
    let mut invalid = 0usize;
    while let Some(sent) = tasks.join_next().await {
        if !sent.context("an application task failed")? {
            invalid += 1;
        }
    }
    let written = writer.await.context("the ledger writer stopped")?;
    progress.finish_and_clear();
    let (accepted, refused) = written.context("recording outcomes (rerun to resume)")?;
    let refused = refused + invalid;
    eprintln!(
        "{accepted} accepted, {refused} refused, {skipped} already done, {malformed} malformed"
    );
    Ok(if malformed > 0 {
        ExitCode::from(MALFORMED)
    } else if refused > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether `user_id`'s last application is settled: accepted, or refused by a rule that
/// sending again does not change.
async fn done(ledger: &Ledger, user_id: &str) -> anyhow::Result<bool> {
    let Ok(user) = UserId::new(user_id) else {
        return Ok(false);
    };
    let history = ledger.history(&user).await.context("reading the ledger")?;
    Ok(history
        .iter()
        .rev()
        .find(|event| event.kind() == EventKind::Application)
        .is_some_and(|last| last.status().is_some() || !last.is_retryable()))
}

/// Whether plain-http callback URLs are acceptable (only against a plain-http sandbox).
#[derive(Clone, Copy)]
struct CallbackPolicy {
    allow_http: bool,
}

impl From<&ClientArgs> for CallbackPolicy {
    fn from(args: &ClientArgs) -> Self {
        Self {
            allow_http: args.base_url.starts_with("http://"),
        }
    }
}

/// Sends one row's application; its outcome, or `None` when the row has no valid userId to
/// record it against (then it is reported on stderr, like a malformed row).
async fn apply_one(
    client: &Client,
    policy: CallbackPolicy,
    line: usize,
    row: Row,
) -> Option<(UserId, ApplicationOutcome)> {
    let user = match UserId::new(row.user_id.as_str()) {
        Ok(user) => user,
        Err(err) => {
            eprintln!("line {line}: userId: {err}");
            return None;
        }
    };
    let application = (|| {
        let callback_url = if policy.allow_http {
            kyc_client::types::CallbackUrl::new_allow_http(&row.call_back_url)
        } else {
            kyc_client::types::CallbackUrl::new(&row.call_back_url)
        }?;
        Ok::<_, kyc_client::types::ValidationError>(Application::new(
            user.clone(),
            callback_url,
            Furigana::normalize(&row.username_furigana)?,
        ))
    })();
    let outcome = match application {
        Ok(application) => match client.apply(&application).await {
            Ok(data) => ApplicationOutcome::Accepted(data.authentication_status().clone()),
            Err(err) => ApplicationOutcome::Refused {
                code: error_code(&err),
                reason: Some(one_line(&err)),
                retryable: err.is_retryable(),
            },
        },
        Err(err) => ApplicationOutcome::Refused {
            code: "invalid".to_owned(),
            reason: Some(err.to_string()),
            retryable: false,
        },
    };
    Some((user, outcome))
}

/// The provider's code for an API refusal, else how far the call got.
fn error_code(err: &kyc_client::Error) -> String {
    match err {
        kyc_client::Error::Api(api) => api
            .code()
            .map_or_else(|| "http".to_owned(), |code| code.as_str().to_owned()),
        kyc_client::Error::Transport(_) => "transport".to_owned(),
        kyc_client::Error::Decode(_) => "decode".to_owned(),
        _ => "request".to_owned(),
    }
}

/// An error and its causes on one line, outermost first.
pub(crate) fn one_line(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
