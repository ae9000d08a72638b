//! The response envelope of both endpoints, its codes and the business status it carries.
//!
//! Tolerant by **policy** (`PROVIDER.md`, "Response envelope"): `timestamp` may be a string or
//! a number, `success` a boolean or `"true"`/`"false"`, `authenticationStatus` a string or a
//! number; unknown fields are kept, never an error. The API-layer result and the business
//! status are apart: the data, and so the status, is only reachable through
//! [`Response::api_result`], which fails unless the request was accepted.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, MapAccess};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use crate::error::FieldMarker;
use crate::key::Key;
use crate::{DecodeError, Sensitive, Timestamp};

/// The provider's response code: a string whose leading zeros matter (`00029` is not `0029`).
///
/// Only [`Code::SUCCESS`] means the API layer accepted the request; it never means the user is
/// approved. Decoded from a string or, leniently, a number (whose digits are kept as decoded:
/// a numeric `0` is `"0"`, which is not `SUCCESS`).
///
/// # Examples
///
/// ```
/// use kyc_proto::Code;
///
/// let code = Code::new("8000");
/// assert_eq!(code, Code::SYSTEM_ERROR);
/// assert!(code.is_retryable());
/// assert!(!code.is_success());
/// assert_ne!(Code::new("0029"), Code::FAILED);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Code(Cow<'static, str>);

impl Code {
    /// `0000`: the API layer accepted the request (not a business result).
    pub const SUCCESS: Self = Self(Cow::Borrowed("0000"));
    /// `0001`: partial payment (published for the provider's payment APIs).
    pub const PARTIAL_PAYMENT: Self = Self(Cow::Borrowed("0001"));
    /// `0015`: processing.
    pub const PROCESSING: Self = Self(Cow::Borrowed("0015"));
    /// `00029`: failed (five digits).
    pub const FAILED: Self = Self(Cow::Borrowed("00029"));
    /// `8000`: system error; retryable.
    pub const SYSTEM_ERROR: Self = Self(Cow::Borrowed("8000"));
    /// `5000`: system exception (reported by integrations); retryable.
    pub const SYSTEM_EXCEPTION: Self = Self(Cow::Borrowed("5000"));

    /// A code, as received.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Code::new("0000"), kyc_proto::Code::SUCCESS);
    /// ```
    #[must_use]
    pub fn new(code: impl Into<String>) -> Self {
        Self(Cow::Owned(code.into()))
    }

    /// The code's text.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Code::FAILED.as_str(), "00029");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the API layer accepted the request (`0000`). Says nothing about the user.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kyc_proto::Code::SUCCESS.is_success());
    /// ```
    #[must_use]
    pub fn is_success(&self) -> bool {
        *self == Self::SUCCESS
    }

    /// Whether the same request may succeed later (**policy**: `8000` and `5000`).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::Code;
    ///
    /// assert!(Code::SYSTEM_EXCEPTION.is_retryable());
    /// assert!(!Code::FAILED.is_retryable());
    /// ```
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        *self == Self::SYSTEM_ERROR || *self == Self::SYSTEM_EXCEPTION
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({:?})", self.as_str())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Code {
    /// The code for `text`: a published one without an allocation.
    fn from_text(text: Cow<'_, str>) -> Self {
        [
            Self::SUCCESS,
            Self::PARTIAL_PAYMENT,
            Self::PROCESSING,
            Self::FAILED,
            Self::SYSTEM_ERROR,
            Self::SYSTEM_EXCEPTION,
        ]
        .into_iter()
        .find(|known| known.as_str() == text)
        .unwrap_or_else(|| Self::new(text.into_owned()))
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(deserializer)? {
            Scalar::Text(text) => Ok(Self::from_text(text)),
            Scalar::Number(number) => Ok(Self::new(number.to_string())),
            Scalar::Null | Scalar::Bool(_) | Scalar::Other => Err(de::Error::custom(
                FieldMarker::message("code", "must be a string or a number"),
            )),
        }
    }
}

