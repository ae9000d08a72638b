//! `kyc batch`: one line per user, and a killed run resumes without losing or repeating one.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::support::{Server, against, eventually, run, sandbox, stderr};

fn write_csv(path: &Path, users: usize) {
    let mut csv = String::from("userId,callBackUrl,usernameFurigana\n");
    for i in 0..users {
        // Every fifth user has a furigana the API refuses: its line records the error.
        let furigana = if i % 5 == 4 { "Yamada" } else { "ﾃｽﾄ" };
        writeln!(csv, "user-{i:05},http://127.0.0.1:9/cb,{furigana}").unwrap();
    }
    std::fs::write(path, csv).unwrap();
}

fn results(path: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).expect("every line is whole JSON");
        *counts
            .entry(value["userId"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

#[test]
fn every_user_gets_exactly_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (
        dir.path().join("users.csv"),
        dir.path().join("results.jsonl"),
    );
    write_csv(&input, 40);
    let sandbox = sandbox();
    let output = run(against(&sandbox)
        .args(["batch", "--concurrency", "4", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out));
    assert_eq!(
        output.status.code(),
        Some(2),
        "some users were refused: {}",
        stderr(&output)
    );
    let counts = results(&out);
    assert_eq!(counts.len(), 40);
    assert!(counts.values().all(|&n| n == 1));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("\"ok\":false").count(), 8, "{text}");

    // Rerunning finds nothing left to do.
    let output = run(against(&sandbox)
        .args(["batch", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out));
    assert!(
        stderr(&output).contains("40 already done"),
        "{}",
        stderr(&output)
    );
    assert_eq!(results(&out).len(), 40);
}

#[test]
fn a_killed_batch_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (
        dir.path().join("users.csv"),
        dir.path().join("results.jsonl"),
    );
    write_csv(&input, 400);
    let sandbox = sandbox();

    let mut first = against(&sandbox);
    first
        .args(["batch", "--concurrency", "2", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out);
    let mut child = first
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("some progress", || results(&out).len() >= 20);
    child.kill().unwrap();
    child.wait().unwrap();
    // Simulate the worst moment to die: in the middle of writing a line.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&out)
        .map(|mut f| {
            use std::io::Write;
            f.write_all(b"{\"userId\":\"user-0").unwrap();
        })
        .unwrap();
    let done_before = std::fs::read_to_string(&out).unwrap().lines().count() - 1;
    assert!(done_before < 400, "the kill came too late to test resuming");

    let output = run(against(&sandbox)
        .args(["batch", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out));
    assert!(output.status.code() == Some(2), "{}", stderr(&output));
    let counts = results(&out);
    assert_eq!(counts.len(), 400);
    assert!(counts.values().all(|&n| n == 1), "a user has two lines");
    drop::<Server>(sandbox);
}
