//! Runs the `instructions` bench (callgrind through gungraun) and compares each benchmark's
//! instruction count with the committed baseline, `benches/instructions.baseline`.
//!
//! ```text
//! cargo run -p kyc-benches --bin instructions-check              # check: CI's gate
//! cargo run -p kyc-benches --bin instructions-check -- --update  # re-baseline, then commit
//! ```
//!
//! It prints one row per benchmark (baseline, now, change) and fails when a count is more than
//! 10% above its baseline, when a benchmark has no baseline, or when a baseline names a
//! benchmark that did not run. Decreases are reported; a large one is worth re-baselining so
//! that the gain is held. `--update` rewrites the baseline from this run instead of failing.
//!
//! Counts come from gungraun's JSON output (`--output-format=json`, one summary per benchmark
//! on stdout), so only the benchmarks of this run are compared: summaries that an older run
//! left under `target/gungraun` play no part.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool reports to its terminal

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use serde_json::Value;

/// A count may rise by this many per cent over its baseline before the check fails.
const LIMIT_PERCENT: u64 = 10;

const USAGE: &str = "usage: instructions-check [--update]

Runs `cargo bench -p kyc-benches --features instructions --bench instructions` and compares each instruction count
with benches/instructions.baseline; fails when one rose more than 10%.
  --update  rewrite the baseline with this run's counts (a deliberate, reviewed commit)";

fn main() -> ExitCode {
    let mut update = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--update" => update = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("instructions-check: unknown argument `{other}`\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    match run(update) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("instructions-check: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the bench, prints the table and, with `update`, rewrites the baseline. `Ok(false)` when
/// the check failed.
fn run(update: bool) -> Result<bool, String> {
    let baseline_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("instructions.baseline");
    let baseline = match std::fs::read_to_string(&baseline_path) {
        Ok(text) => {
            parse_baseline(&text).map_err(|err| format!("{}: {err}", baseline_path.display()))?
        }
        // A first `--update` creates the file.
        Err(err) if update && err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(err) => return Err(format!("cannot read {}: {err}", baseline_path.display())),
    };
    let now = counts_from_summaries(&run_bench()?)?;
    let report = compare(&baseline, &now);
    print!("{}", report.table());
    if update {
        std::fs::write(&baseline_path, render_baseline(&now))
            .map_err(|err| format!("cannot write {}: {err}", baseline_path.display()))?;
        println!(
            "\nwrote {} counts to {}: review the change and commit it on its own",
            now.len(),
            baseline_path.display()
        );
        return Ok(true);
    }
    if report.passed() {
        println!("\ninstruction counts within {LIMIT_PERCENT}% of the baseline");
    } else {
        println!(
            "\ninstruction counts do not match the baseline (see the rows above). If the change \
             is intended, re-baseline in a commit of its own:\n  \
             cargo run -p kyc-benches --bin instructions-check -- --update"
        );
    }
    Ok(report.passed())
}

/// Runs the bench in this workspace and returns what it printed on stdout: gungraun's JSON
/// summaries. Its other output (cargo's, gungraun's) goes to stderr and is passed through.
fn run_bench() -> Result<Vec<u8>, String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .ok_or("the bench crate has no parent directory")?;
    // `cargo run` names the cargo that started this tool; a direct call falls back to PATH.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    // `cargo run` describes this package to it in the environment; build scripts that watch
    // those variables (ring's watches CARGO_MANIFEST_DIR) would otherwise rebuild for the bench
    // and again for the next plain `cargo bench`.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_run) {
            command.env_remove(name);
        }
    }
    let output = command
        .current_dir(workspace)
        .args([
            "bench",
            "-p",
            "kyc-benches",
            "--features",
            "instructions",
            "--bench",
            "instructions",
            "--",
        ])
        .arg("--output-format=json")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| format!("cannot start cargo: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "the instructions bench failed ({}); its messages are above",
            output.status
        ));
    }
    Ok(output.stdout)
}

