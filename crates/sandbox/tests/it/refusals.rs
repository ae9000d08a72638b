//! One test per refusal code: the documented envelope, the sandbox code, the HTTP status.

use std::time::Duration;

use kyc_sandbox::{FixedClock, RefusalCode};

use crate::support::*;

const CALLBACK: &str = "http://127.0.0.1:9/kyc";

fn form(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    signed(fields, SECRET)
}

fn ts() -> String {
    NOW.to_string()
}

async fn post_apply(
    running: &kyc_sandbox::Running,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let request = request(
        running,
        &running.apply_url(),
        Some(MERCHANT),
        content_type,
        body,
    );
    send(running.local_addr(), request).await.unwrap()
}

async fn post_status(
    running: &kyc_sandbox::Running,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let request = request(
        running,
        &running.status_url(),
        Some(MERCHANT),
        content_type,
        body,
    );
    send(running.local_addr(), request).await.unwrap()
}

/// The JSON body of a raw HTTP/1.1 answer.
fn raw_json(answer: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(answer);
    let (_, body) = text.split_once("\r\n\r\n").expect("a complete answer");
    serde_json::from_str(body).unwrap()
}

#[test]
fn every_code_is_documented_once() {
    assert_eq!(RefusalCode::ALL.len(), 19);
    assert_eq!(RefusalCode::ALL[0].as_str(), "S100");
    assert_eq!(RefusalCode::ALL[18].as_str(), "S118");
}

#[tokio::test]
async fn s100_unknown_path() {
    let (running, _clock) = start().await;
    let base = running.base_url().to_owned();
    for url in [
        format!("{base}/v1/vexora/kycApplyFor2"),
        format!("{base}/v1/vexora"),
        running.apply_url().replace("/japan", "/korea"),
    ] {
        let request = request(&running, &url, Some(MERCHANT), None, Vec::new());
        send(running.local_addr(), request)
            .await
            .unwrap()
            .assert_refused("S100", 404);
    }
    running.shutdown().await;
}

#[tokio::test]
async fn s101_missing_or_unknown_merchant() {
    let (running, _clock) = start().await;
    let body = multipart(&apply_fields("u", CALLBACK, SECRET));
    for merchant in [None, Some("9999999999"), Some("")] {
        let request = request(
            &running,
            &running.apply_url(),
            merchant,
            Some(&multipart_type()),
            body.clone(),
        );
        send(running.local_addr(), request)
            .await
            .unwrap()
            .assert_refused("S101", 401);
    }
    running.shutdown().await;
}

#[tokio::test]
async fn s102_missing_or_empty_sign() {
    let (running, _clock) = start().await;
    let mut fields = apply_fields("u", CALLBACK, SECRET);
    fields.pop();
    apply_raw(&running, MERCHANT, &fields)
        .await
        .assert_refused("S102", 400);
    fields.push(("sign".into(), String::new()));
    apply_raw(&running, MERCHANT, &fields)
        .await
        .assert_refused("S102", 400);
    post_status(
        &running,
        Some("application/json"),
        br#"{"userId":"u","timestamp":"1"}"#.to_vec(),
    )
    .await
    .assert_refused("S102", 400);
    running.shutdown().await;
}

#[tokio::test]
async fn s103_wrong_or_malformed_sign() {
    let (running, _clock) = start().await;
    let mut fields = apply_fields("u", CALLBACK, SECRET);
    let good = fields.pop().unwrap().1;
    let mut flipped = good.clone().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    for bad in [
        String::from_utf8(flipped).unwrap(),
        "xyz".into(),
        format!("{good}0"),
    ] {
        let mut with_bad = fields.clone();
        with_bad.push(("sign".into(), bad));
        let answer = apply_raw(&running, MERCHANT, &with_bad).await;
        answer.assert_refused("S103", 401);
        assert!(!answer.json()["msg"].as_str().unwrap().contains(&good));
    }
    // Upper-case hex is the same signature.
    fields.push(("sign".into(), good.to_uppercase()));
    assert_eq!(apply_raw(&running, MERCHANT, &fields).await.code(), "0000");
    // A changed value breaks the signature.
    let mut changed = apply_fields("u2", CALLBACK, SECRET);
    changed[0].1 = "u3".into();
    apply_raw(&running, MERCHANT, &changed)
        .await
        .assert_refused("S103", 401);
    running.shutdown().await;
}