/// The business status of an application (`authenticationStatus`).
///
/// `"0"` pending, `"1"` under review, `"2"` approved, `"3"` rejected. Any other value is kept
/// as [`AuthenticationStatus::Unknown`] (**policy**: a new status is data, not an error); it
/// is not final, so the caller keeps polling. Decoded from a string or a number.
///
/// # Examples
///
/// ```
/// use kyc_proto::AuthenticationStatus;
///
/// let status: AuthenticationStatus = serde_json::from_str("2")?;
/// assert_eq!(status, AuthenticationStatus::Approved);
/// assert!(status.is_final());
/// assert_eq!(status.as_str(), "2");
/// assert_eq!(AuthenticationStatus::from_wire("9"), AuthenticationStatus::Unknown("9".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthenticationStatus {
    /// `0`: submitted, waiting for authentication.
    Pending,
    /// `1`: being reviewed.
    UnderReview,
    /// `2`: approved; the user may go on to the provider's deposit and VA APIs.
    Approved,
    /// `3`: rejected; final for this application, a new one must be submitted.
    Rejected,
    /// Any other value, kept as received.
    Unknown(String),
}

impl AuthenticationStatus {
    /// The status for a wire value.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::AuthenticationStatus;
    ///
    /// assert_eq!(AuthenticationStatus::from_wire("1"), AuthenticationStatus::UnderReview);
    /// ```
    #[must_use]
    pub fn from_wire(text: &str) -> Self {
        match text {
            "0" => Self::Pending,
            "1" => Self::UnderReview,
            "2" => Self::Approved,
            "3" => Self::Rejected,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire value (`"0"`..`"3"`, or the unknown value as received).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::AuthenticationStatus::Rejected.as_str(), "3");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "0",
            Self::UnderReview => "1",
            Self::Approved => "2",
            Self::Rejected => "3",
            Self::Unknown(other) => other,
        }
    }

    /// Whether the status will not change any more: approved or rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::AuthenticationStatus;
    ///
    /// assert!(AuthenticationStatus::Rejected.is_final());
    /// assert!(!AuthenticationStatus::UnderReview.is_final());
    /// assert!(!AuthenticationStatus::Unknown("7".into()).is_final());
    /// ```
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Approved | Self::Rejected)
    }

    /// Whether the user was approved.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kyc_proto::AuthenticationStatus::Approved.is_approved());
    /// ```
    #[must_use]
    pub fn is_approved(&self) -> bool {
        matches!(self, Self::Approved)
    }
}

/// Words for people: `pending`, `under review`, `approved`, `rejected`, `unknown (…)`.
impl fmt::Display for AuthenticationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pending => f.write_str("pending"),
            Self::UnderReview => f.write_str("under review"),
            Self::Approved => f.write_str("approved"),
            Self::Rejected => f.write_str("rejected"),
            Self::Unknown(other) => write!(f, "unknown ({other:?})"),
        }
    }
}

impl Serialize for AuthenticationStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthenticationStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(deserializer)? {
            Scalar::Text(text) => Ok(Self::from_wire(&text)),
            Scalar::Number(number) => Ok(Self::from_wire(&number.to_string())),
            Scalar::Null | Scalar::Bool(_) | Scalar::Other => Err(de::Error::custom(
                FieldMarker::message("authenticationStatus", "must be a string or a number"),
            )),
        }
    }
}

