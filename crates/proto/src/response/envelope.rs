//! The envelope `{msg, code, timestamp, success, data}` and the API-layer result it gives.

use std::fmt;

use serde::de::{self, DeserializeOwned};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use crate::lenient::{self, Lenient, STRING_OR_NUMBER, Text};
use crate::object::{Key, RawObject};
use crate::{ApplyData, Code, DecodeError, StatusData, Timestamp};

/// The envelope `{msg, code, timestamp, success, data}` around `T`.
///
/// Decoding needs `code` only; everything else is optional and unknown fields are kept. A
/// `data` that does not decode as `T` is an error when `code` is `0000`, and is kept undecoded
/// otherwise (an error response's `data` is not relied on).
///
/// # Examples
///
/// ```
/// use kyc_proto::{ApplyResponse, AuthenticationStatus, Code};
///
/// let body = br#"{"msg":"success","code":"0000","timestamp":1715941383720,"success":"true",
///     "data":{"userId":"abc_100008","authenticationStatus":"0","message":"submitted"}}"#;
/// let response = ApplyResponse::from_slice(body)?;
/// assert_eq!(response.code(), &Code::SUCCESS);
/// assert_eq!(response.timestamp(), Some("1715941383720"));
/// // The business status is behind the API-layer check:
/// let data = response.api_result()?;
/// assert_eq!(data.authentication_status(), &AuthenticationStatus::Pending);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Response<T> {
    msg: String,
    code: Code,
    timestamp: Option<Text>,
    success: Option<bool>,
    data: Option<T>,
    undecoded_data: Option<Value>,
    extra: Map<String, Value>,
}

/// The response of `kycApplyFor`.
///
/// # Examples
///
/// ```
/// let response = kyc_proto::ApplyResponse::from_slice(br#"{"code":"0000","data":{"authenticationStatus":"0"}}"#)?;
/// assert!(response.api_result().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ApplyResponse = Response<ApplyData>;

/// The response of `kycStatusQuery`.
///
/// # Examples
///
/// ```
/// let response = kyc_proto::StatusResponse::from_slice(br#"{"code":"8000","msg":"system error"}"#)?;
/// assert!(response.api_result().unwrap_err().is_retryable());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type StatusResponse = Response<StatusData>;

const ENVELOPE_FIELDS: [&str; 5] = ["msg", "code", "timestamp", "success", "data"];

