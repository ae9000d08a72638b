//! Every response and callback shape the provider's pages show or imply:
//! the documented one, numbers where strings are documented, `success` as a string, extra
//! fields, missing optional fields, and the error answers.

use kyc_proto::{
    ApplyResponse, AuthenticationStatus, Callback, CallbackError, Code, StatusResponse,
};
use kyc_sign::SigningKey;

fn key() -> SigningKey {
    SigningKey::new("TEST_SECRET_DO_NOT_USE").expect("not empty")
}

#[test]
fn documented_apply_response() {
    let body = br#"{
        "msg": "success",
        "code": "0000",
        "timestamp": "1774925553300",
        "success": true,
        "data": {"userId": "abc_100008", "authenticationStatus": "0", "message": "submitted"}
    }"#;
    let response = ApplyResponse::from_slice(body).unwrap();
    assert_eq!(response.msg(), "success");
    assert_eq!(response.timestamp(), Some("1774925553300"));
    assert_eq!(response.success(), Some(true));
    let data = response.api_result().unwrap();
    assert_eq!(data.user_id(), Some("abc_100008"));
    assert_eq!(data.authentication_status(), &AuthenticationStatus::Pending);
    assert!(
        !data.authentication_status().is_approved(),
        "accepted is not approved"
    );
    assert_eq!(data.message(), Some("submitted"));
}

#[test]
fn numbers_where_strings_are_documented() {
    let body = br#"{"msg":"success","code":"0000","timestamp":1774925553300,"success":true,
        "data":{"userId":"abc_100008","authenticationStatus":2,"message":"ok"}}"#;
    let response = ApplyResponse::from_slice(body).unwrap();
    assert_eq!(response.timestamp(), Some("1774925553300"));
    let data = response.api_result().unwrap();
    assert_eq!(
        data.authentication_status(),
        &AuthenticationStatus::Approved
    );
}

#[test]
fn success_as_a_string() {
    for (flag, expected) in [("\"true\"", Some(true)), ("\"false\"", Some(false))] {
        let body = format!(
            r#"{{"msg":"success","code":"0000","success":{flag},"data":{{"authenticationStatus":"1"}}}}"#
        );
        let response = StatusResponse::from_slice(body.as_bytes()).unwrap();
        assert_eq!(response.success(), expected);
        assert_eq!(response.api_result().is_ok(), expected == Some(true));
    }
}

#[test]
fn extra_fields_are_kept_at_both_levels() {
    let body = br#"{"msg":"success","code":"0000","timestamp":"1","success":true,"traceId":"abc",
        "data":{"userId":"u1","authenticationStatus":"1","kycNumber":"KYC-1",
                "authenticationUrl":"https://kyc.example/u1","score":0.5,"nested":{"a":[1]}}}"#;
    let response = StatusResponse::from_slice(body).unwrap();
    assert_eq!(response.extra()["traceId"], "abc");
    let data = response.api_result().unwrap();
    assert_eq!(data.kyc_number(), Some("KYC-1"));
    assert_eq!(data.authentication_url(), Some("https://kyc.example/u1"));
    assert_eq!(data.extra()["score"], 0.5);
    assert_eq!(data.extra()["nested"]["a"][0], 1);
    let again = StatusResponse::from_slice(&response.to_json()).unwrap();
    assert_eq!(again, response);
}

#[test]
fn optional_fields_may_be_missing() {
    let response =
        StatusResponse::from_slice(br#"{"code":"0000","data":{"authenticationStatus":"0"}}"#)
            .unwrap();
    assert_eq!(response.msg(), "");
    assert_eq!(response.timestamp(), None);
    assert_eq!(response.success(), None);
    let data = response.api_result().unwrap();
    assert_eq!(data.user_id(), None);
    assert_eq!(data.message(), None);
    assert_eq!(data.fail_reason(), None);
    // Explicit nulls read as absent too.
    let response = ApplyResponse::from_slice(
        br#"{"msg":null,"code":"0000","timestamp":null,"success":null,
            "data":{"userId":null,"authenticationStatus":"0","message":null}}"#,
    )
    .unwrap();
    assert_eq!(response.api_result().unwrap().user_id(), None);
}

#[test]
fn status_query_rejected_with_reason() {
    let body = br#"{"msg":"success","code":"0000","timestamp":"1728609277476","success":true,
        "data":{"userId":"79x7p10nh4xd121m","authenticationStatus":"3",
                "failReason":"The file and type do not match"}}"#;
    let response = StatusResponse::from_slice(body).unwrap();
    let data = response.api_result().unwrap();
    assert_eq!(
        data.authentication_status(),
        &AuthenticationStatus::Rejected
    );
    assert!(data.authentication_status().is_final());
    assert_eq!(data.fail_reason(), Some("The file and type do not match"));
    assert!(!format!("{response:?}").contains("do not match"));
}

