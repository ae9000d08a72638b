//! `kyc sign`: the signature of some fields, and optionally the text that was hashed.

use std::process::ExitCode;

use anyhow::{Context, bail};
use kyc_sign::{Canonical, EmptyValues, Settings, SigningKey};

use crate::secret::Secret;

/// Sign name=value fields with the provider's rule and print the signature.
///
/// The signature is on the last line of stdout. With --explain, the canonical text (what is
/// hashed, secret left out) is printed first, for comparing with another implementation.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  kyc sign --secret TEST_SECRET_DO_NOT_USE userId=jp_user_100008 timestamp=1732988442913
  KYC_APP_SECRET=s kyc sign --explain userId=u 'usernameFurigana=テスト014'
  kyc sign --secret s --include-empty failReason= userId=u")]
pub(crate) struct Args {
    /// The app secret (or set KYC_APP_SECRET).
    #[arg(long, env = "KYC_APP_SECRET", hide_env_values = true)]
    secret: Secret,

    /// Sign empty values as `name=` instead of skipping them.
    #[arg(long)]
    include_empty: bool,

    /// Also print the canonical text that is hashed (without the secret).
    #[arg(long)]
    explain: bool,

    /// The fields, as name=value (the value may contain `=`; a `sign` field is ignored).
    #[arg(required = true, value_name = "NAME=VALUE")]
    fields: Vec<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let fields = parse_fields(&args.fields)?;
    let mut settings = Settings::default();
    if args.include_empty {
        settings = settings.with_empty_values(EmptyValues::Include);
    }
    let key = SigningKey::new(args.secret.expose()).context("--secret")?;
    let canonical = Canonical::new(&fields, &settings).context("fields")?;
    if args.explain {
        println!("canonical: {canonical}");
    }
    println!("{}", key.sign(&canonical));
    Ok(ExitCode::SUCCESS)
}

fn parse_fields(raw: &[String]) -> anyhow::Result<Vec<(&str, &str)>> {
    raw.iter()
        .map(|field| match field.split_once('=') {
            Some(("", _)) => bail!("field {field:?}: the name before `=` is empty"),
            Some(pair) => Ok(pair),
            None => bail!("field {field:?}: expected NAME=VALUE"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_may_contain_equals_signs() {
        let raw = vec!["url=https://x/?a=1".to_owned()];
        assert_eq!(parse_fields(&raw).unwrap(), [("url", "https://x/?a=1")]);
        assert!(parse_fields(&["novalue".to_owned()]).is_err());
        assert!(parse_fields(&["=v".to_owned()]).is_err());
    }
}