#[tokio::test]
async fn s104_missing_field() {
    let (running, _clock) = start().await;
    let now = ts();
    for (fields, missing) in [
        (
            form(&[
                ("userId", "u"),
                ("callBackUrl", CALLBACK),
                ("timestamp", &now),
            ]),
            "usernameFurigana",
        ),
        (
            form(&[
                ("userId", "u"),
                ("usernameFurigana", FURIGANA),
                ("timestamp", &now),
            ]),
            "callBackUrl",
        ),
        (
            form(&[
                ("callBackUrl", CALLBACK),
                ("usernameFurigana", FURIGANA),
                ("timestamp", &now),
            ]),
            "userId",
        ),
        (
            form(&[
                ("userId", "u"),
                ("callBackUrl", CALLBACK),
                ("usernameFurigana", FURIGANA),
            ]),
            "timestamp",
        ),
        (
            form(&[
                ("userId", ""),
                ("callBackUrl", CALLBACK),
                ("usernameFurigana", FURIGANA),
                ("timestamp", &now),
            ]),
            "userId",
        ),
    ] {
        let answer = apply_raw(&running, MERCHANT, &fields).await;
        answer.assert_refused("S104", 400);
        assert!(
            answer.json()["msg"].as_str().unwrap().contains(missing),
            "{missing}"
        );
    }
    let body =
        serde_json::to_vec(&serde_json::json!({"timestamp": now, "sign": "0".repeat(32)})).unwrap();
    post_status(&running, Some("application/json"), body)
        .await
        .assert_refused("S104", 400);
    running.shutdown().await;
}

#[tokio::test]
async fn s105_invalid_field() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).require_https_callbacks(true)).await;
    let now = ts();
    for (user, url) in [
        ("has space", "https://m.example/cb"),
        ("u", "ftp://m.example/cb"),
        ("u", "not a url"),
        ("u", "http://m.example/cb"),
    ] {
        let fields = form(&[
            ("userId", user),
            ("callBackUrl", url),
            ("usernameFurigana", FURIGANA),
            ("timestamp", &now),
        ]);
        apply_raw(&running, MERCHANT, &fields)
            .await
            .assert_refused("S105", 400);
    }
    // A JSON member that is not a string.
    let body = format!(
        r#"{{"userId":"u","timestamp":{NOW},"sign":"{}"}}"#,
        "0".repeat(32)
    );
    post_status(&running, Some("application/json"), body.into_bytes())
        .await
        .assert_refused("S105", 400);
    running.shutdown().await;
}

#[tokio::test]
async fn s106_bad_furigana_never_echoed() {
    let (running, _clock) = start().await;
    let now = ts();
    for furigana in ["テすト", "山田", "Yamada"] {
        let fields = form(&[
            ("userId", "u"),
            ("callBackUrl", CALLBACK),
            ("usernameFurigana", furigana),
            ("timestamp", &now),
        ]);
        let answer = apply_raw(&running, MERCHANT, &fields).await;
        answer.assert_refused("S106", 400);
        let msg = answer.json()["msg"].as_str().unwrap().to_owned();
        assert!(
            !msg.contains(furigana) && !msg.contains('す') && !msg.contains('山'),
            "{msg}"
        );
    }
    running.shutdown().await;
}

