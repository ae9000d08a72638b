//! Malformed, truncated and garbage input: always a 4xx (or a closed connection), never a
//! crash; the sandbox keeps serving afterwards.

use std::time::Duration;

use kyc_sandbox::FixedClock;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::*;

const CALLBACK: &str = "http://127.0.0.1:9/kyc";

/// A small deterministic generator: the same garbage on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| (self.next() & 0xff) as u8).collect()
    }
}

async fn still_serving(running: &kyc_sandbox::Running) {
    assert_eq!(
        apply(running, "after-garbage", CALLBACK).await.code(),
        "0000"
    );
}

#[tokio::test]
async fn every_truncation_of_a_valid_form_is_a_4xx() {
    let (running, _clock) = start().await;
    let body = multipart(&apply_fields("trunc", CALLBACK, SECRET));
    let mut accepted = 0;
    for cut in 0..body.len() {
        let request = request(
            &running,
            &running.apply_url(),
            Some(MERCHANT),
            Some(&multipart_type()),
            body[..cut].to_vec(),
        );
        let answer = send(running.local_addr(), request).await.unwrap();
        match answer.status.as_u16() {
            200 => accepted += 1,
            400..=499 => assert!(
                answer.code().starts_with('S'),
                "cut {cut}: {:?}",
                answer.body
            ),
            other => panic!("cut {cut}: HTTP {other}"),
        }
    }
    // Only cuts inside the final CRLF after the closing boundary can still parse.
    assert!(accepted <= 2, "{accepted} truncated forms were accepted");
    still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn random_bodies_are_refused_with_4xx() {
    let (running, _clock) = start().await;
    let mut rng = Lcg(0x5eed);
    let valid = multipart(&apply_fields("rand", CALLBACK, SECRET));
    for round in 0..150 {
        let body = match round % 3 {
            0 => {
                let len = (rng.next() % 2048) as usize;
                rng.bytes(len)
            }
            1 => {
                // A valid form with a few bytes flipped.
                let mut body = valid.clone();
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() as usize) % body.len();
                    body[at] = (rng.next() & 0xff) as u8;
                }
                body
            }
            _ => {
                let mut body = format!("--{BOUNDARY}\r\n").into_bytes();
                let len = (rng.next() % 512) as usize;
                body.extend(rng.bytes(len));
                body
            }
        };
        for (url, content_type) in [
            (running.apply_url(), multipart_type()),
            (running.status_url(), "application/json".to_owned()),
        ] {
            let request = request(
                &running,
                &url,
                Some(MERCHANT),
                Some(&content_type),
                body.clone(),
            );
            let answer = send(running.local_addr(), request).await.unwrap();
            let status = answer.status.as_u16();
            assert!(
                status == 200 || (400..500).contains(&status),
                "round {round}: HTTP {status}"
            );
        }
    }
    still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn non_http_garbage_gets_a_4xx_or_a_close() {
    let (running, _clock) = start().await;
    let mut rng = Lcg(42);
    for _ in 0..20 {
        let mut garbage = rng.bytes(300);
        garbage.extend_from_slice(b"\r\n\r\n");
        let answer = raw(running.local_addr(), &garbage, Duration::from_secs(10)).await;
        if let Some(status) = raw_status(&answer) {
            assert!((400..500).contains(&status), "HTTP {status}");
        }
    }
    // Headers far over the header buffer.
    let huge = format!(
        "POST /japan/v1/vexora/kycApplyFor HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let answer = raw(
        running.local_addr(),
        huge.as_bytes(),
        Duration::from_secs(10),
    )
    .await;
    if let Some(status) = raw_status(&answer) {
        assert!((400..500).contains(&status), "HTTP {status}");
    }
    still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn a_body_cut_short_by_the_client_does_not_hurt_the_server() {
    let (running, _clock) = start().await;
    let body = multipart(&apply_fields("cut", CALLBACK, SECRET));
    let head = format!(
        "POST /japan/v1/vexora/kycApplyFor HTTP/1.1\r\nHost: x\r\nmerchantNo: {MERCHANT}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        multipart_type(),
        body.len()
    );
    let mut stream = TcpStream::connect(running.local_addr()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..body.len() / 2]).await.unwrap();
    drop(stream);
    still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).header_read_timeout(Duration::from_millis(200))).await;
    // Half a request line, then nothing: the server must close (or refuse) by itself.
    let started = stopwatch();
    let answer = raw(
        running.local_addr(),
        b"POST /japan/v1/vex",
        Duration::from_secs(10),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "closed after {elapsed:?}");
    if let Some(status) = raw_status(&answer) {
        assert_eq!(status, 408);
    }
    // Nothing at all, and a partial HTTP/2 preface: closed too.
    for opening in [&b""[..], b"PRI * HTTP/2"] {
        let started = stopwatch();
        let answer = raw(running.local_addr(), opening, Duration::from_secs(10)).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{opening:?} held {:?}",
            started.elapsed()
        );
        assert!(answer.is_empty() || raw_status(&answer) == Some(408));
    }
    still_serving(&running).await;
    running.shutdown().await;
}
