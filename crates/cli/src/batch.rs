//! `kyc batch`: apply for many users, one result line each, resumable.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kyc_client::Client;
use kyc_client::types::{Application, Furigana, UserId};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Semaphore, mpsc};

use crate::api::ClientArgs;
use crate::jsonl;

/// Apply for many users from a CSV or JSON-lines file, with a progress bar.
///
/// Each input row names userId, callBackUrl and usernameFurigana (a CSV header row with those
/// names, or one JSON object per line). Each user gets exactly one line in --out: the accepted
/// status, or the error. Rerun with the same --out to resume: users already in it are skipped,
/// and a line cut short by a kill is dropped and redone. Exits 0 when every user was accepted,
/// 2 when some were refused (see their lines), 1 when the batch could not run.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc batch --input users.csv --out results.jsonl
  kyc batch --input users.jsonl --out results.jsonl --concurrency 32 --base-url http://127.0.0.1:8080/japan

users.csv:
  userId,callBackUrl,usernameFurigana
  abc_100008,https://merchant.example.com/api/kyc/callback,テスト014")]
pub(crate) struct Args {
    /// The users: a .csv file with a header row, or a .jsonl file.
    #[arg(long)]
    input: PathBuf,

    /// The JSON-lines file of results (appended to; resumes when it exists).
    #[arg(long)]
    out: PathBuf,

    /// How many applications are in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,

    #[command(flatten)]
    client: ClientArgs,
}

/// One input row, as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    user_id: String,
    call_back_url: String,
    username_furigana: String,
}

/// One output line.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Outcome {
    user_id: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    authentication_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retryable: Option<bool>,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rows =
        read_rows(&args.input).with_context(|| format!("--input {}", args.input.display()))?;
    let (done, out) = open_output(&args.out)
        .await
        .with_context(|| format!("--out {}", args.out.display()))?;
    let client = args.client.client()?;

    let mut seen = HashSet::new();
    let todo: Vec<Row> = rows
        .into_iter()
        .filter(|row| seen.insert(row.user_id.clone()) && !done.contains(&row.user_id))
        .collect();
    let skipped = seen.len() - todo.len();

    let progress = ProgressBar::new(todo.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users  {per_sec}  eta {eta}")
            .expect("the template is valid"),
    );

    // One writer: lines never interleave, and each is written whole.
    let (lines, mut receiver) = mpsc::channel::<Outcome>(256);
    let writer = tokio::spawn(async move {
        let mut out = out;
        let (mut accepted, mut refused) = (0usize, 0usize);
        while let Some(outcome) = receiver.recv().await {
            if outcome.ok {
                accepted += 1;
            } else {
                refused += 1;
            }
            let mut line = serde_json::to_vec(&outcome)?;
            line.push(b'\n');
            out.write_all(&line).await?;
            out.flush().await?;
        }
        out.sync_data().await?;
        Ok::<_, std::io::Error>((accepted, refused))
    });

    let policy = CallbackPolicy::from(&args.client);
    let permits = Arc::new(Semaphore::new(args.concurrency as usize));
    let mut tasks = tokio::task::JoinSet::new();
    for row in todo {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("never closed");
        let (client, lines, progress) = (client.clone(), lines.clone(), progress.clone());
        tasks.spawn(async move {
            let outcome = apply_one(&client, policy, row).await;
            let _ = lines.send(outcome).await;
            progress.inc(1);
            drop(permit);
        });
    }
    drop(lines);
    while tasks.join_next().await.is_some() {}
    progress.finish_and_clear();
    let (accepted, refused) = writer.await.context("the writer stopped")??;
    eprintln!("{accepted} accepted, {refused} refused, {skipped} already done");
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
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

async fn apply_one(client: &Client, policy: CallbackPolicy, row: Row) -> Outcome {
    let refused = |error: String, retryable: bool| Outcome {
        user_id: row.user_id.clone(),
        ok: false,
        authentication_status: None,
        error: Some(error),
        retryable: Some(retryable),
    };
    let application = (|| {
        let callback_url = if policy.allow_http {
            kyc_client::types::CallbackUrl::new_allow_http(&row.call_back_url)
        } else {
            kyc_client::types::CallbackUrl::new(&row.call_back_url)
        }?;
        Ok::<_, kyc_client::types::ValidationError>(Application::new(
            UserId::new(row.user_id.as_str())?,
            callback_url,
            Furigana::normalize(&row.username_furigana)?,
        ))
    })();
    let application = match application {
        Ok(application) => application,
        Err(err) => return refused(err.to_string(), false),
    };
    match client.apply(&application).await {
        Ok(data) => Outcome {
            user_id: row.user_id.clone(),
            ok: true,
            authentication_status: Some(data.authentication_status().as_str().to_owned()),
            error: None,
            retryable: None,
        },
        Err(err) => refused(one_line(&err), err.is_retryable()),
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

/// Reads every row of a .csv (with header) or .jsonl file.
fn read_rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("csv") => {
            let mut reader = csv::Reader::from_path(path)?;
            reader
                .deserialize()
                .enumerate()
                .map(|(index, row)| row.with_context(|| format!("row {}", index + 2)))
                .collect()
        }
        Some("jsonl") => {
            let text = std::fs::read_to_string(path)?;
            text.lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .map(|(index, line)| {
                    serde_json::from_str(line).with_context(|| format!("line {}", index + 1))
                })
                .collect()
        }
        _ => bail!("the input must end in .csv or .jsonl"),
    }
}

/// Opens the output for appending and returns the users it already has a line for, after
/// dropping a last line cut short by a kill.
async fn open_output(path: &Path) -> anyhow::Result<(HashSet<String>, tokio::fs::File)> {
    let (lines, file) = jsonl::open_append(path).await?;
    let mut done = HashSet::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(user_id) = line["userId"].as_str() else {
            bail!("result {} has no userId", index + 1);
        };
        done.insert(user_id.to_owned());
    }
    Ok((done, file))
}