impl<T> Response<T> {
    /// A response with `code` and `msg`, `success` set to whether `code` is `0000`, and no data
    /// (the sandbox's error answers).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Code, StatusResponse, Timestamp};
    ///
    /// let response = StatusResponse::new(Code::SYSTEM_ERROR, "system error")
    ///     .with_timestamp(Timestamp::from_millis(1_715_941_383_720));
    /// assert_eq!(
    ///     response.to_json(),
    ///     br#"{"msg":"system error","code":"8000","timestamp":"1715941383720","success":false}"#
    /// );
    /// assert!(response.api_result().unwrap_err().is_retryable());
    /// ```
    #[must_use]
    pub fn new(code: Code, msg: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            success: Some(code.is_success()),
            code,
            timestamp: None,
            data: None,
            undecoded_data: None,
            extra: Map::new(),
        }
    }

    /// An accepted request (`0000`, `success`, `true`) carrying `data`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyData, ApplyResponse, AuthenticationStatus};
    ///
    /// let response = ApplyResponse::accepted(ApplyData::new("u1", AuthenticationStatus::Pending));
    /// assert!(response.api_result().is_ok());
    /// ```
    #[must_use]
    pub fn accepted(data: T) -> Self {
        Self::new(Code::SUCCESS, "success").with_data(data)
    }

    /// Sets `data`.
    #[must_use]
    pub fn with_data(mut self, data: T) -> Self {
        self.data = Some(data);
        self.undecoded_data = None;
        self
    }

    /// Sets `timestamp`, sent as a JSON string (the documented form).
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(Text {
            text: timestamp.to_string(),
            is_number: false,
        });
        self
    }

    /// Sets `timestamp`, sent as a JSON number (as some of the provider's examples show).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Code, StatusResponse, Timestamp};
    ///
    /// let response = StatusResponse::new(Code::FAILED, "failed")
    ///     .with_numeric_timestamp(Timestamp::from_millis(17));
    /// assert_eq!(response.to_json(), br#"{"msg":"failed","code":"00029","timestamp":17,"success":false}"#);
    /// ```
    #[must_use]
    pub fn with_numeric_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(Text {
            text: timestamp.to_string(),
            is_number: true,
        });
        self
    }

    /// Sets or removes `success`, which [`Response::new`] sets from the code.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyData, ApplyResponse, AuthenticationStatus};
    ///
    /// let response = ApplyResponse::accepted(ApplyData::new("u1", AuthenticationStatus::Approved))
    ///     .with_success_flag(Some(false));
    /// assert!(response.api_result().is_err());
    /// ```
    #[must_use]
    pub fn with_success_flag(mut self, success: Option<bool>) -> Self {
        self.success = success;
        self
    }

    /// Adds a field outside the envelope's five (ignored if it names one of them).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Code, StatusResponse};
    ///
    /// let response = StatusResponse::new(Code::FAILED, "failed").with_extra("traceId", "t1".into());
    /// assert_eq!(response.extra()["traceId"], "t1");
    /// ```
    #[must_use]
    pub fn with_extra(mut self, name: impl Into<String>, value: Value) -> Self {
        let name = name.into();
        if !ENVELOPE_FIELDS.contains(&name.as_str()) {
            self.extra.insert(name, value);
        }
        self
    }

    /// `msg`: the API layer's message (`success` does not mean the user is approved).
    #[must_use]
    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// `code`: the API layer's result code.
    #[must_use]
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// `timestamp` as text, whether it came as a string or a number.
    #[must_use]
    pub fn timestamp(&self) -> Option<&str> {
        self.timestamp.as_ref().map(|t| t.text.as_str())
    }

    /// `success`, from a boolean or `"true"`/`"false"`; `None` when absent.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::ApplyResponse;
    ///
    /// let response = ApplyResponse::from_slice(br#"{"code":"8000","success":"false"}"#)?;
    /// assert_eq!(response.success(), Some(false));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn success(&self) -> Option<bool> {
        self.success
    }

    /// Envelope fields the documentation does not list, kept as received.
    #[must_use]
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The data, only if the API layer accepted the request: `code` is `0000`, `success` is
    /// not `false`, and `data` is there. Otherwise the failure, with its code and message.
    ///
    /// This is the only way to the business status, so "request accepted" and "user approved"
    /// are two separate questions: `Ok` here still holds a status that may be pending or
    /// rejected.
    ///
    /// # Errors
    ///
    /// [`ApiFailure`] as described.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyResponse, AuthenticationStatus};
    ///
    /// let accepted = ApplyResponse::from_slice(
    ///     br#"{"msg":"success","code":"0000","success":true,"data":{"authenticationStatus":"3"}}"#,
    /// )?;
    /// // Accepted, and yet rejected:
    /// assert_eq!(accepted.api_result()?.authentication_status(), &AuthenticationStatus::Rejected);
    ///
    /// let refused = ApplyResponse::from_slice(br#"{"msg":"failed","code":"00029","success":false}"#)?;
    /// assert_eq!(refused.api_result().unwrap_err().code().as_str(), "00029");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn api_result(&self) -> Result<&T, ApiFailure> {
        self.check()?;
        self.data
            .as_ref()
            .ok_or_else(|| self.failure(FailureKind::MissingData))
    }

    /// Like [`Self::api_result`], by value.
    ///
    /// # Errors
    ///
    /// [`ApiFailure`] as for [`Self::api_result`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyData, ApplyResponse, AuthenticationStatus};
    ///
    /// let response = ApplyResponse::accepted(ApplyData::new("u1", AuthenticationStatus::Pending));
    /// let data = response.into_api_result()?;
    /// assert_eq!(data.user_id(), Some("u1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_api_result(self) -> Result<T, ApiFailure> {
        self.check()?;
        match self.data {
            Some(data) => Ok(data),
            None => Err(self.failure(FailureKind::MissingData)),
        }
    }

    fn check(&self) -> Result<(), ApiFailure> {
        if !self.code.is_success() {
            return Err(self.failure(FailureKind::Refused));
        }
        if self.success == Some(false) {
            return Err(self.failure(FailureKind::Inconsistent));
        }
        Ok(())
    }

    fn failure(&self, kind: FailureKind) -> ApiFailure {
        ApiFailure {
            code: self.code.clone(),
            msg: self.msg.clone(),
            kind,
        }
    }
}

