//! Apply for every user in a CSV file (`userId,furigana` with a header), a few at a time, and
//! report each row: accepted, or why not.
//!
//! ```sh
//! cargo run -p kyc-examples --example batch_csv                 # a built-in five-row file
//! KYC_BASE_URL=... KYC_MERCHANT_NO=... KYC_APP_SECRET=... \
//!     KYC_CALLBACK_URL=https://merchant.example.com/kyc/callback \
//!     cargo run -p kyc-examples --example batch_csv -- users.csv
//! ```
//!
//! A row that breaks a rule is reported with the field, the rule and the position, never the
//! value (names are personal data); the others are sent.

#![allow(clippy::print_stdout)] // an example reports on stdout

use std::sync::Arc;

use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
use kyc_client::{Client, Error};
use kyc_examples::{BoxError, Provider};
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Used when no file is given: four good rows and one whose furigana is kanji.
const BUILT_IN: &str = "\
userId,furigana
approve-batch-001,テスト014
reject-batch-002,ﾔﾏﾀﾞ ﾀﾛｳ
fault500x1-approve-batch-003,すずき はなこ
review-batch-004,サトウ・ケン
approve-batch-005,山田太郎
";
/// How many of the built-in rows are valid.
const BUILT_IN_VALID: usize = 4;
/// How many applications are in flight at once.
const CONCURRENCY: usize = 4;

#[derive(Debug, Deserialize)]
struct Row {
    #[serde(rename = "userId")]
    user_id: String,
    furigana: String,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let provider = Provider::from_env().await?;
    let client = provider.client()?;
    let path = std::env::args().nth(1);
    let rows: Vec<Row> = match &path {
        Some(path) => csv::Reader::from_path(path)?
            .deserialize()
            .collect::<Result<_, _>>()?,
        None => csv::Reader::from_reader(BUILT_IN.as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()?,
    };
    let callback_url = match std::env::var("KYC_CALLBACK_URL") {
        Ok(url) => CallbackUrl::new(&url)?,
        // Nobody listens there: the embedded sandbox's deliveries fail, harmlessly.
        Err(_) => CallbackUrl::new_allow_http("http://127.0.0.1:9/kyc/callback")?,
    };

    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for (line, row) in rows.into_iter().enumerate() {
        let (client, callback_url, slots) =
            (client.clone(), callback_url.clone(), Arc::clone(&slots));
        tasks.spawn(async move {
            let _slot = slots
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            (line + 2, apply_one(&client, callback_url, row).await)
        });
    }
    let mut results = tasks.join_all().await;
    results.sort_by_key(|(line, _)| *line);

    let mut accepted = 0;
    for (line, result) in &results {
        match result {
            Ok(status) => {
                accepted += 1;
                println!("line {line}: accepted, status {status}");
            }
            Err(why) => println!("line {line}: not sent or refused: {why}"),
        }
    }
    println!("{accepted} of {} accepted", results.len());
    provider.shutdown().await;
    if path.is_none() && accepted != BUILT_IN_VALID {
        return Err(format!("expected {BUILT_IN_VALID} accepted rows, got {accepted}").into());
    }
    Ok(())
}

/// Applies for one row: the business status now, or the error's one-line explanation.
async fn apply_one(client: &Client, callback_url: CallbackUrl, row: Row) -> Result<String, String> {
    let application = UserId::new(row.user_id)
        .and_then(|user| {
            Ok(Application::new(
                user,
                callback_url,
                Furigana::normalize(&row.furigana)?,
            ))
        })
        .map_err(|err| err.to_string())?;
    match client.apply(&application).await {
        Ok(data) => Ok(data.authentication_status().as_str().to_owned()),
        Err(err @ Error::Api(_)) => Err(format!("{err}; do not resend as is")),
        Err(err) if err.request_may_have_been_sent() => {
            Err(format!("{err}; ask the status query before applying again"))
        }
        Err(err) => Err(err.to_string()),
    }
}
