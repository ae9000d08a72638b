//! `kyc sign`, `apply`, `status`, `demo`, and how errors are reported.

use crate::support::{MERCHANT, SECRET, against, eventually, kyc, run, sandbox, stderr, stdout};

#[test]
fn sign_prints_the_signature_last_and_explains_on_request() {
    let output = run(kyc().args([
        "sign",
        "--secret",
        SECRET,
        "userId=jp_user_100008",
        "timestamp=1732988442913",
        "sign=ignored",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().last(),
        Some("0627c01fe85ccf7fc838ad3ccb0f3de9")
    );

    let output = run(kyc().env("KYC_APP_SECRET", SECRET).args([
        "sign",
        "--explain",
        "--include-empty",
        "userId=79x7p10nh4xd121m",
        "authenticationStatus=3",
        "failReason=",
        "timestamp=1728609277476",
    ]));
    let out = stdout(&output);
    assert!(
        out.contains(
            "authenticationStatus=3failReason=timestamp=1728609277476userId=79x7p10nh4xd121m"
        ),
        "{out}"
    );
    assert!(!out.contains(SECRET));
    assert_eq!(out.lines().last(), Some("1cd8707f9f67e7168448ab9f60292379"));
}

#[test]
fn errors_are_one_line_naming_the_flag_and_the_rule() {
    let output = run(kyc().args(["sign", "--secret", SECRET, "novalue"]));
    assert!(!output.status.success());
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("NAME=VALUE"), "{err}");

    let output = run(kyc().args([
        "apply",
        "--user-id",
        "u1",
        "--callback-url",
        "https://merchant.example.com/cb",
        "--furigana",
        "Yamada",
        "--merchant-no",
        MERCHANT,
        "--app-secret",
        SECRET,
    ]));
    assert!(!output.status.success());
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--furigana") && err.contains("usernameFurigana"),
        "{err}"
    );

    let output = run(kyc().args(["status", "--user-id", "u1", "--app-secret", SECRET]));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--merchant-no"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn apply_then_status_against_the_sandbox() {
    let sandbox = sandbox();
    let output = run(against(&sandbox).args([
        "apply",
        "--user-id",
        "reject-cli-1",
        "--callback-url",
        "http://127.0.0.1:9/unused",
        "--furigana",
        "ﾃｽﾄ014",
        "--json",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let answer: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(answer["authenticationStatus"], "0");

    let mut last = serde_json::Value::Null;
    eventually("the review to end", || {
        let output = run(against(&sandbox).args(["status", "--user-id", "reject-cli-1", "--json"]));
        assert!(output.status.success(), "{}", stderr(&output));
        last = serde_json::from_str(stdout(&output).trim()).unwrap();
        last["authenticationStatus"] == "3"
    });
    assert!(last["failReason"].is_string(), "{last}");

    // A refused call exits non-zero: an unknown merchant.
    let output = run(against(&sandbox)
        .env("KYC_MERCHANT_NO", "9999999999")
        .args(["status", "--user-id", "reject-cli-1"]));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("refused"), "{}", stderr(&output));
}

#[test]
fn plain_http_callbacks_need_a_plain_http_provider() {
    let output = run(kyc().args([
        "apply",
        "--user-id",
        "u1",
        "--callback-url",
        "http://merchant.example.com/cb",
        "--furigana",
        "テスト",
        "--merchant-no",
        MERCHANT,
        "--app-secret",
        SECRET,
    ]));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--callback-url"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn demo_runs_the_whole_flow() {
    let output = run(kyc().arg("demo"));
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(out.contains("demo finished"), "{out}");
    assert!(out.contains("refused once on purpose"), "{out}");
    assert!(out.contains("rejected"), "{out}");
    assert!(
        out.contains("ledger summary") && out.contains("total"),
        "{out}"
    );
}

#[test]
fn every_subcommand_has_examples_in_its_help() {
    for command in [
        &["sign"][..],
        &["apply"],
        &["status"],
        &["sandbox"],
        &["callback", "listen"],
        &["batch"],
        &["reconcile"],
        &["ledger", "show"],
        &["ledger", "summary"],
        &["ledger", "export"],
        &["demo"],
    ] {
        let output = run(kyc().args(command).arg("--help"));
        assert!(output.status.success());
        assert!(
            stdout(&output).contains("Example"),
            "{command:?} has no examples"
        );
    }
}