impl<T: DeserializeOwned> Response<T> {
    /// Decodes a response body.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the body is not JSON, not an object, has no `code`, repeats an
    /// envelope field, has an envelope field of a type no example shows, or (with `code`
    /// `0000`) has a `data` that is not a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::StatusResponse;
    ///
    /// let response = StatusResponse::from_slice(br#"{"code":"0000","data":{"authenticationStatus":2}}"#)?;
    /// assert!(response.api_result()?.authentication_status().is_final());
    /// assert_eq!(StatusResponse::from_slice(b"{}").unwrap_err().field(), Some("code"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_slice(body: &[u8]) -> Result<Self, DecodeError> {
        let wire: Wire = serde_json::from_slice(body).map_err(|err| {
            // Derive refuses a repeated field, naming it in its message only: the members are
            // listed again to name it.
            let repeated = if err.is_data() {
                repeated_field(body)
            } else {
                None
            };
            match repeated {
                Some(field) => DecodeError::for_field(field, REPEATED),
                None => DecodeError::json(err),
            }
        })?;
        wire.into_response()
    }
}

impl<T: Serialize> Response<T> {
    /// Encodes the response: the envelope fields in documented order, then the extra ones.
    ///
    /// # Panics
    ///
    /// Only if `T`'s `Serialize` fails, which this crate's data types never do.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyData, ApplyResponse, AuthenticationStatus};
    ///
    /// let response = ApplyResponse::accepted(ApplyData::new("u1", AuthenticationStatus::Pending));
    /// assert_eq!(
    ///     response.to_json(),
    ///     br#"{"msg":"success","code":"0000","success":true,"data":{"userId":"u1","authenticationStatus":"0"}}"#
    /// );
    /// ```
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("string-keyed maps of scalars always serialise")
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("msg", &self.msg)
            .field("code", &self.code)
            .field("timestamp", &self.timestamp())
            .field("success", &self.success)
            .field("data", &self.data)
            .field(
                "undecoded_data",
                &self.undecoded_data.as_ref().map(|_| ".."),
            )
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<T: Serialize> Serialize for Response<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("msg", &self.msg)?;
        map.serialize_entry("code", &self.code)?;
        if let Some(timestamp) = &self.timestamp {
            match timestamp.text.parse::<Number>() {
                Ok(number) if timestamp.is_number => map.serialize_entry("timestamp", &number)?,
                _ => map.serialize_entry("timestamp", &timestamp.text)?,
            }
        }
        if let Some(success) = self.success {
            map.serialize_entry("success", &success)?;
        }
        if let Some(data) = &self.data {
            map.serialize_entry("data", data)?;
        } else if let Some(data) = &self.undecoded_data {
            map.serialize_entry("data", data)?;
        }
        for (name, value) in &self.extra {
            if !ENVELOPE_FIELDS.contains(&name.as_str()) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// Reads JSON text only (`serde_json::from_slice`, `from_str`, `from_reader`): `data` is taken
/// as raw text and decoded on its own, which a `serde_json::Value` cannot provide.
impl<'de, T: DeserializeOwned> Deserialize<'de> for Response<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Wire::deserialize(deserializer)?
            .into_response()
            .map_err(de::Error::custom)
    }
}

/// The envelope as received, before its rules are applied by field name.
#[derive(Deserialize)]
struct Wire {
    #[serde(default, deserialize_with = "lenient::string")]
    msg: Lenient<String>,
    #[serde(default, deserialize_with = "lenient::string_or_number")]
    code: Lenient<Text>,
    #[serde(default, deserialize_with = "lenient::string_or_number")]
    timestamp: Lenient<Text>,
    #[serde(default, deserialize_with = "lenient::bool_or_string")]
    success: Lenient<bool>,
    /// Kept as text and decoded as `T` afterwards, so that an error response's data of another
    /// shape is kept rather than refused.
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

const REPEATED: &str = "is given more than once";
const DATA_SHAPE: &str = "does not match the documented shape";

impl Wire {
    fn into_response<T: DeserializeOwned>(self) -> Result<Response<T>, DecodeError> {
        let code = match self.code {
            Lenient::Value(text) => Code::from_text(text.text),
            Lenient::Absent => return Err(DecodeError::for_field("code", "is missing")),
            Lenient::Null => return Err(DecodeError::for_field("code", STRING_OR_NUMBER)),
            Lenient::Broken(rule) => return Err(DecodeError::for_field("code", rule)),
        };
        let msg = self.msg.optional("msg")?.unwrap_or_default();
        let timestamp = self.timestamp.optional("timestamp")?;
        let success = self.success.optional("success")?;
        let (data, undecoded_data) = match self.data {
            None => (None, None),
            Some(raw) => match serde_json::from_str::<T>(raw.get()) {
                Ok(data) => (Some(data), None),
                // An error response's data is not relied on: kept, whatever its shape.
                Err(_) if !code.is_success() => {
                    let value = serde_json::from_str::<Value>(raw.get())
                        .map_err(|_| DecodeError::for_field("data", DATA_SHAPE))?;
                    (None, Some(value))
                }
                Err(_) => return Err(DecodeError::for_field("data", DATA_SHAPE)),
            },
        };
        Ok(Response {
            msg,
            code,
            timestamp,
            success,
            data,
            undecoded_data,
            extra: self.extra,
        })
    }
}

/// The first envelope field that `body` gives more than once, if it is an object.
fn repeated_field(body: &[u8]) -> Option<&'static str> {
    let RawObject(members) = serde_json::from_slice(body).ok()?;
    let mut seen = Vec::with_capacity(ENVELOPE_FIELDS.len());
    members.iter().find_map(|(Key(name), _)| {
        let field = ENVELOPE_FIELDS.into_iter().find(|field| field == name)?;
        if seen.contains(&field) {
            return Some(field);
        }
        seen.push(field);
        None
    })
}

