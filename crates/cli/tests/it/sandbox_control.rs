//! `kyc sandbox decide` and `kyc sandbox resend` against a `kyc sandbox` process, and the
//! sandbox's `--default-outcome`.

use crate::support::{Server, against, kyc, run, stderr, stdout};

/// A sandbox that holds every un-prefixed application for a decision.
fn holding_sandbox() -> Server {
    Server::spawn(kyc().args([
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--review-after",
        "0ms",
        "--final-after",
        "0ms",
        "--time-scale",
        "0.001",
        "--default-outcome",
        "hold",
    ]))
}

fn status_of(sandbox: &Server, user_id: &str) -> serde_json::Value {
    let output = run(against(sandbox).args(["status", "--user-id", user_id, "--json"]));
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(stdout(&output).trim()).unwrap()
}

#[test]
fn decide_and_resend_from_the_command_line() {
    let sandbox = holding_sandbox();
    let output = run(against(&sandbox).args([
        "apply",
        "--user-id",
        "cli_hold_1",
        "--callback-url",
        "http://127.0.0.1:9/unused",
        "--furigana",
        "テスト014",
        "--json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        status_of(&sandbox, "cli_hold_1")["authenticationStatus"],
        "1"
    );

    let decide = |extra: &[&str]| {
        let mut command = kyc();
        command.args([
            "sandbox",
            "decide",
            "--sandbox",
            &sandbox.first_line,
            "--user-id",
            "cli_hold_1",
        ]);
        command.args(extra);
        run(&mut command)
    };
    let output = decide(&["--reject", "document expired"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let application: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(application["status"], "3");
    let status = status_of(&sandbox, "cli_hold_1");
    assert_eq!(status["authenticationStatus"], "3");
    assert_eq!(status["failReason"], "document expired");

    // Final: a second decision is refused with the sandbox's reason.
    let output = decide(&["--approve"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("already_final"),
        "{}",
        stderr(&output)
    );

    let output = run(kyc().args([
        "sandbox",
        "resend",
        "--sandbox",
        &sandbox.first_line,
        "--user-id",
        "cli_hold_1",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));

    // Unknown users and merchants, and a missing or double decision.
    let output = run(kyc().args([
        "sandbox",
        "resend",
        "--sandbox",
        &sandbox.first_line,
        "--user-id",
        "nobody",
    ]));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("unknown_user"),
        "{}",
        stderr(&output)
    );
    let output = decide(&["--hold", "--merchant-no", "9999999999"]);
    assert!(
        stderr(&output).contains("unknown_merchant"),
        "{}",
        stderr(&output)
    );
    assert!(!decide(&[]).status.success());
    assert!(!decide(&["--approve", "--hold"]).status.success());
}

#[test]
fn decide_refuses_a_sandbox_url_that_is_not_http() {
    let output = run(kyc().args([
        "sandbox",
        "decide",
        "--sandbox",
        "ftp://x",
        "--user-id",
        "u",
        "--approve",
    ]));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--sandbox"), "{}", stderr(&output));
}