/// Whether `cargo run` sets the variable `name` to describe the package it runs.
fn set_by_cargo_run(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
        )
}

/// A benchmark's name and its instruction count (callgrind's `Ir`).
type Counts = Vec<(String, u64)>;

/// Reads the baseline: `name count` a line, `#` comments and blank lines ignored.
fn parse_baseline(text: &str) -> Result<Counts, String> {
    let mut counts = Counts::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(count), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!(
                "line {number}: expected `name count`, found `{line}`"
            ));
        };
        let count = count
            .parse()
            .map_err(|_| format!("line {number}: `{count}` is not an instruction count"))?;
        if counts.iter().any(|(known, _)| known == name) {
            return Err(format!("line {number}: `{name}` is listed twice"));
        }
        counts.push((name.to_owned(), count));
    }
    Ok(counts)
}

/// Writes the baseline in the form [`parse_baseline`] reads.
fn render_baseline(counts: &[(String, u64)]) -> String {
    let mut text = String::from(
        "# Instruction counts (callgrind's Ir) of benches/benches/instructions.rs: `name count` a line.\n\
         # CI fails when a count rises more than 10% above its line here. Written by\n\
         #   cargo run -p kyc-benches --bin instructions-check -- --update\n\
         # and changed only in a reviewed commit of its own (see benches/README.md).\n",
    );
    for (name, count) in counts {
        writeln!(text, "{name} {count}").expect("writing to a String cannot fail");
    }
    text
}

/// Extracts each benchmark's name (`group::function::id`) and instruction count from gungraun's
/// JSON summaries, in the order they ran.
fn counts_from_summaries(json: &[u8]) -> Result<Counts, String> {
    let mut counts = Counts::new();
    for summary in serde_json::Deserializer::from_slice(json).into_iter::<Value>() {
        let summary =
            summary.map_err(|err| format!("the bench printed something other than JSON: {err}"))?;
        let name = summary_name(&summary)?;
        let count = callgrind_ir(&summary)
            .ok_or_else(|| format!("the summary of `{name}` has no callgrind `Ir` total"))?;
        if counts.iter().any(|(known, _)| *known == name) {
            return Err(format!("`{name}` ran twice"));
        }
        counts.push((name, count));
    }
    if counts.is_empty() {
        return Err("the bench printed no summaries (is gungraun's runner current?)".into());
    }
    Ok(counts)
}

fn summary_name(summary: &Value) -> Result<String, String> {
    let field = |key: &str| summary.get(key).and_then(Value::as_str);
    let (Some(group), Some(function)) = (field("group"), field("function_name")) else {
        return Err(format!(
            "a summary has no `group` or `function_name`: {}",
            truncated(summary)
        ));
    };
    Ok(match field("id") {
        Some(id) => format!("{group}::{function}::{id}"),
        None => format!("{group}::{function}"),
    })
}

/// `profiles[tool = Callgrind].data.total.metrics.Ir.values.new`, in gungraun's summary schema
/// (version 7).
fn callgrind_ir(summary: &Value) -> Option<u64> {
    summary
        .get("profiles")?
        .as_array()?
        .iter()
        .find(|profile| profile.get("tool").and_then(Value::as_str) == Some("Callgrind"))?
        .pointer("/data/total/metrics/Ir/values/new")?
        .as_u64()
}

fn truncated(value: &Value) -> String {
    let mut text = value.to_string();
    if text.len() > 200 {
        let end = (0..=200)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.truncate(end);
        text.push('…');
    }
    text
}

/// One benchmark's row of the table.
#[derive(Debug, PartialEq)]
struct Row {
    name: String,
    baseline: Option<u64>,
    now: Option<u64>,
}