/// `data` of the apply response: `userId`, `authenticationStatus`, `message`, and any other
/// field kept in [`ApplyData::extra`].
///
/// # Examples
///
/// ```
/// use kyc_proto::{ApplyData, AuthenticationStatus};
///
/// let data: ApplyData = serde_json::from_str(
///     r#"{"userId":"abc_100008","authenticationStatus":"0","message":"submitted","new":1}"#,
/// )?;
/// assert_eq!(data.user_id(), Some("abc_100008"));
/// assert_eq!(data.authentication_status(), &AuthenticationStatus::Pending);
/// assert_eq!(data.extra()["new"], 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    authentication_status: AuthenticationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl ApplyData {
    /// Apply data for `user_id` with `status` (the sandbox's side).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyData, AuthenticationStatus};
    ///
    /// let data = ApplyData::new("abc_100008", AuthenticationStatus::Pending).with_message("submitted");
    /// assert_eq!(
    ///     serde_json::to_string(&data)?,
    ///     r#"{"userId":"abc_100008","authenticationStatus":"0","message":"submitted"}"#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(user_id: impl Into<String>, status: AuthenticationStatus) -> Self {
        Self {
            user_id: Some(user_id.into()),
            authentication_status: status,
            message: None,
            extra: Map::new(),
        }
    }

    /// Sets `message`.
    ///
    /// # Examples
    ///
    /// See [`ApplyData::new`].
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Adds a field outside the documented ones (ignored if it names a documented one).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyData, AuthenticationStatus};
    ///
    /// let data = ApplyData::new("u", AuthenticationStatus::Pending).with_extra("x", 1.into());
    /// assert_eq!(data.extra()["x"], 1);
    /// ```
    #[must_use]
    pub fn with_extra(mut self, name: impl Into<String>, value: Value) -> Self {
        let name = name.into();
        if !matches!(name.as_str(), "userId" | "authenticationStatus" | "message") {
            self.extra.insert(name, value);
        }
        self
    }

    /// The user id echoed by the provider (documented as present; kept optional to be
    /// tolerant).
    ///
    /// # Examples
    ///
    /// See [`ApplyData`].
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The business status: only reachable after [`Response::api_result`] said the request was
    /// accepted.
    ///
    /// # Examples
    ///
    /// See [`ApplyData`].
    #[must_use]
    pub fn authentication_status(&self) -> &AuthenticationStatus {
        &self.authentication_status
    }

    /// The provider's message.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{ApplyData, AuthenticationStatus};
    ///
    /// assert_eq!(ApplyData::new("u", AuthenticationStatus::Pending).message(), None);
    /// ```
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Fields the documentation does not list, kept as received.
    ///
    /// # Examples
    ///
    /// See [`ApplyData`].
    #[must_use]
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

/// Extra values may be personal data: `Debug` shows their names only.
impl fmt::Debug for ApplyData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyData")
            .field("user_id", &self.user_id)
            .field("authentication_status", &self.authentication_status)
            .field("message", &self.message)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// `data` of the status query response: `authenticationStatus`, and on some regions `userId`,
