//! Abuse and security: slow-loris clients, oversized and deeply nested bodies, non-UTF-8
//! bytes, header and multipart injection, boundary collisions, forged and reshaped
//! signatures, and secrets or personal data leaking into logs and answers.
//!
//! Every test owns its sandbox on `127.0.0.1:0`. Waits are bounded by generous timeouts;
//! nothing asserts how long something took.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;
use kyc_sandbox::{FixedClock, Running};
use kyc_sign::{Canonical, Settings};
use kyc_test_support::assert_none_leaked;
use kyc_test_support::loris::{BOUND, http2_opening, stall, stall_http1};
use kyc_test_support::trace::Capture;

use crate::support::*;

const CALLBACK: &str = "http://127.0.0.1:9/kyc";
const STATUS_PATH: &str = "/japan/v1/vexora/kycStatusQuery";
const APPLY_PATH: &str = "/japan/v1/vexora/kycApplyFor";

/// A sandbox whose header and body read timeouts are short.
async fn impatient() -> Running {
    let clock = FixedClock::new(NOW);
    run(builder(&clock)
        .header_read_timeout(Duration::from_millis(300))
        .body_read_timeout(Duration::from_millis(300)))
    .await
}

fn head(path: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nmerchantNo: {MERCHANT}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    )
}