impl Row {
    /// The change from the baseline in per cent, when both counts are known.
    fn change_percent(&self) -> Option<f64> {
        match (self.baseline, self.now) {
            #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
            (Some(baseline), Some(now)) if baseline > 0 => {
                Some((now as f64 - baseline as f64) * 100.0 / baseline as f64)
            }
            _ => None,
        }
    }

    /// Why this row fails the check, if it does.
    fn failure(&self) -> Option<String> {
        match (self.baseline, self.now) {
            (None, _) => Some("not in the baseline: add it with --update".into()),
            (_, None) => Some("in the baseline but did not run".into()),
            // More than LIMIT_PERCENT above, in integers: now > baseline × (100 + limit) / 100.
            (Some(baseline), Some(now))
                if u128::from(now) * 100
                    > u128::from(baseline) * u128::from(100 + LIMIT_PERCENT) =>
            {
                Some(format!("REGRESSED: more than +{LIMIT_PERCENT}%"))
            }
            _ => None,
        }
    }

    fn note(&self) -> String {
        if let Some(failure) = self.failure() {
            return failure;
        }
        match (self.baseline, self.now) {
            (Some(baseline), Some(now)) if now < baseline => {
                if u128::from(now) * 100 < u128::from(baseline) * u128::from(100 - LIMIT_PERCENT) {
                    format!("decreased by more than {LIMIT_PERCENT}%: re-baseline to hold it")
                } else {
                    "decreased".into()
                }
            }
            (Some(baseline), Some(now)) if now > baseline => "increased, within the limit".into(),
            _ => "unchanged".into(),
        }
    }
}

/// The comparison of a run with the baseline.
#[derive(Debug)]
struct Report {
    rows: Vec<Row>,
}

/// Pairs each count of the run with its baseline (in run order), then lists the baseline's
/// benchmarks that did not run.
fn compare(baseline: &[(String, u64)], now: &[(String, u64)]) -> Report {
    let lookup = |counts: &[(String, u64)], name: &str| {
        counts
            .iter()
            .find(|(known, _)| known == name)
            .map(|&(_, count)| count)
    };
    let mut rows: Vec<Row> = now
        .iter()
        .map(|(name, count)| Row {
            name: name.clone(),
            baseline: lookup(baseline, name),
            now: Some(*count),
        })
        .collect();
    rows.extend(
        baseline
            .iter()
            .filter(|(name, _)| lookup(now, name).is_none())
            .map(|(name, count)| Row {
                name: name.clone(),
                baseline: Some(*count),
                now: None,
            }),
    );
    Report { rows }
}

impl Report {
    fn passed(&self) -> bool {
        self.rows.iter().all(|row| row.failure().is_none())
    }

