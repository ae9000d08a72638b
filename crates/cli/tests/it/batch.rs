//! `kyc batch` into the ledger: one application outcome per user, a killed run resumes
//! without losing or repeating one, retryable failures are retried, malformed rows are their
//! own errors; then `kyc ledger` and `kyc reconcile` over what it recorded.

use std::fmt::Write as _;
use std::path::Path;

use crate::support::{
    Server, against, eventually, exported, kyc, run, sandbox, shown, stderr, stdout, store_url,
};

fn write_csv(path: &Path, users: usize) {
    let mut csv = String::from("userId,callBackUrl,usernameFurigana\n");
    for i in 0..users {
        // Every fifth user has a furigana the API refuses: its outcome records the error.
        let furigana = if i % 5 == 4 { "Yamada" } else { "ﾃｽﾄ" };
        writeln!(csv, "user-{i:05},http://127.0.0.1:9/cb,{furigana}").unwrap();
    }
    std::fs::write(path, csv).unwrap();
}

fn batch(sandbox: &Server, input: &Path, store: &str) -> std::process::Output {
    run(against(sandbox)
        .args(["batch", "--concurrency", "4", "--store", store, "--input"])
        .arg(input))
}

#[test]
fn every_user_gets_one_outcome_and_a_rerun_skips_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.csv");
    let store = store_url(dir.path());
    write_csv(&input, 40);
    let sandbox = sandbox();
    let output = batch(&sandbox, &input, &store);
    assert_eq!(
        output.status.code(),
        Some(2),
        "some users were refused: {}",
        stderr(&output)
    );
    let states = exported(&store);
    assert_eq!(states.len(), 40);
    let refused = states
        .iter()
        .filter(|s| s["authenticationStatus"].is_null())
        .count();
    assert_eq!(refused, 8);
    assert!(
        states
            .iter()
            .filter(|s| !s["authenticationStatus"].is_null())
            .all(|s| s["applications"] == 1)
    );

    let user = shown(&store, "user-00004");
    assert!(user["authenticationStatus"].is_null());
    assert_eq!(user["events"][0]["kind"], "application");
    assert_eq!(user["events"][0]["code"], "invalid");

    // Rerunning finds nothing left to do.
    let output = batch(&sandbox, &input, &store);
    assert!(
        stderr(&output).contains("40 already done"),
        "{}",
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        exported(&store)
            .iter()
            .all(|s| s["applications"].as_u64() <= Some(1))
    );
}

#[test]
fn a_killed_batch_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.csv");
    let store = store_url(dir.path());
    write_csv(&input, 400);
    let sandbox = sandbox();

    let mut first = against(&sandbox);
    first
        .args(["batch", "--concurrency", "2", "--store", &store, "--input"])
        .arg(&input);
    let mut child = first
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("some progress", || {
        dir.path().join("kyc.db").exists() && exported(&store).len() >= 20
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let done_before = exported(&store).len();
    assert!(done_before < 400, "the kill came too late to test resuming");

    let output = batch(&sandbox, &input, &store);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let states = exported(&store);
    assert_eq!(states.len(), 400);
    assert!(
        states.iter().all(|s| s["applications"].as_u64() <= Some(1)),
        "a user was accepted twice"
    );
}

#[test]
fn retryable_failures_are_retried_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.jsonl");
    let store = store_url(dir.path());
    std::fs::write(
        &input,
        "{\"userId\":\"approve-r1\",\"callBackUrl\":\"http://127.0.0.1:9/cb\",\"usernameFurigana\":\"ﾃｽﾄ\"}\n",
    )
    .unwrap();
    // Nobody listens on port 9: a transport failure, retryable.
    let output = run(kyc()
        .env("KYC_MERCHANT_NO", "1027749636")
        .env("KYC_APP_SECRET", "TEST_SECRET_DO_NOT_USE")
        .args([
            "batch",
            "--base-url",
            "http://127.0.0.1:9/japan",
            "--store",
            &store,
            "--input",
        ])
        .arg(&input));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let user = shown(&store, "approve-r1");
    assert_eq!(user["events"][0]["retryable"], true, "{user}");

    let sandbox = sandbox();
    let output = batch(&sandbox, &input, &store);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let user = shown(&store, "approve-r1");
    assert_eq!(user["authenticationStatus"], "0");
    assert_eq!(user["events"].as_array().unwrap().len(), 2);
}

