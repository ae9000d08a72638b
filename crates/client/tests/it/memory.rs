//! Applying with a 64 MiB file part keeps the process's peak RSS under 2 MiB above its
//! baseline: the file is streamed from disk in chunks, never held in memory.
//!
//! Peak RSS is per process, so the measurement runs in a child process of this test binary
//! that runs this one test alone (Linux: `/proc/self/status` and `clear_refs`).

use std::io::Write;
use std::process::Command;

const CHILD: &str = "KYC_MEMORY_TEST_CHILD";
const FILE_BYTES: usize = 64 * 1024 * 1024;
const BOUND_KIB: u64 = 2 * 1024;

#[test]
#[cfg(target_os = "linux")]
fn a_64_mib_file_part_is_streamed_not_buffered() {
    if std::env::var_os(CHILD).is_some() {
        return measure();
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "memory::a_64_mib_file_part_is_streamed_not_buffered",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("peak RSS grew by"),
        "the child measured nothing: {stdout}"
    );
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

// The child reports its measurement on stdout for the parent to read.
#[allow(clippy::print_stdout)]
fn measure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.bin");
    {
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        for _ in 0..FILE_BYTES / chunk.len() {
            file.write_all(&chunk).unwrap();
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let base_url = discarding_provider().await;
        let client = crate::support::client_for(&base_url, 1);
        let apply_with = |source: kyc_client::types::FileSource| {
            let part = kyc_client::types::FilePart::new(
                "idDocument",
                "document.bin",
                "application/octet-stream",
                source,
            )
            .unwrap();
            crate::support::application().with_file(part)
        };
        // Warm up: connection pool, buffers, lazy statics.
        let small = apply_with(kyc_client::types::FileSource::Bytes(
            vec![7u8; 64 * 1024].into(),
        ));
        client.apply(&small).await.unwrap();

        std::fs::write("/proc/self/clear_refs", "5").unwrap(); // reset the peak to the current RSS
        let baseline = status_kib("VmRSS:");
        let large = apply_with(kyc_client::types::FileSource::Path(path.clone()));
        let client = kyc_client::Client::builder()
            .environment(kyc_client::Environment::custom(&base_url).unwrap())
            .merchant_no("1027749636")
            .app_secret(crate::support::SECRET)
            .timeout(std::time::Duration::from_secs(120))
            .total_timeout(std::time::Duration::from_secs(120))
            .build()
            .unwrap();
        client.apply(&large).await.unwrap();
        let peak = status_kib("VmHWM:");
        let grew = peak.saturating_sub(baseline);
        println!(
            "peak RSS grew by {grew} KiB sending {} MiB (baseline {baseline} KiB)",
            FILE_BYTES >> 20
        );
        assert!(
            grew < BOUND_KIB,
            "peak RSS grew by {grew} KiB, bound {BOUND_KIB} KiB"
        );
    });
}

/// Reads each request's body and throws it away in 64 KiB pieces, then accepts.
async fn discarding_provider() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/japan", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                loop {
                    // The head arrives first and is small; find Content-Length.
                    let mut head = Vec::new();
                    let body_start = loop {
                        let Ok(n) = stream.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        head.extend_from_slice(&buf[..n]);
                        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                            break end + 4;
                        }
                    };
                    let text = String::from_utf8_lossy(&head[..body_start]).to_ascii_lowercase();
                    let length: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    let mut remaining = length.saturating_sub(head.len() - body_start);
                    while remaining > 0 {
                        let Ok(n) = stream.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        remaining = remaining.saturating_sub(n);
                    }
                    let body = crate::support::ACCEPTED;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    base_url
}