    fn table(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|row| row.name.len())
            .chain([9])
            .max()
            .unwrap_or(9);
        let count = |value: Option<u64>| value.map_or_else(|| "-".to_owned(), |n| n.to_string());
        let mut text = String::new();
        writeln!(
            text,
            "{:<width$}  {:>10}  {:>10}  {:>8}  note",
            "benchmark", "baseline", "now", "change"
        )
        .expect("writing to a String cannot fail");
        for row in &self.rows {
            let change = row
                .change_percent()
                .map_or_else(|| "-".to_owned(), |percent| format!("{percent:+.2}%"));
            writeln!(
                text,
                "{:<width$}  {:>10}  {:>10}  {:>8}  {}",
                row.name,
                count(row.baseline),
                count(row.now),
                change,
                row.note()
            )
            .expect("writing to a String cannot fail");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> Counts {
        pairs
            .iter()
            .map(|&(name, count)| (name.to_owned(), count))
            .collect()
    }

    #[test]
    fn the_baseline_round_trips_through_its_text() {
        let written = counts(&[("sign::sign_fields::kyc2_example", 3126), ("proto::x", 7)]);
        assert_eq!(parse_baseline(&render_baseline(&written)), Ok(written));
    }

    #[test]
    fn malformed_baseline_lines_are_refused_with_their_number() {
        assert_eq!(
            parse_baseline("# c\na 1\nb\n"),
            Err("line 3: expected `name count`, found `b`".into())
        );
        assert_eq!(
            parse_baseline("a 1 2"),
            Err("line 1: expected `name count`, found `a 1 2`".into())
        );
        assert_eq!(
            parse_baseline("a -1"),
            Err("line 1: `-1` is not an instruction count".into())
        );
        assert_eq!(
            parse_baseline("a 1\n\na 2"),
            Err("line 3: `a` is listed twice".into())
        );
    }

    /// A summary as gungraun 0.20 prints it with `--output-format=json`, cut to what is read.
    const SUMMARY: &str = r#"{"group":"sign","function_name":"sign_fields","id":"kyc2_example","module_path":"instructions::sign::sign_fields","version":"7","profiles":[{"tool":"Callgrind","data":{"parts":[],"total":{"metrics":{"EstimatedCycles":{"values":{"new":7514}},"Ir":{"values":{"new":3126}}},"regressions":[]}}}]}"#;

    #[test]
    fn counts_are_read_from_each_summary_in_the_stream() {
        let second = SUMMARY
            .replace(r#""id":"kyc2_example""#, r#""id":"other""#)
            .replace("3126", "42");
        let stream = format!("{SUMMARY}\n{second}\n");
        assert_eq!(
            counts_from_summaries(stream.as_bytes()),
            Ok(counts(&[
                ("sign::sign_fields::kyc2_example", 3126),
                ("sign::sign_fields::other", 42)
            ]))
        );
    }

    #[test]
    fn unreadable_summaries_are_errors() {
        assert!(
            counts_from_summaries(b"")
                .unwrap_err()
                .contains("no summaries")
        );
        assert!(
            counts_from_summaries(b"not json")
                .unwrap_err()
                .contains("other than JSON")
        );
        let no_ir = SUMMARY.replace(r#""Ir""#, r#""Dr""#);
        assert_eq!(
            counts_from_summaries(no_ir.as_bytes()),
            Err(
                "the summary of `sign::sign_fields::kyc2_example` has no callgrind `Ir` total"
                    .into()
            )
        );
        let twice = format!("{SUMMARY}{SUMMARY}");
        assert_eq!(
            counts_from_summaries(twice.as_bytes()),
            Err("`sign::sign_fields::kyc2_example` ran twice".into())
        );
    }

    #[test]
    fn up_to_ten_percent_more_passes_and_beyond_fails() {
        let baseline = counts(&[("a", 1000)]);
        assert!(compare(&baseline, &counts(&[("a", 1100)])).passed());
        let report = compare(&baseline, &counts(&[("a", 1101)]));
        assert!(!report.passed());
        assert!(report.table().contains("+10.10%"), "{}", report.table());
        assert!(report.table().contains("REGRESSED"), "{}", report.table());
    }

    #[test]
    fn decreases_pass_and_are_reported() {
        let baseline = counts(&[("a", 1000), ("b", 1000)]);
        let report = compare(&baseline, &counts(&[("a", 950), ("b", 800)]));
        assert!(report.passed());
        let table = report.table();
        assert!(table.contains("-5.00%  decreased\n"), "{table}");
        assert!(
            table.contains("-20.00%  decreased by more than 10%"),
            "{table}"
        );
    }

    #[test]
    fn a_benchmark_missing_on_either_side_fails() {
        let report = compare(&counts(&[("gone", 5)]), &counts(&[("new", 5)]));
        assert!(!report.passed());
        assert_eq!(
            report.rows,
            [
                Row {
                    name: "new".into(),
                    baseline: None,
                    now: Some(5)
                },
                Row {
                    name: "gone".into(),
                    baseline: Some(5),
                    now: None
                },
            ]
        );
        let table = report.table();
        assert!(table.contains("not in the baseline"), "{table}");
        assert!(table.contains("did not run"), "{table}");
    }
}