#[test]
fn malformed_rows_are_their_own_errors_and_the_others_proceed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.csv");
    let store = store_url(dir.path());
    let mut csv = b"userId,callBackUrl,usernameFurigana\n".to_vec();
    csv.extend_from_slice(b"approve-m1,http://127.0.0.1:9/cb,\xef\xbe\x83\n"); // 2: fine
    csv.extend_from_slice(b"approve-m2,http://127.0.0.1:9/cb\n"); // 3: a column missing
    csv.extend_from_slice(b"approve-m3,http://127.0.0.1:9/cb,x,extra\n"); // 4: one too many
    csv.extend_from_slice(b"approve-m4,http://127.0.0.1:9/cb,\xff\xfe\n"); // 5: not UTF-8
    csv.extend_from_slice(b"\"approve-m5,http://127.0.0.1:9/cb,x\n"); // 6: unterminated quote
    csv.extend_from_slice(b"approve-m1,http://127.0.0.1:9/cb,x\n"); // 7: duplicate userId
    csv.extend_from_slice(b"approve-m6,http://127.0.0.1:9/cb,\xef\xbe\x83\n"); // 8: fine
    std::fs::write(&input, csv).unwrap();
    let sandbox = sandbox();
    let output = batch(&sandbox, &input, &store);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{message}");
    for line in 3..=7 {
        assert!(
            message.contains(&format!("line {line}:")),
            "line {line}: {message}"
        );
    }
    assert!(
        message.contains("unterminated quote") && message.contains("duplicate userId"),
        "{message}"
    );
    assert!(
        !message.contains("approve-m") && !message.contains("127.0.0.1"),
        "data in errors: {message}"
    );
    let users: Vec<_> = exported(&store)
        .iter()
        .map(|s| s["userId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        users,
        ["approve-m1", "approve-m6"],
        "the rows after the bad ones proceeded"
    );
}

#[test]
fn ledger_show_summary_export_and_reconcile() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.csv");
    let store = store_url(dir.path());
    std::fs::write(
        &input,
        "userId,callBackUrl,usernameFurigana\napprove-l1,http://127.0.0.1:9/cb,ﾃｽﾄ\nreject-l2,http://127.0.0.1:9/cb,ﾃｽﾄ\n",
    )
    .unwrap();
    let sandbox = sandbox();
    assert_eq!(batch(&sandbox, &input, &store).status.code(), Some(0));

    // Reviews end in 300 ms; with a cut-off of 1 ms both users are due at once.
    std::thread::sleep(std::time::Duration::from_millis(400));
    let output = run(against(&sandbox).args([
        "reconcile",
        "--store",
        &store,
        "--older-than",
        "1ms",
        "--rate",
        "100",
        "--once",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("2 polled, 2 changed, 0 failed"),
        "{}",
        stdout(&output)
    );

    let user = shown(&store, "reject-l2");
    assert_eq!(user["userId"], "reject-l2");
    assert_eq!(user["authenticationStatus"], "3");
    let events = user["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["kind"], "application");
    assert_eq!(events[0]["authenticationStatus"], "0");
    assert_eq!(events[1]["kind"], "status");
    assert_eq!(events[1]["authenticationStatus"], "3");
    assert!(events[1]["failReason"].is_string());
    assert!(events.iter().all(|e| e["timestamp"].is_string()));

    let unknown = shown(&store, "nobody");
    assert!(unknown["authenticationStatus"].is_null());
    assert_eq!(unknown["events"].as_array().unwrap().len(), 0);

    let output = run(kyc().args(["ledger", "summary", "--json", "--store", &store]));
    let counts: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(counts, serde_json::json!({"2": 1, "3": 1}));
    let output = run(kyc().args(["ledger", "summary", "--store", &store]));
    assert!(stdout(&output).contains("approved") && stdout(&output).contains("total"));

    let csv = dir.path().join("states.csv");
    let output = run(kyc()
        .args([
            "ledger", "export", "--format", "csv", "--store", &store, "--out",
        ])
        .arg(&csv));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(
        lines[0],
        "userId,authenticationStatus,timestamp,failReason,applications,lastEventAt"
    );
    assert!(lines[1].starts_with("approve-l1,2,"), "{text}");
    assert!(lines[2].starts_with("reject-l2,3,"), "{text}");
    assert_eq!(lines.len(), 3);

    // Answered just now: nothing is due again.
    let output =
        run(against(&sandbox).args(["reconcile", "--store", &store, "--older-than", "1h"]));
    assert!(stdout(&output).contains("0 polled"), "{}", stdout(&output));
}
