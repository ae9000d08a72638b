//! Running the `kyc` binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub(crate) const MERCHANT: &str = "1027749636";
pub(crate) const SECRET: &str = "TEST_SECRET_DO_NOT_USE";

/// The `kyc` command, with no configuration inherited from the environment.
pub(crate) fn kyc() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kyc"));
    command
        .env_remove("KYC_BASE_URL")
        .env_remove("KYC_MERCHANT_NO")
        .env_remove("KYC_APP_SECRET");
    command
}

pub(crate) fn run(command: &mut Command) -> Output {
    command.output().expect("the kyc binary runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A long-running `kyc` process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// The first line it printed on stdout (its URL).
    pub(crate) first_line: String,
}

impl Server {
    pub(crate) fn spawn(command: &mut Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the kyc binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("it prints its address");
        assert!(
            !line.is_empty(),
            "the server exited before printing its address"
        );
        Self {
            child,
            first_line: line.trim().to_owned(),
        }
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A sandbox with the default test merchant, reviews done in 300 ms, callbacks retried fast.
pub(crate) fn sandbox() -> Server {
    Server::spawn(kyc().args([
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--review-after",
        "100ms",
        "--final-after",
        "300ms",
        "--time-scale",
        "0.001",
    ]))
}

/// `kyc` with the sandbox's configuration in the environment.
pub(crate) fn against(sandbox: &Server) -> Command {
    let mut command = kyc();
    command
        .env("KYC_BASE_URL", &sandbox.first_line)
        .env("KYC_MERCHANT_NO", MERCHANT)
        .env("KYC_APP_SECRET", SECRET);
    command
}

/// Polls `check` every 20 ms for up to 10 s.
pub(crate) fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// The URL of a SQLite ledger in `dir`.
pub(crate) fn store_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}/kyc.db", dir.display())
}

/// Every user's state in the ledger at `store`, through `kyc ledger export --format jsonl`.
pub(crate) fn exported(store: &str) -> Vec<serde_json::Value> {
    let output = run(kyc().args(["ledger", "export", "--format", "jsonl", "--store", store]));
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is whole JSON"))
        .collect()
}

/// `kyc ledger show --user-id USER --json` on the ledger at `store`.
pub(crate) fn shown(store: &str, user: &str) -> serde_json::Value {
    let output = run(kyc().args([
        "ledger",
        "show",
        "--json",
        "--user-id",
        user,
        "--store",
        store,
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("one JSON object")
}