/// `message`, `failReason` (personal data, redacted in `Debug`), `kycNumber`,
/// `authenticationUrl`; anything else kept in [`StatusData::extra`].
///
/// # Examples
///
/// ```
/// use kyc_proto::{AuthenticationStatus, StatusData};
///
/// let data: StatusData = serde_json::from_str(
///     r#"{"userId":"u1","authenticationStatus":3,"failReason":"blurred photo","kycNumber":"K1"}"#,
/// )?;
/// assert_eq!(data.authentication_status(), &AuthenticationStatus::Rejected);
/// assert_eq!(data.fail_reason(), Some("blurred photo"));
/// assert_eq!(data.kyc_number(), Some("K1"));
/// assert!(!format!("{data:?}").contains("blurred"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    authentication_status: AuthenticationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fail_reason: Option<Sensitive<String>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl StatusData {
    /// Status data with `status` only (the sandbox's side).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{AuthenticationStatus, StatusData};
    ///
    /// let data = StatusData::new(AuthenticationStatus::Rejected)
    ///     .with_user_id("u1")
    ///     .with_fail_reason("blurred photo");
    /// assert_eq!(
    ///     serde_json::to_string(&data)?,
    ///     r#"{"userId":"u1","authenticationStatus":"3","failReason":"blurred photo"}"#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(status: AuthenticationStatus) -> Self {
        Self {
            user_id: None,
            authentication_status: status,
            message: None,
            fail_reason: None,
            extra: Map::new(),
        }
    }

    /// Sets `userId`.
    ///
    /// # Examples
    ///
    /// See [`StatusData::new`].
    #[must_use]
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets `message`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{AuthenticationStatus, StatusData};
    ///
    /// let data = StatusData::new(AuthenticationStatus::Pending).with_message("waiting");
    /// assert_eq!(data.message(), Some("waiting"));
    /// ```
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets `failReason`.
    ///
    /// # Examples
    ///
    /// See [`StatusData::new`].
    #[must_use]
    pub fn with_fail_reason(mut self, reason: impl Into<String>) -> Self {
        self.fail_reason = Some(Sensitive::new(reason.into()));
        self
    }

    /// Adds a field outside the core ones, such as `kycNumber` or `authenticationUrl`
    /// (ignored if it names a core one).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{AuthenticationStatus, StatusData};
    ///
    /// let data = StatusData::new(AuthenticationStatus::Pending)
    ///     .with_extra("authenticationUrl", "https://kyc.example/u1".into());
    /// assert_eq!(data.authentication_url(), Some("https://kyc.example/u1"));
    /// ```
    #[must_use]
    pub fn with_extra(mut self, name: impl Into<String>, value: Value) -> Self {
        let name = name.into();
        if !matches!(
            name.as_str(),
            "userId" | "authenticationStatus" | "message" | "failReason"
        ) {
            self.extra.insert(name, value);
        }
        self
    }

    /// The user id, when the region sends it.
    ///
    /// # Examples
    ///
    /// See [`StatusData`].
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The business status.
    ///
    /// # Examples
    ///
    /// See [`StatusData`].
    #[must_use]
    pub fn authentication_status(&self) -> &AuthenticationStatus {
        &self.authentication_status
    }

    /// The provider's message.
    ///
    /// # Examples
    ///
    /// See [`StatusData::with_message`].
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Why the application was rejected (personal data: do not log).
    ///
    /// # Examples
    ///
    /// See [`StatusData`].
    #[must_use]
    pub fn fail_reason(&self) -> Option<&str> {
        self.fail_reason
            .as_ref()
            .map(|reason| reason.expose().as_str())
    }

    /// `kycNumber`, when sent as a string.
    ///
    /// # Examples
    ///
    /// See [`StatusData`].
    #[must_use]
    pub fn kyc_number(&self) -> Option<&str> {
        self.extra.get("kycNumber").and_then(Value::as_str)
    }

    /// `authenticationUrl`, when sent as a string.
    ///
    /// # Examples
    ///
    /// See [`StatusData::with_extra`].
    #[must_use]
    pub fn authentication_url(&self) -> Option<&str> {
        self.extra.get("authenticationUrl").and_then(Value::as_str)
    }

    /// Fields other than the core ones, kept as received.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{AuthenticationStatus, StatusData};
    ///
    /// assert!(StatusData::new(AuthenticationStatus::Pending).extra().is_empty());
    /// ```
    #[must_use]
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

/// `failReason` and extra values may be personal data: redacted, extra names only.
impl fmt::Debug for StatusData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusData")
            .field("user_id", &self.user_id)
            .field("authentication_status", &self.authentication_status)
            .field("message", &self.message)
            .field("fail_reason", &self.fail_reason)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

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
    timestamp: Option<WireTimestamp>,
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

#[derive(Clone, Debug, PartialEq)]
struct WireTimestamp {
    text: String,
    is_number: bool,
}

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
    ///
    /// # Examples
    ///
    /// See [`Response::accepted`].
    #[must_use]
    pub fn with_data(mut self, data: T) -> Self {
        self.data = Some(data);
        self.undecoded_data = None;
        self
    }

    /// Sets `timestamp`, sent as a JSON string (the documented form).
    ///
    /// # Examples
    ///
    /// See [`Response::new`].
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(WireTimestamp {
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
        self.timestamp = Some(WireTimestamp {
            text: timestamp.to_string(),
            is_number: true,
        });
        self
    }

    /// Sets or removes `success` (to build inconsistent answers in tests).
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
    ///
    /// # Examples
    ///
    /// See [`Response::new`].
    #[must_use]
    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// `code`: the API layer's result code.
    ///
    /// # Examples
    ///
    /// See [`Response`].
    #[must_use]
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// `timestamp` as text, whether it came as a string or a number.
    ///
    /// # Examples
    ///
    /// See [`Response`].
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
    ///
    /// # Examples
    ///
    /// See [`Response::with_extra`].
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
        // The common answer decodes in one pass: UTF-8 checked once for the whole body, and
        // `data` decoded as `T` in place. Anything else (error data of another shape, bad
        // UTF-8, any refusal) takes the general path, which gives the same result or the
        // precise error.
        if let Ok(text) = std::str::from_utf8(body) {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            if let Ok(response) = deserializer
                .deserialize_map(EnvelopeVisitor::<T>::direct())
                .and_then(|response| deserializer.end().map(|()| response))
            {
                return Ok(response);
            }
        }
        serde_json::from_slice(body).map_err(DecodeError::json)
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
        deserializer.deserialize_map(EnvelopeVisitor {
            direct: false,
            data: PhantomData,
        })
    }
}