#[test]
fn unknown_status_is_data() {
    let response =
        StatusResponse::from_slice(br#"{"code":"0000","data":{"authenticationStatus":"4"}}"#)
            .unwrap();
    let status = response.api_result().unwrap().authentication_status();
    assert_eq!(status, &AuthenticationStatus::Unknown("4".into()));
    assert!(!status.is_final());
}

#[test]
fn error_answers_carry_no_status() {
    let cases: [(&[u8], Code, bool); 5] = [
        (br#"{"msg":"system error","code":"8000","timestamp":"1","success":false,"data":null}"#, Code::SYSTEM_ERROR, true),
        (br#"{"msg":"failed","code":"00029","success":false}"#, Code::FAILED, false),
        (br#"{"msg":"exception","code":"5000","success":false,"data":{}}"#, Code::SYSTEM_EXCEPTION, true),
        (br#"{"msg":"processing","code":"0015","success":false,"data":""}"#, Code::PROCESSING, false),
        // A failure that still carries a status: the status must not be readable.
        (br#"{"msg":"failed","code":"00029","success":false,"data":{"authenticationStatus":"2"}}"#, Code::FAILED, false),
    ];
    for (body, code, retryable) in cases {
        let response = ApplyResponse::from_slice(body).unwrap();
        let failure = response.api_result().unwrap_err();
        assert_eq!(failure.code(), &code);
        assert_eq!(failure.is_retryable(), retryable);
        assert!(!failure.is_inconsistent());
        assert_eq!(
            response.to_json(),
            ApplyResponse::from_slice(&response.to_json())
                .unwrap()
                .to_json()
        );
    }
}

#[test]
fn accepted_but_inconsistent() {
    let no_data =
        ApplyResponse::from_slice(br#"{"msg":"success","code":"0000","success":true}"#).unwrap();
    assert!(no_data.api_result().unwrap_err().is_inconsistent());
    let said_false = ApplyResponse::from_slice(
        br#"{"code":"0000","success":false,"data":{"authenticationStatus":"2"}}"#,
    )
    .unwrap();
    assert!(said_false.api_result().unwrap_err().is_inconsistent());
}

#[test]
fn leading_zeros_of_codes_matter() {
    let response = ApplyResponse::from_slice(br#"{"code":"0029"}"#).unwrap();
    assert_ne!(response.code(), &Code::FAILED);
    let response = ApplyResponse::from_slice(br#"{"code":"000"}"#).unwrap();
    assert!(!response.code().is_success());
}

#[test]
fn not_the_documented_shape() {
    for body in [
        &b"[]"[..],
        b"\"text\"",
        b"{\"code\":{}}",
        b"",
        b"{\"code\":\"0000\",\"data\":[]}",
    ] {
        assert!(ApplyResponse::from_slice(body).is_err());
    }
}

// Callbacks.

/// Vector `callback-rejected`: timestamp as a JSON number, as the provider sends it.
const REJECTED: &str = r#"{"userId":"79x7p10nh4xd121m","authenticationStatus":"3","failReason":"The file and type do not match","timestamp":1728609277476,"sign":"ca152b32fdd4b654690538c66d1e6718"}"#;

#[test]
fn callback_with_numeric_timestamp() {
    let callback = Callback::verify(REJECTED.as_bytes(), &key()).unwrap();
    assert_eq!(callback.user_id().as_str(), "79x7p10nh4xd121m");
    assert_eq!(callback.status(), &AuthenticationStatus::Rejected);
    assert_eq!(
        callback.fail_reason(),
        Some("The file and type do not match")
    );
    assert_eq!(callback.timestamp().as_millis(), 1_728_609_277_476);
}

#[test]
fn callback_with_string_timestamp_numeric_status_and_any_order() {
    let body = r#"{"sign":"CA152B32FDD4B654690538C66D1E6718","timestamp":"1728609277476","failReason":"The file and type do not match","authenticationStatus":3,"userId":"79x7p10nh4xd121m"}"#;
    let callback = Callback::verify(body.as_bytes(), &key()).unwrap();
    assert_eq!(
        callback,
        Callback::verify(REJECTED.as_bytes(), &key()).unwrap()
    );
}

#[test]
fn callback_without_fail_reason() {
    // Vector `callback-empty-failReason-skipped`: absent, empty and null all sign the same.
    let sign = "01eb2048701bfd57899b43d0d46f346d";
    for reason in ["", r#""failReason":"","#, r#""failReason":null,"#] {
        let body = format!(
            r#"{{"userId":"79x7p10nh4xd121m","authenticationStatus":"3",{reason}"timestamp":1728609277476,"sign":"{sign}"}}"#
        );
        let callback = Callback::verify(body.as_bytes(), &key()).unwrap();
        assert_eq!(callback.fail_reason(), None);
    }
}

#[test]
fn callback_with_unknown_status_digits_is_accepted_as_unknown() {
    let sign = kyc_proto::sign_fields(
        [
            ("authenticationStatus", "7"),
            ("timestamp", "1"),
            ("userId", "u1"),
        ],
        &key(),
    )
    .unwrap();
    let body =
        format!(r#"{{"userId":"u1","authenticationStatus":"7","timestamp":1,"sign":"{sign}"}}"#);
    let callback = Callback::verify(body.as_bytes(), &key()).unwrap();
    assert_eq!(
        callback.status(),
        &AuthenticationStatus::Unknown("7".into())
    );
}

#[test]
fn callback_with_wrong_secret_or_tampering() {
    let other = SigningKey::new("another secret").unwrap();
    let err = Callback::verify(REJECTED.as_bytes(), &other).unwrap_err();
    assert!(err.is_signature_mismatch());
    let tampered = REJECTED.replace("\"3\"", "\"2\"");
    assert!(
        Callback::verify(tampered.as_bytes(), &key())
            .unwrap_err()
            .is_signature_mismatch()
    );
    let malformed = REJECTED.replace("ca152b32fdd4b654690538c66d1e6718", "ca152b");
    let err = Callback::verify(malformed.as_bytes(), &key()).unwrap_err();
    assert!(matches!(err, CallbackError::BadSignature(_)));
    assert!(!err.is_signature_mismatch());
    assert_eq!(err.to_string(), "callback signature is malformed");
}

#[test]
fn repeated_data_fields_are_refused_not_guessed() {
    let body = br#"{"code":"0000","data":{"authenticationStatus":"0","authenticationStatus":"2"}}"#;
    assert!(ApplyResponse::from_slice(body).is_err());
}
