//! `kyc apply` and `kyc status`: one call each, against any base URL.

use std::process::ExitCode;

use anyhow::Context;
use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};
use kyc_client::{Client, Environment};

use crate::secret::Secret;

/// Where the provider is and who the merchant is: flags or the environment.
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    /// The provider's base URL.
    #[arg(long, env = "KYC_BASE_URL", default_value = Environment::SANDBOX_URL)]
    pub(crate) base_url: String,

    /// The merchant number (sent as the `merchantNo` header).
    #[arg(long, env = "KYC_MERCHANT_NO")]
    pub(crate) merchant_no: String,

    /// The app secret (prefer KYC_APP_SECRET: command lines are visible to others).
    #[arg(long, env = "KYC_APP_SECRET", hide_env_values = true)]
    pub(crate) app_secret: Secret,
}

impl ClientArgs {
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        let environment = Environment::custom(&self.base_url).context("--base-url")?;
        Client::builder()
            .environment(environment)
            .merchant_no(self.merchant_no.as_str())
            .app_secret(self.app_secret.expose())
            .build()
            .context("configuration")
    }

    /// Plain-http callback URLs are for local sandboxes: allowed only when the provider itself
    /// is reached over plain http.
    pub(crate) fn callback_url(&self, url: &str) -> anyhow::Result<CallbackUrl> {
        let parsed = if self.base_url.starts_with("http://") {
            CallbackUrl::new_allow_http(url)
        } else {
            CallbackUrl::new(url)
        };
        parsed.context("--callback-url")
    }
}

/// Apply for KYC for one user and print the provider's answer.
///
/// Exits 0 only when the provider accepted the application; the review's outcome comes later
/// (kyc status, or the callback). The furigana is normalised first: half-width katakana and
/// hiragana become full-width katakana.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  export KYC_MERCHANT_NO=1027749636 KYC_APP_SECRET=...
  kyc apply --user-id abc_100008 --callback-url https://merchant.example.com/api/kyc/callback --furigana テスト014
  kyc apply --base-url http://127.0.0.1:8080/japan --user-id reject-1 --callback-url http://127.0.0.1:9000/cb --furigana ﾃｽﾄ --json")]
pub(crate) struct ApplyArgs {
    /// The merchant's identifier of the user.
    #[arg(long)]
    user_id: String,

    /// Where the provider sends the final result (https; http only with a plain-http base URL).
    #[arg(long)]
    callback_url: String,

    /// The user's name in katakana.
    #[arg(long)]
    furigana: String,

    #[command(flatten)]
    client: ClientArgs,

    /// Print the decoded answer as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn apply(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let application = Application::new(
        UserId::new(args.user_id.as_str()).context("--user-id")?,
        args.client.callback_url(&args.callback_url)?,
        Furigana::normalize(&args.furigana).context("--furigana")?,
    );
    let client = args.client.client()?;
    let data = client.apply(&application).await.context("apply")?;
    if args.json {
        println!("{}", serde_json::to_string(&data)?);
    } else {
        println!(
            "accepted: userId={} authenticationStatus={} ({})",
            data.user_id().unwrap_or(application.user_id().as_str()),
            data.authentication_status().as_str(),
            describe(data.authentication_status()),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Query the review status of one user.
///
/// Exits 0 when the query succeeded, whatever the status; the status is printed (and is the
/// `authenticationStatus` field of --json).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc status --user-id abc_100008
  kyc status --user-id abc_100008 --base-url http://127.0.0.1:8080/japan --merchant-no 1027749636 --json")]
pub(crate) struct StatusArgs {
    /// The merchant's identifier of the user.
    #[arg(long)]
    user_id: String,

    #[command(flatten)]
    client: ClientArgs,

    /// Print the decoded answer as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let user_id = UserId::new(args.user_id.as_str()).context("--user-id")?;
    let client = args.client.client()?;
    let data = client.status(&user_id).await.context("status")?;
    if args.json {
        println!("{}", serde_json::to_string(&data)?);
    } else {
        let status = data.authentication_status();
        print!(
            "userId={} authenticationStatus={} ({})",
            user_id,
            status.as_str(),
            describe(status)
        );
        if let Some(reason) = data.fail_reason() {
            print!(" failReason={reason:?}");
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

/// A word for a status.
pub(crate) fn describe(status: &kyc_client::types::AuthenticationStatus) -> &'static str {
    use kyc_client::types::AuthenticationStatus as S;
    match status {
        S::Pending => "pending",
        S::UnderReview => "under review",
        S::Approved => "approved",
        S::Rejected => "rejected",
        _ => "unknown",
    }
}