struct EnvelopeVisitor<T> {
    /// Decodes `data` as `T` in place, failing when it is not one (even on a failure code,
    /// whose data may have any shape): the fast path of [`Response::from_slice`]. Otherwise
    /// `data` is kept as text first, so that error data of another shape is kept.
    direct: bool,
    data: PhantomData<T>,
}

impl<T> EnvelopeVisitor<T> {
    fn direct() -> Self {
        Self {
            direct: true,
            data: PhantomData,
        }
    }
}

impl<'de, T: DeserializeOwned> de::Visitor<'de> for EnvelopeVisitor<T> {
    type Value = Response<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Response<T>, A::Error> {
        fn fail<E: de::Error>(field: &'static str, rule: &'static str) -> E {
            E::custom(FieldMarker::message(field, rule))
        }
        const TWICE: &str = "is given more than once";
        let mut msg: Option<String> = None;
        let mut code: Option<Code> = None;
        let mut timestamp: Option<Option<WireTimestamp>> = None;
        let mut success: Option<Option<bool>> = None;
        let mut data: Option<Box<RawValue>> = None;
        let mut direct: Option<Option<T>> = None;
        let mut extra = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "msg" => {
                    if msg.is_some() {
                        return Err(fail("msg", TWICE));
                    }
                    msg = Some(match map.next_value::<Scalar<'_>>()? {
                        Scalar::Text(text) => text.into_owned(),
                        Scalar::Null => String::new(),
                        _ => return Err(fail("msg", "must be a string")),
                    });
                }
                "code" => {
                    if code.is_some() {
                        return Err(fail("code", TWICE));
                    }
                    code = Some(map.next_value::<Code>()?);
                }
                "timestamp" => {
                    if timestamp.is_some() {
                        return Err(fail("timestamp", TWICE));
                    }
                    timestamp = Some(match map.next_value::<Scalar<'_>>()? {
                        Scalar::Text(text) => Some(WireTimestamp {
                            text: text.into_owned(),
                            is_number: false,
                        }),
                        Scalar::Number(number) => Some(WireTimestamp {
                            text: number.to_string(),
                            is_number: true,
                        }),
                        Scalar::Null => None,
                        _ => return Err(fail("timestamp", "must be a string or a number")),
                    });
                }
                "success" => {
                    if success.is_some() {
                        return Err(fail("success", TWICE));
                    }
                    success = Some(match map.next_value::<Scalar<'_>>()? {
                        Scalar::Bool(flag) => Some(flag),
                        Scalar::Text(text) if text == "true" => Some(true),
                        Scalar::Text(text) if text == "false" => Some(false),
                        Scalar::Null => None,
                        _ => {
                            return Err(fail("success", "must be a boolean or \"true\"/\"false\""));
                        }
                    });
                }
                "data" => {
                    if data.is_some() || direct.is_some() {
                        return Err(fail("data", TWICE));
                    }
                    if self.direct {
                        direct = Some(map.next_value::<Option<T>>()?);
                        continue;
                    }
                    // Kept as text and decoded below, so that `T`'s own rules (a repeated name
                    // is an error) apply to the text, not to an already de-duplicated map.
                    data = Some(map.next_value::<Box<RawValue>>()?);
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    extra.insert(key.into_owned(), value);
                }
            }
        }
        let code = code.ok_or_else(|| fail("code", "is missing"))?;
        let (data, undecoded_data) = match data {
            _ if self.direct => (direct.flatten(), None),
            None => (None, None),
            Some(raw) if raw.get() == "null" => (None, None),
            Some(raw) => match serde_json::from_str::<T>(raw.get()) {
                Ok(decoded) => (Some(decoded), None),
                Err(_) if !code.is_success() => {
                    let value = serde_json::from_str::<Value>(raw.get())
                        .map_err(|_| fail("data", "does not match the documented shape"))?;
                    (None, Some(value))
                }
                Err(_) => return Err(fail("data", "does not match the documented shape")),
            },
        };
        Ok(Response {
            msg: msg.unwrap_or_default(),
            code,
            timestamp: timestamp.flatten(),
            success: success.flatten(),
            data,
            undecoded_data,
            extra,
        })
    }
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
    ///
    /// # Examples
    ///
    /// See [`ApiFailure`].
    #[must_use]
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// The provider's `msg`.
    ///
    /// # Examples
    ///
    /// See [`ApiFailure`].
    #[must_use]
    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// Whether retrying the same request may succeed (`8000`, `5000`).
    ///
    /// # Examples
    ///
    /// See [`ApiFailure`].
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