#[tokio::test]
async fn s107_stale_or_future_timestamp() {
    let (running, clock) = start().await;
    let old = (NOW - 300_001).to_string();
    let future = (NOW + 300_001).to_string();
    let edge = (NOW - 300_000).to_string();
    for (stamp, code) in [
        (old.as_str(), "S107"),
        (future.as_str(), "S107"),
        (edge.as_str(), "0000"),
    ] {
        let fields = form(&[
            ("userId", "u"),
            ("callBackUrl", CALLBACK),
            ("usernameFurigana", FURIGANA),
            ("timestamp", stamp),
        ]);
        let answer = apply_raw(&running, MERCHANT, &fields).await;
        assert_eq!(answer.code(), code, "{stamp}");
    }
    // Freshness is against the injected clock: a request stamped NOW goes stale as it moves.
    clock.advance(Duration::from_secs(301));
    status(&running, "u").await.assert_refused("S107", 400);
    running.shutdown().await;
}

#[tokio::test]
async fn s107_window_is_configurable() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).freshness_window(Duration::from_secs(1))).await;
    clock.advance(Duration::from_millis(1001));
    apply(&running, "u", CALLBACK)
        .await
        .assert_refused("S107", 400);
    running.shutdown().await;
}

#[tokio::test]
async fn s108_non_numeric_timestamp() {
    let (running, _clock) = start().await;
    for stamp in [
        "17749255x3256",
        "1.774925553256e12",
        "-1",
        " 1774925553256",
        "99999999999999999999999",
    ] {
        let fields = form(&[
            ("userId", "u"),
            ("callBackUrl", CALLBACK),
            ("usernameFurigana", FURIGANA),
            ("timestamp", stamp),
        ]);
        apply_raw(&running, MERCHANT, &fields)
            .await
            .assert_refused("S108", 400);
    }
    running.shutdown().await;
}

#[tokio::test]
async fn s109_wrong_content_type() {
    let (running, _clock) = start().await;
    let body = multipart(&apply_fields("u", CALLBACK, SECRET));
    for content_type in [
        None,
        Some("application/json"),
        Some("multipart/form-data"),
        Some("application/x-www-form-urlencoded"),
    ] {
        post_apply(&running, content_type, body.clone())
            .await
            .assert_refused("S109", 415);
    }
    let json = status_json("u", SECRET);
    for content_type in [
        None,
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
    ] {
        post_status(&running, content_type, json.clone())
            .await
            .assert_refused("S109", 415);
    }
    running.shutdown().await;
}

#[tokio::test]
async fn s110_chunked_body() {
    let (running, _clock) = start().await;
    let json = status_json("u", SECRET);
    let mut raw_request = format!(
        "POST /japan/v1/vexora/kycStatusQuery HTTP/1.1\r\nHost: x\r\nmerchantNo: {MERCHANT}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n",
        json.len()
    )
    .into_bytes();
    raw_request.extend_from_slice(&json);
    raw_request.extend_from_slice(b"\r\n0\r\n\r\n");
    let answer = raw(running.local_addr(), &raw_request, Duration::from_secs(10)).await;
    assert_eq!(raw_status(&answer), Some(411));
    assert_eq!(raw_json(&answer)["code"], "S110");
    running.shutdown().await;
}

#[tokio::test]
async fn s111_body_too_large() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).max_body_bytes(512)).await;
    let mut fields = apply_fields("u", CALLBACK, SECRET);
    fields.insert(0, ("padding".into(), "p".repeat(600)));
    apply_raw(&running, MERCHANT, &fields)
        .await
        .assert_refused("S111", 413);
    // An announced length over the limit is refused before the body is read.
    let head = format!(
        "POST /japan/v1/vexora/kycStatusQuery HTTP/1.1\r\nHost: x\r\nmerchantNo: {MERCHANT}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
    );
    let answer = raw(
        running.local_addr(),
        head.as_bytes(),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(raw_status(&answer), Some(413));
    running.shutdown().await;
}

#[tokio::test]
async fn s112_malformed_bodies() {
    let (running, _clock) = start().await;
    for body in [
        b"".to_vec(),
        b"garbage".to_vec(),
        b"\x00\xff\xfe".to_vec(),
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated")
            .into_bytes(),
    ] {
        post_apply(&running, Some(&multipart_type()), body)
            .await
            .assert_refused("S112", 400);
    }
    for body in [
        &b""[..],
        b"{",
        b"[]",
        b"null",
        b"\"x\"",
        b"{\"a\":\"\\ud800\"",
        b"\xff{}",
    ] {
        post_status(&running, Some("application/json"), body.to_vec())
            .await
            .assert_refused("S112", 400);
    }
    running.shutdown().await;
}