/// The API layer did not accept the request, or answered inconsistently: no business status
/// can be read from the response.
///
/// `Display` names the code; the provider's message is available through [`Self::msg`].
///
/// # Examples
///
/// ```
/// use kyc_proto::{Code, StatusResponse};
///
/// let failure = StatusResponse::new(Code::SYSTEM_EXCEPTION, "busy").api_result().unwrap_err();
/// assert_eq!(failure.to_string(), "the provider refused the request with code 5000");
/// assert_eq!(failure.msg(), "busy");
/// assert!(failure.is_retryable());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiFailure {
    code: Code,
    msg: String,
    kind: FailureKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FailureKind {
    Refused,
    Inconsistent,
    MissingData,
}

impl ApiFailure {
    /// The response code.
    #[must_use]
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// The provider's `msg`.
    #[must_use]
    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// Whether retrying the same request may succeed (`8000`, `5000`).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.kind == FailureKind::Refused && self.code.is_retryable()
    }

    /// Whether the request was accepted (`0000`) but the response carried no `data` or said
    /// `success: false`: the provider misbehaved rather than refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyResponse, Code};
    ///
    /// let failure = ApplyResponse::new(Code::SUCCESS, "success").api_result().unwrap_err();
    /// assert!(failure.is_inconsistent());
    /// ```
    #[must_use]
    pub fn is_inconsistent(&self) -> bool {
        self.kind != FailureKind::Refused
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FailureKind::Refused => {
                write!(
                    f,
                    "the provider refused the request with code {}",
                    self.code
                )
            }
            FailureKind::Inconsistent => write!(
                f,
                "the provider answered code {} with success false",
                self.code
            ),
            FailureKind::MissingData => {
                write!(f, "the provider answered code {} without data", self.code)
            }
        }
    }
}

impl std::error::Error for ApiFailure {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthenticationStatus;