/// One JSON scalar, for the lenient fields; objects and arrays become `Other`.
/// Text is borrowed from the input when it holds no escape.
pub(crate) enum Scalar<'de> {
    Null,
    Bool(bool),
    Text(Cow<'de, str>),
    Number(Number),
    Other,
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Number::from_f64(v).map_or(Scalar::Other, Scalar::Number))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Text(Cow::Owned(v)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar::Other)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Stores the first value of a field; a second is an error, not a silent choice.
fn once<T, E: de::Error>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

/// Keeps a field no example shows; a repeated name is an error, as for the known fields.
fn keep_extra<E: de::Error>(
    extra: &mut Map<String, Value>,
    name: Cow<'_, str>,
    value: Value,
) -> Result<(), E> {
    if extra.contains_key(&*name) {
        return Err(E::custom("a field is given more than once"));
    }
    extra.insert(name.into_owned(), value);
    Ok(())
}

/// The fields `ApplyData` and `StatusData` share, gathered from a `data` object.
#[derive(Default)]
struct DataFields {
    user_id: Option<Option<String>>,
    status: Option<AuthenticationStatus>,
    message: Option<Option<String>>,
    extra: Map<String, Value>,
}

impl DataFields {
    /// Takes the value of `key`: a shared field, or an extra one.
    fn take<'de, A: MapAccess<'de>>(
        &mut self,
        key: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match &*key {
            "userId" => once(&mut self.user_id, "userId", map.next_value()?),
            "authenticationStatus" => {
                once(&mut self.status, "authenticationStatus", map.next_value()?)
            }
            "message" => once(&mut self.message, "message", map.next_value()?),
            _ => keep_extra(&mut self.extra, key, map.next_value()?),
        }
    }

    fn status<E: de::Error>(&mut self) -> Result<AuthenticationStatus, E> {
        self.status
            .take()
            .ok_or_else(|| de::Error::missing_field("authenticationStatus"))
    }
}

impl<'de> Deserialize<'de> for ApplyData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = ApplyData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the apply data object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ApplyData, A::Error> {
                let mut fields = DataFields::default();
                while let Some(Key(key)) = map.next_key()? {
                    fields.take(key, &mut map)?;
                }
                Ok(ApplyData {
                    authentication_status: fields.status()?,
                    user_id: fields.user_id.flatten(),
                    message: fields.message.flatten(),
                    extra: fields.extra,
                })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl<'de> Deserialize<'de> for StatusData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = StatusData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the status data object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StatusData, A::Error> {
                let mut fields = DataFields::default();
                let mut fail_reason = None;
                while let Some(Key(key)) = map.next_key()? {
                    if key == "failReason" {
                        once(&mut fail_reason, "failReason", map.next_value()?)?;
                    } else {
                        fields.take(key, &mut map)?;
                    }
                }
                Ok(StatusData {
                    authentication_status: fields.status()?,
                    user_id: fields.user_id.flatten(),
                    message: fields.message.flatten(),
                    fail_reason: fail_reason.flatten(),
                    extra: fields.extra,
                })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
