//! Exact bytes for fixed boundaries, escaping, and the typed refusals.

use bytes::Bytes;
use kyc_transport::Error;
use kyc_transport::multipart::{Boundary, FileSource, Form};

fn boundary(text: &str) -> Boundary {
    Boundary::new(text).expect("a valid test boundary")
}

/// The KYC 2.0 request as the provider's curl example lists it.
fn kyc2_form() -> Form {
    Form::new()
        .text("userId", "abc_100008")
        .text(
            "callBackUrl",
            "https://merchant.example.com/api/kyc/callback",
        )
        .text("usernameFurigana", "テスト014")
        .text("timestamp", "1774925553256")
        .text("sign", "aa3d61235fb4b1f13e44c95b98d3fff1")
}

#[test]
fn kyc2_request_golden_bytes() {
    let body = kyc2_form()
        .encode(&boundary("----kycTestBoundary0123456789"))
        .expect("encodes");
    let expected = concat!(
        "------kycTestBoundary0123456789\r\n",
        "Content-Disposition: form-data; name=\"userId\"\r\n",
        "\r\n",
        "abc_100008\r\n",
        "------kycTestBoundary0123456789\r\n",
        "Content-Disposition: form-data; name=\"callBackUrl\"\r\n",
        "\r\n",
        "https://merchant.example.com/api/kyc/callback\r\n",
        "------kycTestBoundary0123456789\r\n",
        "Content-Disposition: form-data; name=\"usernameFurigana\"\r\n",
        "\r\n",
        "テスト014\r\n",
        "------kycTestBoundary0123456789\r\n",
        "Content-Disposition: form-data; name=\"timestamp\"\r\n",
        "\r\n",
        "1774925553256\r\n",
        "------kycTestBoundary0123456789\r\n",
        "Content-Disposition: form-data; name=\"sign\"\r\n",
        "\r\n",
        "aa3d61235fb4b1f13e44c95b98d3fff1\r\n",
        "------kycTestBoundary0123456789--\r\n",
    );
    assert_eq!(body, expected);
    // テスト014 travels as raw UTF-8, never percent-encoded or as a code-page.
    assert!(body.windows(12).any(|w| w == "テスト014".as_bytes()));
}

#[test]
fn file_part_golden_bytes() {
    let form = Form::new().text("userId", "u1").file(
        "front",
        "front side.png",
        "image/png",
        FileSource::Bytes(Bytes::from_static(b"\x89PNG\r\n\x1a\n\0")),
    );
    let body = form.encode(&boundary("B")).expect("encodes");
    let mut expected = Vec::new();
    expected
        .extend_from_slice(b"--B\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\nu1\r\n");
    expected.extend_from_slice(
        b"--B\r\nContent-Disposition: form-data; name=\"front\"; filename=\"front side.png\"\r\n",
    );
    expected.extend_from_slice(b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\0\r\n--B--\r\n");
    assert_eq!(body, expected);
}

#[test]
fn empty_form_is_only_the_close_delimiter() {
    assert_eq!(
        Form::new().encode(&boundary("B")).expect("encodes"),
        "--B--\r\n"
    );
}

#[test]
fn names_and_filenames_are_escaped_like_browsers() {
    let form = Form::new().text("quote\"cr\rlf\nname", "v").file(
        "日本語 name",
        "a\"b\r\n.txt",
        "text/plain; charset=utf-8",
        FileSource::from_static(b"x"),
    );
    let body = form.encode(&boundary("B")).expect("encodes");
    let expected = concat!(
        "--B\r\nContent-Disposition: form-data; name=\"quote%22cr%0Dlf%0Aname\"\r\n\r\nv\r\n",
        "--B\r\nContent-Disposition: form-data; name=\"日本語 name\"; filename=\"a%22b%0D%0A.txt\"\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n\r\nx\r\n--B--\r\n",
    );
    assert_eq!(body, expected);
    let text = std::str::from_utf8(&body).expect("UTF-8");
    assert!(
        !text.contains("name*="),
        "RFC 5987 parameters are never used"
    );
}

#[test]
fn values_are_raw_including_crlf_and_dashes() {
    let body = Form::new()
        .text("v", "line1\r\n--not-the-boundary\r\n\"quoted\"")
        .encode(&boundary("B"))
        .expect("encodes");
    assert_eq!(
        body,
        "--B\r\nContent-Disposition: form-data; name=\"v\"\r\n\r\nline1\r\n--not-the-boundary\r\n\"quoted\"\r\n--B--\r\n"
    );
}

#[test]
fn content_type_with_cr_lf_or_nul_is_refused() {
    for bad in [
        "image/png\r\nX-Injected: 1",
        "image/png\n",
        "image\0/png",
        "",
    ] {
        let form = Form::new().file("f", "f", bad, FileSource::from_static(b""));
        let err = form.encode(&boundary("B")).expect_err("refused");
        assert!(matches!(err, Error::Invalid(_)), "{bad:?}: {err:?}");
        assert!(!err.request_may_have_been_sent());
    }
}

#[test]
fn control_characters_in_names_are_refused() {
    let err = Form::new()
        .text("a\0b", "v")
        .encode(&boundary("B"))
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "the name of part 0 contains a control character other than CR or LF"
    );
    let err = Form::new()
        .file("f", "x\x1b.txt", "text/plain", FileSource::from_static(b""))
        .encode(&boundary("B"))
        .expect_err("refused");
    assert!(matches!(err, Error::Invalid(_)));
}

