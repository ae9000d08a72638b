//! The exact wire form of every type, and back.

use kyc_proto::{
    Application, ApplyData, ApplyResponse, AuthenticationStatus, Callback, CallbackUrl, Code,
    FilePart, FileSource, Furigana, Sensitive, StatusData, StatusQuery, StatusResponse, Timestamp,
    UserId,
};
use kyc_sign::SigningKey;
use serde_json::json;

fn key() -> SigningKey {
    SigningKey::new("TEST_SECRET_DO_NOT_USE").expect("not empty")
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

#[test]
fn scalars() {
    let cases = [
        (
            serde_json::to_string(&UserId::new("abc_100008").unwrap()),
            r#""abc_100008""#,
        ),
        (
            serde_json::to_string(&CallbackUrl::new("https://m.example/cb?a=1").unwrap()),
            r#""https://m.example/cb?a=1""#,
        ),
        (
            serde_json::to_string(&Furigana::new("テスト014").unwrap()),
            r#""テスト014""#,
        ),
        (
            serde_json::to_string(&Timestamp::from_millis(1_774_925_553_256)),
            r#""1774925553256""#,
        ),
        (serde_json::to_string(&Code::FAILED), r#""00029""#),
        (
            serde_json::to_string(&AuthenticationStatus::UnderReview),
            r#""1""#,
        ),
        (
            serde_json::to_string(&AuthenticationStatus::Unknown("7".into())),
            r#""7""#,
        ),
        (serde_json::to_string(&Sensitive::new("x")), r#""x""#),
    ];
    for (encoded, expected) in cases {
        assert_eq!(encoded.unwrap(), expected);
    }
    let id: UserId = serde_json::from_str(r#""abc_100008""#).unwrap();
    assert_eq!(id.as_str(), "abc_100008");
    assert!(serde_json::from_str::<UserId>(r#""a b""#).is_err());
    assert!(serde_json::from_str::<CallbackUrl>(r#""http://m.example""#).is_err());
    assert!(
        serde_json::from_str::<Furigana>(r#""ﾃｽﾄ""#).is_err(),
        "never normalised silently"
    );
    let at: Timestamp = serde_json::from_str("1774925553256").unwrap();
    assert_eq!(at, serde_json::from_str(r#""1774925553256""#).unwrap());
    assert!(serde_json::from_str::<Timestamp>("-1").is_err());
    let code: Code = serde_json::from_str(r#""00029""#).unwrap();
    assert_eq!(code, Code::FAILED);
}

#[test]
fn status_query() {
    let query = StatusQuery::new(
        UserId::new("jp_user_100008").unwrap(),
        Timestamp::from_millis(1_732_988_442_913),
        &key(),
    );
    let golden = r#"{"sign":"0627c01fe85ccf7fc838ad3ccb0f3de9","timestamp":"1732988442913","userId":"jp_user_100008"}"#;
    assert_eq!(text(query.to_json()), golden);
    let back = StatusQuery::from_json(golden.as_bytes()).unwrap();
    assert_eq!(back, query);
    back.verify(&key()).unwrap();
}

#[test]
fn application_field_list() {
    // The 2.0 page's curl example, with its name decoded correctly (vector kyc2-apply-example).
    let application = Application::new(
        UserId::new("abc_100008").unwrap(),
        CallbackUrl::new("https://merchant.example.com/api/kyc/callback").unwrap(),
        Furigana::new("テスト014").unwrap(),
    );
    let form = application
        .signed_form(Timestamp::from_millis(1_774_925_553_256), &key())
        .unwrap();
    let fields: Vec<_> = form.text_fields().collect();
    assert_eq!(
        fields,
        [
            ("userId", "abc_100008"),
            (
                "callBackUrl",
                "https://merchant.example.com/api/kyc/callback"
            ),
            ("usernameFurigana", "テスト014"),
            ("timestamp", "1774925553256"),
            ("sign", "a7d716ba378b31496f33c18807b4d4f5"),
        ]
    );
    assert_eq!(
        Application::from_text_fields(form.text_fields()).unwrap(),
        application
    );
}

#[test]
fn application_with_older_form_parts() {
    let part = FilePart::new(
        "idCardFront",
        "front.png",
        "image/png",
        FileSource::Bytes(bytes::Bytes::from_static(b"\x89PNG")),
    )
    .unwrap();
    let application = Application::new(
        UserId::new("abc_100008").unwrap(),
        CallbackUrl::new("https://merchant.example.com/api/kyc/callback").unwrap(),
        Furigana::new("テスト014").unwrap(),
    )
    .with_text_field("usernameKanji", "山田太郎")
    .unwrap()
    .with_text_field("dateOfBirth", "19900101")
    .unwrap()
    .with_file(part.clone());
    let form = application
        .signed_form(Timestamp::from_millis(1_774_925_553_256), &key())
        .unwrap();
    let names: Vec<_> = form.text_fields().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "userId",
            "callBackUrl",
            "usernameFurigana",
            "usernameKanji",
            "dateOfBirth",
            "timestamp",
            "sign"
        ]
    );
    assert_eq!(form.files(), [part]);
    let expected =
        kyc_proto::sign_fields(form.text_fields().filter(|(n, _)| *n != "sign"), &key()).unwrap();
    assert_eq!(form.signature(), &expected);
}

#[test]
fn apply_response() {
    let response = ApplyResponse::accepted(
        ApplyData::new("abc_100008", AuthenticationStatus::Pending).with_message("submitted"),
    )
    .with_timestamp(Timestamp::from_millis(1_774_925_553_300));
    let golden = r#"{"msg":"success","code":"0000","timestamp":"1774925553300","success":true,"data":{"userId":"abc_100008","authenticationStatus":"0","message":"submitted"}}"#;
    assert_eq!(text(response.to_json()), golden);
    assert_eq!(
        ApplyResponse::from_slice(golden.as_bytes()).unwrap(),
        response
    );
}

#[test]
fn status_response() {
    let response = StatusResponse::accepted(
        StatusData::new(AuthenticationStatus::Rejected)
            .with_user_id("79x7p10nh4xd121m")
            .with_fail_reason("The file and type do not match")
            .with_extra("kycNumber", json!("KYC0001")),
    )
    .with_numeric_timestamp(Timestamp::from_millis(1_728_609_277_476))
    .with_extra("traceId", json!("t-1"));
    let golden = r#"{"msg":"success","code":"0000","timestamp":1728609277476,"success":true,"data":{"userId":"79x7p10nh4xd121m","authenticationStatus":"3","failReason":"The file and type do not match","kycNumber":"KYC0001"},"traceId":"t-1"}"#;
    assert_eq!(text(response.to_json()), golden);
    assert_eq!(
        StatusResponse::from_slice(golden.as_bytes()).unwrap(),
        response
    );
}

#[test]
fn error_response() {
    let response = StatusResponse::new(Code::SYSTEM_ERROR, "system error")
        .with_timestamp(Timestamp::from_millis(1));
    let golden = r#"{"msg":"system error","code":"8000","timestamp":"1","success":false}"#;
    assert_eq!(text(response.to_json()), golden);
    assert_eq!(
        StatusResponse::from_slice(golden.as_bytes()).unwrap(),
        response
    );
}

#[test]
fn callback() {
    let callback = Callback::new(
        UserId::new("79x7p10nh4xd121m").unwrap(),
        AuthenticationStatus::Approved,
        None,
        Timestamp::from_millis(1_728_609_277_476),
    );
    let body = callback.to_signed_json(&key());
    let sign = kyc_proto::sign_fields(
        [
            ("authenticationStatus", "2"),
            ("timestamp", "1728609277476"),
            ("userId", "79x7p10nh4xd121m"),
        ],
        &key(),
    )
    .unwrap();
    assert_eq!(
        text(body.clone()),
        format!(
            r#"{{"userId":"79x7p10nh4xd121m","authenticationStatus":"2","timestamp":1728609277476,"sign":"{sign}"}}"#
        )
    );
    assert_eq!(Callback::verify(&body, &key()).unwrap(), callback);
}
