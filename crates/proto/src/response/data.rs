//! The `data` of the two responses.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::{AuthenticationStatus, Sensitive};

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
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    authentication_status: AuthenticationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(flatten, deserialize_with = "unique_fields")]
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
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The business status: only reachable after [`Response::api_result`](crate::Response::api_result) said the request was
    /// accepted.
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
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    authentication_status: AuthenticationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fail_reason: Option<Sensitive<String>>,
    #[serde(flatten, deserialize_with = "unique_fields")]
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
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The business status.
    #[must_use]
    pub fn authentication_status(&self) -> &AuthenticationStatus {
        &self.authentication_status
    }

    /// The provider's message.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Why the application was rejected (personal data: do not log).
    #[must_use]
    pub fn fail_reason(&self) -> Option<&str> {
        self.fail_reason
            .as_ref()
            .map(|reason| reason.expose().as_str())
    }

    /// `kycNumber`, when sent as a string.
    #[must_use]
    pub fn kyc_number(&self) -> Option<&str> {
        self.extra.get("kycNumber").and_then(Value::as_str)
    }

    /// `authenticationUrl`, when sent as a string.
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

/// `deserialize_with` helper for `extra`: the fields no example shows, a repeated name refused
/// as derive refuses a repeated known field (a `Map` would keep the last value silently).
fn unique_fields<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Map<String, Value>, D::Error> {
    struct Fields;
    impl<'de> Visitor<'de> for Fields {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = Map::new();
            while let Some((name, value)) = map.next_entry::<String, Value>()? {
                if fields.insert(name, value).is_some() {
                    return Err(de::Error::custom("a field is given more than once"));
                }
            }
            Ok(fields)
        }
    }
    deserializer.deserialize_map(Fields)
}