#[tokio::test]
async fn s113_too_many_fields() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).max_fields(5)).await;
    let mut fields = apply_fields("u", CALLBACK, SECRET);
    fields.insert(0, ("extra".into(), "1".into()));
    apply_raw(&running, MERCHANT, &fields)
        .await
        .assert_refused("S113", 400);
    running.shutdown().await;
}

#[tokio::test]
async fn s114_field_too_long() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).max_field_bytes(64)).await;
    let long_url = format!("https://m.example/{}", "a".repeat(64));
    apply_raw(&running, MERCHANT, &apply_fields("u", &long_url, SECRET))
        .await
        .assert_refused("S114", 400);
    running.shutdown().await;
}

#[tokio::test]
async fn s115_duplicate_field() {
    let (running, _clock) = start().await;
    let mut fields = apply_fields("u", CALLBACK, SECRET);
    fields.insert(0, ("userId".into(), "other".into()));
    apply_raw(&running, MERCHANT, &fields)
        .await
        .assert_refused("S115", 400);
    let body = format!(
        r#"{{"userId":"u","userId":"v","timestamp":"{NOW}","sign":"{}"}}"#,
        "0".repeat(32)
    );
    post_status(&running, Some("application/json"), body.into_bytes())
        .await
        .assert_refused("S115", 400);
    running.shutdown().await;
}

#[tokio::test]
async fn s116_unknown_user() {
    let (running, _clock) = start().await;
    status(&running, "never-applied")
        .await
        .assert_refused("S116", 404);
    running.shutdown().await;
}

#[tokio::test]
async fn s117_wrong_method() {
    let (running, _clock) = start().await;
    let request = http::Request::get(running.apply_url())
        .header("host", "x")
        .header("merchantNo", MERCHANT)
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    send(running.local_addr(), request)
        .await
        .unwrap()
        .assert_refused("S117", 405);
    running.shutdown().await;
}

#[tokio::test]
async fn s118_body_too_slow() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).body_read_timeout(Duration::from_millis(200))).await;
    let head = format!(
        "POST /japan/v1/vexora/kycStatusQuery HTTP/1.1\r\nHost: x\r\nmerchantNo: {MERCHANT}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"userId\":"
    );
    let answer = raw(
        running.local_addr(),
        head.as_bytes(),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(raw_status(&answer), Some(408));
    assert_eq!(raw_json(&answer)["code"], "S118");
    running.shutdown().await;
}

#[tokio::test]
async fn checks_run_in_the_documented_order() {
    let (running, _clock) = start().await;
    let stale = (NOW - 600_000).to_string();
    // Bad sign and stale timestamp: the signature is checked first.
    let mut fields = form(&[
        ("userId", "u"),
        ("callBackUrl", CALLBACK),
        ("usernameFurigana", "山田"),
        ("timestamp", &stale),
    ]);
    fields.last_mut().unwrap().1 = "0".repeat(32);
    apply_raw(&running, MERCHANT, &fields)
        .await
        .assert_refused("S103", 401);
    // Stale timestamp and bad furigana: the timestamp first.
    let fields = form(&[
        ("userId", "u"),
        ("callBackUrl", CALLBACK),
        ("usernameFurigana", "山田"),
        ("timestamp", &stale),
    ]);
    apply_raw(&running, MERCHANT, &fields)
        .await
        .assert_refused("S107", 400);
    // Unknown merchant and wrong content type: the merchant first.
    let request = request(
        &running,
        &running.apply_url(),
        Some("nobody"),
        Some("text/plain"),
        Vec::new(),
    );
    send(running.local_addr(), request)
        .await
        .unwrap()
        .assert_refused("S101", 401);
    running.shutdown().await;
}