fn json_of(answer: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(answer);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

async fn still_serving(running: &Running, user: &str) {
    assert_eq!(apply(running, user, CALLBACK).await.code(), "0000");
}

#[tokio::test]
async fn slow_loris_heads_and_bodies_are_cut_while_others_are_served() {
    let running = impatient().await;
    let addr = running.local_addr();
    let partial_head =
        format!("POST {STATUS_PATH} HTTP/1.1\r\nHost: x\r\nmerchantNo: ").into_bytes();
    let body_head = head(STATUS_PATH, "application/json", 100);
    // Four heads (nothing, half a preface, half a head, a head that never ends, one header
    // byte every 50 ms), then a 100-byte body stalled and one trickled.
    let clients = stall_http1(addr, &partial_head, b'1', body_head.as_bytes());
    // While all six hold their connections, an honest client is served.
    still_serving(&running, "during-loris").await;
    let mut cuts = Vec::new();
    for client in clients {
        cuts.push(client.await.unwrap());
    }
    for (i, cut) in cuts.iter().enumerate() {
        assert!(cut.closed, "client {i} was never cut off");
        assert!(
            !String::from_utf8_lossy(&cut.answer).contains("\"0000\""),
            "client {i} was served"
        );
    }
    // Heads: closed without an answer, or with 408 from hyper.
    for cut in &cuts[..4] {
        assert!(cut.answer.is_empty() || raw_status(&cut.answer) == Some(408));
    }
    // A stalled body gets the documented envelope, then the connection closes.
    assert_eq!(raw_status(&cuts[4].answer), Some(408));
    assert_eq!(json_of(&cuts[4].answer)["code"], "S118");
    assert_eq!(json_of(&cuts[4].answer)["success"], false);
    // A trickled body too (unless the close raced ahead of the answer we were reading).
    if !cuts[5].answer.is_empty() {
        assert_eq!(raw_status(&cuts[5].answer), Some(408));
    }
    still_serving(&running, "after-loris").await;
    running.shutdown().await;
}

#[tokio::test]
async fn slow_loris_over_http2_is_cut_while_others_are_served() {
    let running = impatient().await;
    let addr = running.local_addr();
    // A HEADERS frame for stream 1 (END_HEADERS) announcing a 100-byte header block.
    let mut headers = http2_opening();
    headers.extend_from_slice(&[0, 0, 100, 0x1, 0x4, 0, 0, 0, 1]);
    let clients = vec![
        // A whole preface and SETTINGS, then silence.
        tokio::spawn(stall(addr, http2_opening(), None)),
        // The header block trickled one byte every 50 ms (0x82 is `:method: GET` in HPACK).
        tokio::spawn(stall(addr, headers, Some(0x82))),
    ];
    still_serving(&running, "during-h2-loris").await;
    for (i, client) in clients.into_iter().enumerate() {
        let cut = client.await.unwrap();
        assert!(cut.closed, "HTTP/2 client {i} was never cut off");
        assert!(
            !String::from_utf8_lossy(&cut.answer).contains("\"0000\""),
            "HTTP/2 client {i} was served"
        );
    }
    still_serving(&running, "after-h2-loris").await;
    running.shutdown().await;
}

#[tokio::test]
async fn a_keep_alive_connection_that_goes_quiet_is_closed() {
    let running = impatient().await;
    let body = status_json("nobody", SECRET);
    let mut opening = head(STATUS_PATH, "application/json", body.len()).into_bytes();
    opening.extend_from_slice(&body);
    // One complete request on a keep-alive connection, then silence.
    let cut = stall(running.local_addr(), opening, None).await;
    assert!(cut.closed, "an idle keep-alive connection was held open");
    assert_eq!(raw_status(&cut.answer), Some(404));
    running.shutdown().await;
}

async fn post_json(running: &Running, body: Vec<u8>) -> Answer {
    let request = request(
        running,
        &running.status_url(),
        Some(MERCHANT),
        Some("application/json"),
        body,
    );
    send(running.local_addr(), request).await.unwrap()
}

async fn post_form(running: &Running, content_type: &str, body: Vec<u8>) -> Answer {
    let request = request(
        running,
        &running.apply_url(),
        Some(MERCHANT),
        Some(content_type),
        body,
    );
    send(running.local_addr(), request).await.unwrap()
}

/// `n` nested arrays, optionally as the value of `userId`.
fn nested(n: usize, in_object: bool) -> Vec<u8> {
    let mut body = Vec::with_capacity(2 * n + 16);
    if in_object {
        body.extend_from_slice(b"{\"userId\":");
    }
    body.extend(std::iter::repeat_n(b'[', n));
    body.extend(std::iter::repeat_n(b']', n));
    if in_object {
        body.push(b'}');
    }
    body
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_a_crash() {
    let (running, _clock) = start().await;
    let mut objects = Vec::new();
    for _ in 0..100_000 {
        objects.extend_from_slice(b"{\"a\":");
    }
    objects.extend_from_slice(b"1");
    objects.extend(std::iter::repeat_n(b'}', 100_000));
    for body in [
        nested(100_000, false),
        nested(100_000, true),
        objects,
        // Unclosed: the parser must give up, not recurse to the end.
        vec![b'['; 500_000],
    ] {
        post_json(&running, body).await.assert_refused("S112", 400);
    }
    still_serving(&running, "after-nesting").await;
    running.shutdown().await;
}

#[tokio::test]
async fn ten_megabyte_bodies_are_refused_without_a_crash() {
    const TEN_MB: usize = 10 * 1024 * 1024;
    let (running, _clock) = start().await;
    // At the default 1 MiB limit, the announced length alone is refused, before any body.
    for (path, content_type) in [
        (STATUS_PATH, "application/json".to_owned()),
        (APPLY_PATH, multipart_type()),
    ] {
        let opening = head(path, &content_type, TEN_MB);
        let answer = raw(running.local_addr(), opening.as_bytes(), BOUND).await;
        assert_eq!(raw_status(&answer), Some(413), "{path}");
        assert_eq!(json_of(&answer)["code"], "S111");
    }
    // So is a chunked body, whatever it would have held.
    let chunked = format!(
        "POST {STATUS_PATH} HTTP/1.1\r\nHost: x\r\nmerchantNo: {MERCHANT}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        TEN_MB
    );
    let answer = raw(running.local_addr(), chunked.as_bytes(), BOUND).await;
    assert_eq!(raw_status(&answer), Some(411));

    // With the limit raised above 10 MB, the whole body is read and the parser refuses it.
    let clock = FixedClock::new(NOW);
    let roomy = run(builder(&clock).max_body_bytes(16 * 1024 * 1024)).await;
    let huge_value = format!(
        "{{\"userId\":\"{}\",\"timestamp\":\"{NOW}\",\"sign\":\"{}\"}}",
        "u".repeat(TEN_MB),
        "0".repeat(32)
    );
    post_json(&roomy, huge_value.into_bytes())
        .await
        .assert_refused("S114", 400);
    post_json(&roomy, nested(TEN_MB / 2, true))
        .await
        .assert_refused("S112", 400);
    let mut fields = apply_fields("big", CALLBACK, SECRET);
    fields.insert(0, ("note".into(), "n".repeat(TEN_MB)));
    post_form(&roomy, &multipart_type(), multipart(&fields))
        .await
        .assert_refused("S114", 400);
    still_serving(&roomy, "after-10mb").await;
    roomy.shutdown().await;
    running.shutdown().await;
}

/// One multipart part, raw: its header lines, then its value.
fn part(header: &[u8], value: &[u8]) -> Vec<u8> {
    let mut body = format!("--{BOUNDARY}\r\n").into_bytes();
    body.extend_from_slice(header);
    body.extend_from_slice(b"\r\n\r\n");
    body.extend_from_slice(value);
    body.extend_from_slice(b"\r\n");
    body
}

fn disposition(name: &str) -> Vec<u8> {
    format!("Content-Disposition: form-data; name=\"{name}\"").into_bytes()
}

fn close(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The parts of `fields`, unclosed.
fn parts(fields: &[(String, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(part(&disposition(name), value.as_bytes()));
    }
    body
}

#[tokio::test]
async fn non_utf8_bytes_are_refused_with_the_envelope() {
    let (running, _clock) = start().await;
    let fields = apply_fields("utf8", CALLBACK, SECRET);
    // A value, a name and a filename with bytes that are not UTF-8.
    for (header, value) in [
        (
            disposition("usernameFurigana"),
            &b"\xff\xfe\x83e\x83X\x83g"[..],
        ),
        (disposition("note"), b"\xc0\xaf overlong slash"),
        (
            b"Content-Disposition: form-data; name=\"no\xfft\xe9\"".to_vec(),
            b"v",
        ),
        (
            b"Content-Disposition: form-data; name=\"f\"; filename=\"\xff.pdf\"".to_vec(),
            b"%PDF",
        ),
    ] {
        let mut body = parts(&fields);
        body.extend(part(&header, value));
        let answer = post_form(&running, &multipart_type(), close(body)).await;
        assert!(answer.status.is_client_error(), "{:?}", answer.body);
        let code = answer.code();
        answer.assert_refused(&code, answer.status.as_u16());
        assert_ne!(code, "0000");
    }
    // JSON: raw bytes in a value and in a name, an escaped lone surrogate, Latin-1 text.
    for body in [
        format!("{{\"userId\":\"\u{1}\",\"timestamp\":\"{NOW}\",\"sign\":\"x\"}}")
            .replace('\u{1}', "\u{0}")
            .bytes()
            .map(|b| if b == 0 { 0xff } else { b })
            .collect::<Vec<u8>>(),
        b"{\"user\xffId\":\"u\",\"sign\":\"x\"}".to_vec(),
        b"{\"userId\":\"\\udc00\",\"sign\":\"x\"}".to_vec(),
        b"{\"userId\":\"caf\xe9\"}".to_vec(),
        b"\xef\xbb\xbf{\"userId\":\"bom\"}".to_vec(),
    ] {
        post_json(&running, body).await.assert_refused("S112", 400);
    }
    // A `merchantNo` or content type that is not text.
    let request = http::Request::post(running.status_url())
        .header("host", "x")
        .header(
            "merchantNo",
            HeaderValue::from_bytes(b"10277\xff9636").unwrap(),
        )
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(status_json("u", SECRET))))
        .unwrap();
    send(running.local_addr(), request)
        .await
        .unwrap()
        .assert_refused("S101", 401);
    let request = http::Request::post(running.status_url())
        .header("host", "x")
        .header("merchantNo", MERCHANT)
        .header(
            "content-type",
            HeaderValue::from_bytes(b"application/json\xff").unwrap(),
        )
        .body(Full::new(Bytes::from(status_json("u", SECRET))))
        .unwrap();
    send(running.local_addr(), request)
        .await
        .unwrap()
        .assert_refused("S109", 415);
    still_serving(&running, "after-utf8").await;
    running.shutdown().await;
}

#[tokio::test]
async fn header_values_with_cr_or_lf_cannot_be_built_or_smuggled() {
    // Through `http`, a header value with CR or LF cannot exist: every constructor refuses it,
    // so a `merchantNo` cannot smuggle a second header.
    for evil in [
        "1027749636\r\nX-Evil: 1",
        "1027749636\nX-Evil: 1",
        "1027749636\r",
    ] {
        assert!(HeaderValue::from_str(evil).is_err(), "{evil:?}");
        assert!(
            HeaderValue::from_bytes(evil.as_bytes()).is_err(),
            "{evil:?}"
        );
        assert!(
            http::Request::post("http://127.0.0.1/")
                .header("merchantNo", evil)
                .body(())
                .is_err()
        );
    }
    assert!(http::HeaderName::from_bytes(b"merchantNo\r\nX-Evil").is_err());
    assert!(http::HeaderName::from_bytes(b"merchant No").is_err());

    // Written raw on the socket, the same tricks are refused by the sandbox's HTTP layer or
    // by the merchant check, never served. The query itself is valid (the user applied), so
    // only the header can make it fail.
    let (running, _clock) = start().await;
    assert_eq!(apply(&running, "hdr-user", CALLBACK).await.code(), "0000");
    let body = status_json("hdr-user", SECRET);
    let mut honest = head(STATUS_PATH, "application/json", body.len())
        .replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
        .into_bytes();
    honest.extend_from_slice(&body);
    let answer = raw(running.local_addr(), &honest, BOUND).await;
    assert_eq!(
        json_of(&answer)["code"],
        "0000",
        "the control request is served"
    );
    for merchant_line in [
        // obs-fold: a continuation line.
        format!("merchantNo: {MERCHANT}\r\n X-Evil: 1\r\n"),
        // A bare CR or LF inside the value.
        format!("merchantNo: {MERCHANT}\rX-Evil: 1\r\n"),
        "merchantNo: 10277\n49636\r\n".to_owned(),
        // Two merchant numbers, either order; one with the right number followed by junk.
        // Regression: the first of two `merchantNo` headers was used.
        format!("merchantNo: {MERCHANT}\r\nmerchantNo: {OTHER_MERCHANT}\r\n"),
        format!("merchantNo: {MERCHANT}\r\nmerchantNo: {MERCHANT}\r\n"),
        format!("merchantNo: {OTHER_MERCHANT}\r\nmerchantNo: {MERCHANT}\r\n"),
        format!("merchantNo: {MERCHANT}, {OTHER_MERCHANT}\r\n"),
    ] {
        let mut bytes = format!(
            "POST {STATUS_PATH} HTTP/1.1\r\nHost: x\r\n{merchant_line}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        let answer = raw(running.local_addr(), &bytes, BOUND).await;
        let status = raw_status(&answer);
        assert!(
            status.is_none_or(|status| (400..500).contains(&status)),
            "{merchant_line:?}: HTTP {status:?}"
        );
        assert_ne!(json_of(&answer)["code"], "0000", "{merchant_line:?}");
    }
    still_serving(&running, "after-headers").await;
    running.shutdown().await;
}

#[tokio::test]
async fn part_headers_with_cr_lf_or_quotes_create_no_fields() {
    let (running, _clock) = start().await;
    // The form without `userId`; each injection tries to add `userId=inj-user`, signed as if
    // it had worked. If the sandbox ever took the bait, the request would be accepted.
    let signed = apply_fields("inj-user", CALLBACK, SECRET);
    let without_user: Vec<(String, String)> = signed
        .iter()
        .filter(|(name, _)| name != "userId")
        .cloned()
        .collect();
    let injections: [&[u8]; 8] = [
        // A name with raw CRLF and a second Content-Disposition header after it.
        b"Content-Disposition: form-data; name=\"note\"\r\nContent-Disposition: form-data; name=\"userId\"",
        // A filename with raw CRLF turning the rest into headers.
        b"Content-Disposition: form-data; name=\"userId\"; filename=\"a\r\nContent-Type: text/plain\"",
        // Quotes: a name that closes early, an escaped quote, a second name parameter.
        b"Content-Disposition: form-data; name=\"userId\"x\"",
        b"Content-Disposition: form-data; name=\"user\\\"Id\"",
        b"Content-Disposition: form-data; name=\"x\"; name=\"userId\"",
        b"Content-Disposition: form-data; name*=utf-8''userId",
        // A content type carrying a header on a continuation line.
        b"Content-Disposition: form-data; name=\"userId\"\r\nContent-Type: text/plain\r\n X-Evil: 1",
        // Another disposition type.
        b"Content-Disposition: attachment; name=\"userId\"",
    ];
    for injection in injections {
        let mut body = parts(&without_user);
        body.extend(part(injection, b"inj-user"));
        let answer = post_form(&running, &multipart_type(), close(body)).await;
        assert!(
            answer.status.is_client_error(),
            "{:?} was accepted: {:?}",
            String::from_utf8_lossy(injection),
            answer.body
        );
        answer.assert_refused(&answer.code(), answer.status.as_u16());
    }
    // A part content type with CRLF, quotes or a boundary parameter is not a header: data at
    // most, and a text part's content type is not signed, so the form still verifies.
    for content_type in [
        &b"Content-Type: text/plain; charset=\"utf-8\"; x=\"\\\"\""[..],
        b"Content-Type: multipart/mixed; boundary=inner",
    ] {
        let mut header = disposition("note");
        header.extend_from_slice(b"\r\n");
        header.extend_from_slice(content_type);
        let fields = signed_with(&[("note", "n")], "ct-user");
        let mut body = parts(&fields[..fields.len() - 1]);
        body.extend(part(&header, b"n"));
        body.extend(part(
            &disposition("sign"),
            fields[fields.len() - 1].1.as_bytes(),
        ));
        // `note` is sent twice (plain and with the odd content type): refused as a duplicate,
        // proving the content type did not turn the part into something else.
        let answer = post_form(&running, &multipart_type(), close(body)).await;
        answer.assert_refused("S115", 400);
    }
    still_serving(&running, "after-injection").await;
    running.shutdown().await;
}

/// The apply form for `user` plus `extra`, signed, `sign` last.
fn signed_with(extra: &[(&str, &str)], user: &str) -> Vec<(String, String)> {
    let now = NOW.to_string();
    let mut fields = vec![
        ("userId", user),
        ("callBackUrl", CALLBACK),
        ("usernameFurigana", FURIGANA),
        ("timestamp", now.as_str()),
    ];
    fields.extend_from_slice(extra);
    signed(&fields, SECRET)
}

#[tokio::test]
async fn boundary_collisions_are_data_or_refused() {
    let (running, _clock) = start().await;
    // The boundary inside a value, not at a line start: data. The value is signed as sent, so
    // the form verifies only if the sandbox read the value whole.
    for (i, note) in [
        format!("a --{BOUNDARY} b"),
        format!("--{BOUNDARY}"),
        format!("x\n--{BOUNDARY}\ny"),
        format!("x\r\n-{BOUNDARY}\r\ny"),
        format!("x\r\n--{}\r\ny", &BOUNDARY[..BOUNDARY.len() - 1]),
    ]
    .iter()
    .enumerate()
    {
        let fields = signed_with(&[("note", note)], &format!("collide-{i}"));
        let answer = post_form(&running, &multipart_type(), multipart(&fields)).await;
        assert_eq!(answer.code(), "0000", "{note:?}: {:?}", answer.body);
    }
    // A line that begins with the delimiter is one (RFC 2046 §5.1.1 forbids it in a part),
    // whatever follows: the form is cut there and refused, not read with another value.
    let fields = signed_with(
        &[("note", &format!("x\r\n--{BOUNDARY}x\r\ny"))],
        "collide-prefix-line",
    );
    post_form(&running, &multipart_type(), multipart(&fields))
        .await
        .assert_refused("S112", 400);
    // A delimiter line inside a value splits the part: the injected part is a second
    // `userId` (refused as a duplicate) or breaks the signature, never a new valid field.
    let smuggled = format!(
        "n\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\nsmuggled"
    );
    let fields = signed_with(&[("note", &smuggled)], "collide-split");
    post_form(&running, &multipart_type(), multipart(&fields))
        .await
        .assert_refused("S115", 400);
    // The closing delimiter inside a value ends the form early: `sign` is lost.
    let ending = format!("n\r\n--{BOUNDARY}--\r\n");
    let mut fields = signed_with(&[], "collide-end");
    let sign = fields.pop().unwrap();
    fields.insert(0, ("note".into(), ending));
    fields.push(sign);
    let answer = post_form(&running, &multipart_type(), multipart(&fields)).await;
    assert!(answer.status.is_client_error());
    assert_ne!(answer.code(), "0000");
    // A content type whose boundary is a prefix of the one used, or quoted oddly.
    let body = multipart(&signed_with(&[], "collide-prefix"));
    for content_type in [
        format!("multipart/form-data; boundary={}", &BOUNDARY[..10]),
        format!("multipart/form-data; boundary=\"{BOUNDARY}\r\nX: y\""),
        "multipart/form-data; boundary=".to_owned(),
        format!("multipart/form-data; boundary={BOUNDARY}; boundary=other"),
    ] {
        let Ok(value) = HeaderValue::from_str(&content_type) else {
            continue; // not even sendable
        };
        let request = http::Request::post(running.apply_url())
            .header("host", "x")
            .header("merchantNo", MERCHANT)
            .header("content-type", value)
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap();
        let answer = send(running.local_addr(), request).await.unwrap();
        // Refused, or (for a duplicate parameter) read with the first boundary.
        if answer.status.is_success() {
            assert_eq!(content_type.matches("boundary=").count(), 2);
        } else {
            answer.assert_refused(&answer.code(), answer.status.as_u16());
        }
    }
    running.shutdown().await;
}

/// The status query body for `fields` (names and values as given).
fn json_body(fields: &[(String, String)]) -> Vec<u8> {
    let object: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::to_vec(&object).unwrap()
}

fn with_sign(fields: &[(String, String)], sign: &str) -> Vec<(String, String)> {
    let mut fields: Vec<_> = fields
        .iter()
        .filter(|(name, _)| name != "sign")
        .cloned()
        .collect();
    fields.push(("sign".into(), sign.to_owned()));
    fields
}

#[tokio::test]
async fn forged_truncated_empty_and_uppercase_signatures() {
    let (running, _clock) = start().await;
    assert_eq!(apply(&running, "sig-user", CALLBACK).await.code(), "0000");
    let good = apply_fields("sig-user", CALLBACK, SECRET);
    let sign = good.last().unwrap().1.clone();
    let query = signed(
        &[("timestamp", &NOW.to_string()), ("userId", "sig-user")],
        SECRET,
    );
    let query_sign = query.last().unwrap().1.clone();
    let wrong_secret = apply_fields("sig-user", CALLBACK, OTHER_SECRET);
    let mut flipped = sign.clone().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let cases: Vec<(String, &str, u16)> = vec![
        (wrong_secret.last().unwrap().1.clone(), "S103", 401),
        ("0".repeat(32), "S103", 401),
        (flipped, "S103", 401),
        (sign[..31].to_owned(), "S103", 401),
        (sign[..16].to_owned(), "S103", 401),
        (format!("{sign}0"), "S103", 401),
        (format!(" {sign}"), "S103", 401),
        (format!("{}g", &sign[..31]), "S103", 401),
        (String::new(), "S102", 400),
    ];
    for (forged, code, status) in &cases {
        apply_raw(&running, MERCHANT, &with_sign(&good, forged))
            .await
            .assert_refused(code, *status);
        post_json(&running, json_body(&with_sign(&query, forged)))
            .await
            .assert_refused(code, *status);
    }
    // kyc-sign verifies either case: upper-case hex is accepted by both endpoints.
    let upper = apply_raw(
        &running,
        MERCHANT,
        &with_sign(&good, &sign.to_ascii_uppercase()),
    )
    .await;
    assert_eq!(upper.code(), "0000", "{:?}", upper.body);
    let upper = post_json(
        &running,
        json_body(&with_sign(&query, &query_sign.to_ascii_uppercase())),
    )
    .await;
    assert_eq!(upper.code(), "0000", "{:?}", upper.body);
    // A valid signature under another merchant's header is that merchant's problem: refused.
    apply_raw(&running, OTHER_MERCHANT, &good)
        .await
        .assert_refused("S103", 401);
    running.shutdown().await;
}

#[tokio::test]
async fn field_boundary_shifts_verify_but_fail_format_checks() {
    let (running, _clock) = start().await;
    let settings = Settings::default();
    let canonical = |fields: &[(String, String)]| {
        let unsigned: Vec<_> = fields
            .iter()
            .filter(|(n, _)| n != "sign")
            .cloned()
            .collect();
        Canonical::new(&unsigned, &settings).unwrap().to_string()
    };
    let now = NOW.to_string();
    // Status query: a legitimately signed query for the userId `xuserId=y` (printable ASCII,
    // so a valid identifier) reshaped as a query for `y`, its text moved into `timestamp`.
    let honest = signed(&[("timestamp", &now), ("userId", "xuserId=y")], SECRET);
    let sign = honest.last().unwrap().1.clone();
    let shifted = vec![
        ("timestamp".to_owned(), format!("{now}userId=x")),
        ("userId".to_owned(), "y".to_owned()),
        ("sign".to_owned(), sign),
    ];
    assert_eq!(canonical(&honest), canonical(&shifted), "same signed text");
    // The signature verifies (so not S103); the timestamp format check refuses.
    post_json(&running, json_body(&shifted))
        .await
        .assert_refused("S108", 400);

    // Apply: `userId=ab` + `usernameFurigana=…`, text moved across the boundary both ways.
    let name_text = "usernameFurigana=";
    let honest = signed_with(&[], "ab");
    let mut into_user = honest.clone();
    into_user[0].1 = format!("ab{name_text}テスト");
    into_user[2].1 = "014".to_owned();
    // `userId=abusernameFurigana=テスト` + `usernameFurigana=014`: not the honest text, so sign
    // the reshaped form's text with the secret, as if the honest form had been the other one.
    let mut donor = honest.clone();
    donor[0].1 = "ab".to_owned();
    donor[2].1 = format!("テスト{name_text}014");
    let donor_sign = kyc_sign::SigningKey::new(SECRET)
        .unwrap()
        .sign(
            &Canonical::new(
                &donor
                    .iter()
                    .filter(|(n, _)| n != "sign")
                    .cloned()
                    .collect::<Vec<_>>(),
                &settings,
            )
            .unwrap(),
        )
        .to_string();
    let into_user = with_sign(&into_user, &donor_sign);
    let donor = with_sign(&donor, &donor_sign);
    assert_eq!(canonical(&into_user), canonical(&donor), "same signed text");
    // Text moved into `userId`: the userId rule (printable ASCII) refuses it.
    apply_raw(&running, MERCHANT, &into_user)
        .await
        .assert_refused("S105", 400);
    // Text moved into `usernameFurigana`: the katakana rule refuses it.
    apply_raw(&running, MERCHANT, &donor)
        .await
        .assert_refused("S106", 400);
    // `callBackUrl` into `timestamp`: a URL with a `timestamp=` query.
    let honest = signed(
        &[
            ("userId", "cb-shift"),
            ("callBackUrl", &format!("{CALLBACK}?timestamp=1")),
            ("usernameFurigana", FURIGANA),
            ("timestamp", &now),
        ],
        SECRET,
    );
    let mut shifted = honest.clone();
    shifted[1].1 = format!("{CALLBACK}?");
    shifted[3].1 = format!("1timestamp={now}");
    assert_eq!(canonical(&honest), canonical(&shifted), "same signed text");
    apply_raw(&running, MERCHANT, &shifted)
        .await
        .assert_refused("S108", 400);
    // The honest forms themselves are fine.
    assert_eq!(apply_raw(&running, MERCHANT, &honest).await.code(), "0000");
    running.shutdown().await;
}

#[tokio::test]
async fn secrets_signatures_and_names_stay_out_of_logs_and_answers() {
    let capture = Capture::global();
    let from = capture.len();

    const NAME: &str = "ヤマダタロウ";
    let mut receiver = receiver(vec![(200, "OK")]).await;
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock)).await;
    let now = NOW.to_string();
    let form = |user: &str, furigana: &str| {
        signed(
            &[
                ("userId", user),
                ("callBackUrl", receiver.url.as_str()),
                ("usernameFurigana", furigana),
                ("timestamp", now.as_str()),
            ],
            SECRET,
        )
    };
    let mut answers = Vec::new();
    let accepted = form("reject-leak", NAME);
    let mut signatures = vec![accepted.last().unwrap().1.clone()];
    answers.push(apply_raw(&running, MERCHANT, &accepted).await);
    // Refused: a bad furigana (its value must not be echoed), a bad signature, a bad sign
    // under the wrong merchant, a duplicate.
    let bad_name = form("leak-2", &format!("{NAME}x"));
    signatures.push(bad_name.last().unwrap().1.clone());
    answers.push(apply_raw(&running, MERCHANT, &bad_name).await);
    let mut forged = form("leak-3", NAME);
    forged.last_mut().unwrap().1 = "f".repeat(32);
    answers.push(apply_raw(&running, MERCHANT, &forged).await);
    answers.push(apply_raw(&running, OTHER_MERCHANT, &form("leak-4", NAME)).await);
    let query = signed(&[("timestamp", &now), ("userId", "reject-leak")], SECRET);
    signatures.push(query.last().unwrap().1.clone());
    answers.push(post_json(&running, json_body(&query)).await);
    // Let the review finish and the signed callback be delivered.
    clock.advance(Duration::from_secs(5));
    running.tick();
    let callback = tokio::time::timeout(BOUND, receiver.bodies.recv())
        .await
        .unwrap()
        .unwrap();
    let callback: serde_json::Value = serde_json::from_slice(&callback).unwrap();
    signatures.push(callback["sign"].as_str().unwrap().to_owned());
    wait(&running, |log| log.is_delivered("reject-leak")).await;

    let log_url = running.log_url();
    let log = send(
        running.local_addr(),
        http::Request::get(log_url)
            .header("host", "x")
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(log.status, 200);
    let log_body = String::from_utf8(log.body.to_vec()).unwrap();
    assert!(
        log_body.contains("reject-leak"),
        "the log was captured: {log_body}"
    );
    let bad = kyc_sandbox::Sandbox::builder(FixedClock::new(0))
        .merchant(MERCHANT, SECRET)
        .time_scale(-1.0)
        .build()
        .unwrap_err();
    let everything = format!(
        "{}\n{log_body}\n{:?}\n{running:?}\n{:?}\n{bad}\n{bad:?}\n{}",
        capture.since(from),
        running.log(),
        builder(&clock).build().unwrap(),
        answers
            .iter()
            .map(|a| String::from_utf8_lossy(&a.body).into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    assert!(
        everything.contains("sandbox request"),
        "traces were captured"
    );
    assert_none_leaked(
        &everything,
        signatures
            .iter()
            .map(String::as_str)
            .chain([SECRET, OTHER_SECRET, NAME, "ヤマダ"]),
    );
    running.shutdown().await;
}
