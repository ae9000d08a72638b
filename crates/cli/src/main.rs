//! `kyc`: the KYC Authentication 2.0 SDK from the command line.
//!
//! Every subcommand is a thin layer over the library crates: `kyc-sign` for `sign`,
//! `kyc-client` for `apply`, `status`, `callback listen` and `batch`, `kyc-store` for the
//! ledger those two record into and for `reconcile` and `ledger`, `kyc-sandbox` for
//! `sandbox`, and all of them together for `demo`.

// A command-line tool talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod api;
mod batch;
mod callbacks;
mod demo;
mod reconcile;
mod rows;
mod sandbox;
mod secret;
mod sign;
mod store;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The KYC Authentication 2.0 toolkit: sign, apply, query, receive callbacks, run a sandbox.
///
/// Configuration comes from flags or the environment: KYC_BASE_URL, KYC_MERCHANT_NO,
/// KYC_APP_SECRET (prefer the environment for the secret: command lines are visible to other
/// users of the machine).
#[derive(Debug, Parser)]
#[command(name = "kyc", version, propagate_version = true)]
struct Cli {
    /// Print the SDK's traces (spans per call and attempt) on stderr.
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Sign(sign::Args),
    Apply(api::ApplyArgs),
    Status(api::StatusArgs),
    Sandbox(sandbox::Args),
    /// Receive the provider's signed result callbacks: verify, record, answer OK.
    #[command(subcommand)]
    Callback(callbacks::Command),
    Batch(batch::Args),
    Reconcile(reconcile::Args),
    #[command(subcommand)]
    Ledger(store::Command),
    Demo(demo::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.verbose {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::DEBUG)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Sign(args) => sign::run(&args),
            Command::Apply(args) => api::apply(args).await,
            Command::Status(args) => api::status(args).await,
            Command::Sandbox(args) => sandbox::run(args).await,
            Command::Callback(command) => callbacks::run(command).await,
            Command::Batch(args) => batch::run(args).await,
            Command::Reconcile(args) => reconcile::run(args).await,
            Command::Ledger(command) => store::run(command).await,
            Command::Demo(args) => demo::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the error and its causes, outermost first.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