    #[test]
    fn numeric_code_keeps_its_digits_not_leading_zeros() {
        let response = ApplyResponse::from_slice(br#"{"code":0}"#).unwrap();
        assert_eq!(response.code().as_str(), "0");
        assert!(response.api_result().is_err());
    }

    #[test]
    fn repeated_data_fields_are_errors_known_or_not() {
        for body in [
            &br#"{"code":"0000","data":{"authenticationStatus":"0","x":1,"x":2}}"#[..],
            br#"{"code":"0000","data":{"authenticationStatus":"0","userId":"a","userId":"a"}}"#,
            br#"{"code":"0000","data":{"authenticationStatus":"0","message":null,"message":"m"}}"#,
        ] {
            let err = ApplyResponse::from_slice(body).unwrap_err();
            assert_eq!(
                err.field(),
                Some("data"),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn duplicate_envelope_fields_are_errors() {
        for body in [
            &br#"{"code":"0000","code":"8000"}"#[..],
            br#"{"code":"0000","data":null,"data":{}}"#,
            br#"{"code":"0000","success":true,"success":false}"#,
        ] {
            assert!(ApplyResponse::from_slice(body).is_err());
        }
    }

    #[test]
    fn a_repeated_envelope_field_is_named() {
        let cases: [(&[u8], &str); 5] = [
            (br#"{"code":"0000","code":"8000"}"#, "code"),
            (br#"{"msg":"a","code":"0000","msg":"b"}"#, "msg"),
            (br#"{"code":"0000","data":null,"data":{}}"#, "data"),
            (
                br#"{"code":"0000","timestamp":1,"x":1,"x":2,"timestamp":"1"}"#,
                "timestamp",
            ),
            (
                br#"{"code":"0000","success":true,"success":false}"#,
                "success",
            ),
        ];
        for (body, field) in cases {
            let err = ApplyResponse::from_slice(body).unwrap_err();
            assert_eq!(
                err.field(),
                Some(field),
                "{}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(
                err.to_string(),
                format!("field {field}: is given more than once")
            );
        }
    }

    #[test]
    fn a_repeated_unknown_envelope_field_is_tolerated() {
        let response = ApplyResponse::from_slice(br#"{"code":"8000","x":1,"x":2}"#).unwrap();
        assert_eq!(response.extra()["x"], 2);
    }

    #[test]
    fn null_code_breaks_its_rule() {
        let err = ApplyResponse::from_slice(br#"{"code":null}"#).unwrap_err();
        assert_eq!(err.to_string(), "field code: must be a string or a number");
        let err = ApplyResponse::from_slice(br#"{"msg":"m"}"#).unwrap_err();
        assert_eq!(err.to_string(), "field code: is missing");
    }

    #[test]
    fn not_an_object_is_a_shape_error_with_a_position() {
        let err = ApplyResponse::from_slice(b"\n  [1]").unwrap_err();
        assert!(!err.is_syntax());
        assert_eq!(err.field(), None);
        assert_eq!(err.line(), Some(2));
        assert!(err.column().is_some());
    }

    #[test]
    fn serde_deserialize_reads_a_reader_like_from_slice() {
        let body = br#"{"msg":"success","code":"0000","timestamp":17,"success":"true","data":{"authenticationStatus":2,"kycNumber":"K1"}}"#;
        let read: StatusResponse = serde_json::from_reader(&body[..]).unwrap();
        assert_eq!(read, StatusResponse::from_slice(body).unwrap());
        let err =
            serde_json::from_reader::<_, StatusResponse>(&br#"{"code":true}"#[..]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("field code: must be a string or a number")
        );
    }

    #[test]
    fn bad_data_on_failure_is_kept_and_reencoded() {
        let body = br#"{"code":"8000","data":{"x":1}}"#;
        let response = ApplyResponse::from_slice(body).unwrap();
        assert!(response.api_result().unwrap_err().is_retryable());
        let again = ApplyResponse::from_slice(&response.to_json()).unwrap();
        assert_eq!(again, response);
    }

    #[test]
    fn error_data_with_a_repeated_name_settles_after_one_round_trip() {
        // Regression: found by the decode fuzz target; the kept Value de-duplicates the name.
        let body = br#"{"code":"8000","data":{"authenticationStatus":"3","failReason":"a","failReason":"b"}}"#;
        let response = StatusResponse::from_slice(body).unwrap();
        assert!(response.undecoded_data.is_some());
        crate::fuzzing::response_round_trip(&response);
    }

    #[test]
    fn bad_data_on_success_is_a_decode_error() {
        let err = ApplyResponse::from_slice(br#"{"code":"0000","data":{"x":1}}"#).unwrap_err();
        assert_eq!(err.field(), Some("data"));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let cases: [(&[u8], &str); 4] = [
            (br#"{"code":true}"#, "code"),
            (br#"{"code":"0000","msg":1}"#, "msg"),
            (br#"{"code":"0000","success":"yes"}"#, "success"),
            (br#"{"code":"0000","timestamp":[1]}"#, "timestamp"),
        ];
        for (body, field) in cases {
            let err = ApplyResponse::from_slice(body).unwrap_err();
            assert_eq!(
                err.field(),
                Some(field),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn status_debug_redacts_fail_reason_and_extra_values() {
        let data = StatusData::new(AuthenticationStatus::Rejected)
            .with_fail_reason("Yamada's passport expired")
            .with_extra("kycNumber", "K-SECRET".into());
        let text = format!("{:?}", StatusResponse::accepted(data));
        assert!(!text.contains("Yamada"));
        assert!(!text.contains("K-SECRET"));
        assert!(text.contains("kycNumber"));
    }
}