#[test]
fn a_fixed_boundary_inside_a_part_is_a_typed_collision() {
    for form in [
        Form::new().text("v", "before --B after"),
        Form::new().text("name --B", "v"),
        Form::new().file(
            "f",
            "f",
            "text/plain",
            FileSource::from_static(b"\r\n--B--\r\n"),
        ),
    ] {
        let Err(Error::Invalid(why)) = form.encode(&boundary("B")) else {
            panic!("collision not detected in {form:?}");
        };
        assert!(why.is_boundary_collision());
    }
    // A boundary-like text that is not the delimiter is fine.
    assert!(
        Form::new()
            .text("v", "-B --b B--")
            .encode(&boundary("B"))
            .is_ok()
    );
}

#[test]
fn boundaries_follow_rfc_2046() {
    assert!(Boundary::new("'()+_,-./:=? az09AZ").is_ok());
    assert!(Boundary::new(&"a".repeat(70)).is_ok());
    for bad in ["", "ends ", "semi;colon", "quote\"", "é", &"a".repeat(71)] {
        assert!(Boundary::new(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        Form::content_type(&boundary("a b")),
        "multipart/form-data; boundary=\"a b\""
    );
}

#[test]
fn debug_output_redacts_values() {
    let form = Form::new().text("usernameFurigana", "テスト014").file(
        "front",
        "id.png",
        "image/png",
        FileSource::from_static(b"secret-bytes"),
    );
    let debug = format!("{form:?}");
    assert!(debug.contains("usernameFurigana"));
    assert!(!debug.contains("テスト014"));
    assert!(!debug.contains("secret-bytes"));
}

#[tokio::test]
async fn prepare_matches_encode_for_in_memory_forms() {
    use http_body_util::BodyExt;

    let form = kyc2_form().file(
        "big",
        "big.bin",
        "application/octet-stream",
        FileSource::from(vec![b'x'; 100_000]),
    );
    let b = boundary("B");
    let encoded = form.prepare(&b).await.expect("prepares");
    let bytes = form.encode(&b).expect("encodes");
    assert_eq!(encoded.content_length(), bytes.len() as u64);
    assert_eq!(encoded.to_bytes().expect("in memory"), bytes);
    let streamed = encoded
        .body()
        .collect()
        .await
        .expect("in memory")
        .to_bytes();
    assert_eq!(streamed, bytes);
}
