//! File parts read from disk: exact length before sending, bounded chunks, reopened per send.

use http::HeaderMap;
use http_body::Body;
use http_body_util::BodyExt;
use kyc_transport::Error;
use kyc_transport::fuzzing::FILE_CHUNK;
use kyc_transport::multipart::{Boundary, FileSource, Form};

use crate::support::{self, SEEN_CHUNKED, SEEN_LENGTH, header};

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn a_64_mib_file_streams_in_bounded_chunks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.bin");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(64 * MIB).expect("sparse 64 MiB file");
    drop(file);

    let form = Form::new().text("userId", "u1").file(
        "doc",
        "big.bin",
        "application/octet-stream",
        FileSource::from(path.clone()),
    );
    let encoded = form
        .prepare(&Boundary::new("b").expect("valid"))
        .await
        .expect("prepares");
    let overhead = encoded.content_length() - 64 * MIB;
    assert!(
        overhead < 200,
        "only the part headers are added: {overhead}"
    );
    assert!(
        encoded.to_bytes().is_none(),
        "a file form is never materialised"
    );

    // Pull every frame: none is larger than FILE_CHUNK, and together they are the length.
    let mut body = encoded.body();
    assert_eq!(body.size_hint().exact(), Some(encoded.content_length()));
    let mut total = 0_u64;
    let mut largest = 0_usize;
    while let Some(frame) = body.frame().await {
        let data = frame
            .expect("readable")
            .into_data()
            .expect("data frames only");
        largest = largest.max(data.len());
        total += data.len() as u64;
    }
    assert_eq!(total, encoded.content_length());
    assert!(largest <= FILE_CHUNK, "largest frame {largest}");
    assert!(body.is_end_stream());
}

#[tokio::test]
async fn a_64_mib_file_is_sent_with_its_exact_length() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.bin");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(64 * MIB).expect("sparse 64 MiB file");
    drop(file);
    let form = Form::new().text("userId", "u1").file(
        "doc",
        "big.bin",
        "application/octet-stream",
        FileSource::from(path),
    );

    let addr = support::serve(support::count).await;
    let transport = support::builder().build().expect("builds");
    let uri = format!("http://{addr}/").parse().expect("uri");
    let response = transport
        .post_form(&uri, HeaderMap::new(), &form)
        .await
        .expect("sent");
    assert_eq!(header(&response, SEEN_CHUNKED), "-");
    let announced: u64 = header(&response, SEEN_LENGTH).parse().expect("a length");
    assert!(announced > 64 * MIB);
    assert_eq!(response.body(), &announced.to_string());
}

#[tokio::test]
async fn each_body_reopens_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("id.txt");
    std::fs::write(&path, b"first").expect("write");
    let form = Form::new().file(
        "doc",
        "id.txt",
        "text/plain",
        FileSource::from(path.clone()),
    );
    let encoded = form
        .prepare(&Boundary::new("b").expect("valid"))
        .await
        .expect("prepares");

    let once = encoded.body().collect().await.expect("reads").to_bytes();
    assert!(once.windows(5).any(|w| w == b"first"));
    // Same length, new bytes: a second body reads the file again, nothing was buffered.
    std::fs::write(&path, b"again").expect("rewrite");
    let twice = encoded.body().collect().await.expect("reads").to_bytes();
    assert!(twice.windows(5).any(|w| w == b"again"));
    assert_eq!(once.len(), twice.len());
}

#[tokio::test]
async fn a_file_that_changed_length_fails_the_body() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("id.txt");
    std::fs::write(&path, b"12345").expect("write");
    let form = Form::new().file(
        "doc",
        "id.txt",
        "text/plain",
        FileSource::from(path.clone()),
    );
    let encoded = form
        .prepare(&Boundary::new("b").expect("valid"))
        .await
        .expect("prepares");
    std::fs::write(&path, b"123").expect("shrink");
    assert!(encoded.body().collect().await.is_err());
}

#[tokio::test]
async fn a_missing_file_is_invalid_before_sending() {
    let dir = tempfile::tempdir().expect("temp dir");
    let form = Form::new().file(
        "doc",
        "gone.png",
        "image/png",
        FileSource::from(dir.path().join("gone.png")),
    );
    let err = form
        .prepare(&Boundary::new("b").expect("valid"))
        .await
        .expect_err("missing");
    assert!(matches!(err, Error::Invalid(_)));
    assert_eq!(err.to_string(), "the file of part 0 cannot be read");
    assert!(
        form.encode(&Boundary::new("b").expect("valid")).is_err(),
        "encode needs no I/O"
    );
}
