//! A request built by `curl --form`, signed by hand: the sandbox accepts a client we did not
//! write. Skipped, with a notice, only when `curl` is not on the PATH.

use std::process::Command;

use crate::support::*;

#[tokio::test]
#[allow(clippy::print_stderr)] // the skip notice is for whoever reads the test output
async fn curl_form_request_signed_by_hand_is_accepted() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("NOTICE: curl is not on the PATH; the curl interoperability test is skipped");
        return;
    }
    let (running, _clock) = start().await;
    let callback = "https://merchant.example.com/api/kyc/callback";
    let fields = apply_fields("curl_100008", callback, SECRET);
    let url = running.apply_url();
    let mut args: Vec<String> = vec![
        "--silent".into(),
        "--show-error".into(),
        "--max-time".into(),
        "20".into(),
        "--request".into(),
        "POST".into(),
        "--url".into(),
        url,
        "--header".into(),
        "Accept: */*".into(),
        "--header".into(),
        format!("merchantNo: {MERCHANT}"),
        "--write-out".into(),
        "\n%{http_code}".into(),
    ];
    for (name, value) in &fields {
        // `--form-string` takes the value literally (`--form` would read `@`/`<` prefixes).
        args.push("--form-string".into());
        args.push(format!("{name}={value}"));
    }
    let output = tokio::task::spawn_blocking(move || Command::new("curl").args(&args).output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (body, http_code) = stdout.rsplit_once('\n').unwrap();
    assert_eq!(http_code, "200", "{body}");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["code"], "0000");
    assert_eq!(json["data"]["userId"], "curl_100008");

    // And `--form` with a status query in JSON, for good measure.
    let status_body = String::from_utf8(status_json("curl_100008", SECRET)).unwrap();
    let args = vec![
        "--silent".to_owned(),
        "--max-time".into(),
        "20".into(),
        "--header".into(),
        format!("merchantNo: {MERCHANT}"),
        "--header".into(),
        "Content-Type: application/json".into(),
        "--data-raw".into(),
        status_body,
        running.status_url(),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new("curl").args(&args).output())
        .await
        .unwrap()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["data"]["authenticationStatus"], "0");
    running.shutdown().await;
}
