//! The KYC result callback: verified on receipt, produced by the sandbox.
//!
//! Verification order (the provider signs a callback like a request, every field but `sign`;
//! retries resend the identical body):
//!
//! 1. parse the body as a flat JSON object with distinct names, keeping each number's literal
//!    text (`serde_json::value::RawValue`, so nothing is re-formatted);
//! 2. verify `sign` over every other field, strings unescaped, numbers as spelled, `null` as
//!    empty, with the default settings (empty values skipped);
//! 3. only then check the formats strictly. The signing text `name=value…` has no separator, so
//!    text can move between adjacent fields without changing it: a payload whose signature
//!    matches must still be well-formed to be trusted.

use std::borrow::Cow;
use std::fmt;

use kyc_sign::{Canonical, SigningKey};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::MalformedJson;
use crate::object::{Key, RawObject};
use crate::signing::PROVIDER_SETTINGS;
use crate::{AuthenticationStatus, CallbackError, Sensitive, Timestamp, UserId, names};

/// What the merchant answers after storing a callback: HTTP 200 with exactly this plain text
/// (case-sensitive, no JSON), within 10 seconds; otherwise the provider retries.
///
/// # Examples
///
/// ```
/// assert_eq!(kyc_proto::CALLBACK_ACK.as_bytes(), b"OK");
/// ```
pub const CALLBACK_ACK: &str = "OK";

/// A verified, well-formed KYC result callback.
///
/// **Policy** on status values: `"0"`..`"3"` are the known statuses; any other value of 1 to 9
/// ASCII digits is accepted as [`AuthenticationStatus::Unknown`] (a status the provider adds
/// later is data, and is not final); anything else is [`CallbackError::MalformedField`].
/// `failReason` is optional; an empty or `null` one reads as absent. Fields beyond the
/// documented ones are signed like the others and kept ([`Callback::extra_fields`]). Old
/// timestamps are normal (the provider retries for 24 hours with the same body): receivers
/// deduplicate instead of rejecting them.
///
/// # Examples
///
/// ```
/// use kyc_proto::{AuthenticationStatus, Callback, Timestamp, UserId};
/// use kyc_sign::SigningKey;
///
/// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
/// let body = br#"{"userId":"79x7p10nh4xd121m","authenticationStatus":"3",
///     "failReason":"The file and type do not match","timestamp":1728609277476,
///     "sign":"ca152b32fdd4b654690538c66d1e6718"}"#;
/// let callback = Callback::verify(body, &key)?;
/// assert_eq!(callback.status(), &AuthenticationStatus::Rejected);
/// assert_eq!(callback.timestamp(), Timestamp::from_millis(1_728_609_277_476));
///
/// // The sandbox's side produces the same signature.
/// let produced = Callback::new(
///     UserId::new("79x7p10nh4xd121m")?,
///     AuthenticationStatus::Rejected,
///     Some("The file and type do not match".into()),
///     Timestamp::from_millis(1_728_609_277_476),
/// );
/// assert_eq!(Callback::verify(&produced.to_signed_json(&key), &key)?, callback);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Callback {
    user_id: UserId,
    status: AuthenticationStatus,
    fail_reason: Option<Sensitive<String>>,
    timestamp: Timestamp,
    extra: Vec<(String, Sensitive<String>)>,
}

/// The most fields a callback may have: the documented five plus room for additions. Bounds
/// the work an unauthenticated body can cause.
const MAX_FIELDS: usize = 64;

impl Callback {
    /// Parses, verifies and checks a callback body. See the type's docs for the policy.
    ///
    /// # Errors
    ///
    /// - [`CallbackError::MalformedJson`]: not a flat JSON object with distinct names whose
    ///   values are strings, numbers or `null` (at most 64 fields);
    /// - [`CallbackError::MissingField`]: no `sign` (before the signature check), or no
    ///   `userId`, `authenticationStatus` or `timestamp` (after it);
    /// - [`CallbackError::BadSignature`]: `sign` malformed or not matching;
    /// - [`CallbackError::MalformedField`]: the signature matched but a field breaks its
    ///   format (`sign` not a string, `userId` per [`UserId`], status digits, timestamp
    ///   digits, `failReason` not a string).
    pub fn verify(body: &[u8], key: &SigningKey) -> Result<Self, CallbackError> {
        let RawObject(raw) = serde_json::from_slice(body)
            .map_err(|err| CallbackError::MalformedJson(MalformedJson::from_json(err)))?;
        if raw.len() > MAX_FIELDS {
            return Err(CallbackError::MalformedJson(MalformedJson::too_many()));
        }
        let mut fields: Vec<(Cow<'_, str>, Value<'_>)> = Vec::with_capacity(raw.len());
        for (Key(name), value) in raw {
            if fields.iter().any(|(seen, _)| *seen == name) {
                return Err(CallbackError::MalformedJson(MalformedJson::duplicate(
                    &name,
                )));
            }
            let value = Value::parse(value)
                .ok_or_else(|| CallbackError::MalformedJson(MalformedJson::not_scalar(&name)))?;
            fields.push((name, value));
        }

        // Step 2: the signature, over every field but `sign`, as spelled.
        let sign = match fields.iter().find(|(name, _)| name == names::SIGN) {
            None => {
                return Err(CallbackError::MissingField { field: names::SIGN });
            }
            Some((_, Value::Text(sign))) => &**sign,
            Some(_) => {
                return Err(CallbackError::malformed_field(
                    names::SIGN,
                    "must be a string",
                ));
            }
        };
        let canonical = Canonical::new(
            fields
                .iter()
                .map(|(name, value)| (&**name, value.as_signed_text())),
            &PROVIDER_SETTINGS,
        )
        .map_err(CallbackError::BadSignature)?;
        key.verify(&canonical, sign)
            .map_err(CallbackError::BadSignature)?;

        // Step 3: strict formats.
        let take = |name: &'static str| {
            fields
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, value)| value)
        };
        let required = |name: &'static str| {
            take(name)
                .filter(|value| !matches!(value, Value::Null))
                .ok_or(CallbackError::MissingField { field: name })
        };
        let user_id = match required(names::USER_ID)? {
            Value::Text(text) => UserId::new(&**text).map_err(|_| {
                CallbackError::malformed_field(names::USER_ID, "breaks the userId rule")
            })?,
            _ => {
                return Err(CallbackError::malformed_field(
                    names::USER_ID,
                    "must be a string",
                ));
            }
        };
        let status_text = required(names::AUTHENTICATION_STATUS)?.as_signed_text();
        if !(1..=9).contains(&status_text.len()) || !status_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(CallbackError::malformed_field(
                names::AUTHENTICATION_STATUS,
                "must be 1 to 9 ASCII digits",
            ));
        }
        let status = AuthenticationStatus::from_wire(status_text);
        let timestamp_text = required(names::TIMESTAMP)?.as_signed_text();
        let timestamp = Timestamp::parse(timestamp_text).map_err(|_| {
            CallbackError::malformed_field(names::TIMESTAMP, "must be milliseconds as ASCII digits")
        })?;
        let fail_reason = match take(names::FAIL_REASON) {
            None | Some(Value::Null) => None,
            Some(Value::Text(text)) if text.is_empty() => None,
            Some(Value::Text(text)) => Some(Sensitive::new(text.to_string())),
            Some(Value::Number(_)) => {
                return Err(CallbackError::malformed_field(
                    names::FAIL_REASON,
                    "must be a string",
                ));
            }
        };
        let mut extra = fields
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    &**name,
                    names::SIGN
                        | names::USER_ID
                        | names::AUTHENTICATION_STATUS
                        | names::TIMESTAMP
                        | names::FAIL_REASON
                )
            })
            .map(|(name, value)| {
                (
                    name.to_string(),
                    Sensitive::new(value.as_signed_text().to_owned()),
                )
            })
            .collect::<Vec<_>>();
        // The signed text has no separators, so a name holding `=` (or anything an honest
        // provider would not send) can absorb text from a neighbour while the signature still
        // verifies: `"failReason":"a=b"` resent as `"failReason=a":"b"`. Extra names are held
        // to the identifier rule applications use.
        // Regression: found by kyc-client's security test
        // `extra_field_names_cannot_absorb_a_shifted_boundary`.
        if extra.iter().any(|(name, _)| !is_plain_name(name)) {
            return Err(CallbackError::malformed_field(
                "extra field",
                "names must be 1 to 64 ASCII letters, digits, '_', '-', '.', '[' or ']'",
            ));
        }
        // Sorted by name, the order they are signed in, so that equal callbacks compare equal
        // whatever order the JSON listed them in.
        extra.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self {
            user_id,
            status,
            fail_reason,
            timestamp,
            extra,
        })
    }

    /// A callback to send (the sandbox's side). An empty `fail_reason` is treated as `None`:
    /// empty fields are never sent.
    #[must_use]
    pub fn new(
        user_id: UserId,
        status: AuthenticationStatus,
        fail_reason: Option<String>,
        timestamp: Timestamp,
    ) -> Self {
        Self {
            user_id,
            status,
            fail_reason: fail_reason
                .filter(|reason| !reason.is_empty())
                .map(Sensitive::new),
            timestamp,
            extra: Vec::new(),
        }
    }

    /// The signed body, as the provider sends it: `userId`, `authenticationStatus`,
    /// `failReason` (when there is one), `timestamp` as a JSON number, then `sign`. Extra
    /// fields of a verified callback are sent as strings, after `timestamp`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{AuthenticationStatus, Callback, Timestamp, UserId};
    /// use kyc_sign::SigningKey;
    ///
    /// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let callback = Callback::new(
    ///     UserId::new("79x7p10nh4xd121m")?,
    ///     AuthenticationStatus::Rejected,
    ///     Some("The file and type do not match".into()),
    ///     Timestamp::from_millis(1_728_609_277_476),
    /// );
    /// assert_eq!(
    ///     String::from_utf8(callback.to_signed_json(&key))?,
    ///     r#"{"userId":"79x7p10nh4xd121m","authenticationStatus":"3","failReason":"The file and type do not match","timestamp":1728609277476,"sign":"ca152b32fdd4b654690538c66d1e6718"}"#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_signed_json(&self, key: &SigningKey) -> Vec<u8> {
        let millis = self.timestamp.to_string();
        let mut signed: Vec<(&str, &str)> = vec![
            (names::USER_ID, self.user_id.as_str()),
            (names::AUTHENTICATION_STATUS, self.status.as_str()),
            (names::TIMESTAMP, millis.as_str()),
        ];
        if let Some(reason) = &self.fail_reason {
            signed.push((names::FAIL_REASON, reason.expose()));
        }
        signed.extend(
            self.extra
                .iter()
                .map(|(name, value)| (name.as_str(), value.expose().as_str())),
        );
        let sign = key
            .sign_fields(signed, &PROVIDER_SETTINGS)
            .expect("verified or constructed callbacks have distinct field names")
            .to_hex();

        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "userId")]
            user_id: &'a str,
            #[serde(rename = "authenticationStatus")]
            status: &'a str,
            #[serde(rename = "failReason", skip_serializing_if = "Option::is_none")]
            fail_reason: Option<&'a str>,
            timestamp: u64,
            #[serde(flatten)]
            extra: std::collections::BTreeMap<&'a str, &'a str>,
            sign: &'a str,
        }
        let wire = Wire {
            user_id: self.user_id.as_str(),
            status: self.status.as_str(),
            fail_reason: self.fail_reason.as_ref().map(|r| r.expose().as_str()),
            timestamp: self.timestamp.as_millis(),
            extra: self
                .extra
                .iter()
                .map(|(name, value)| (name.as_str(), value.expose().as_str()))
                .collect(),
            sign: &sign,
        };
        serde_json::to_vec(&wire).expect("string fields and an integer always serialise")
    }

    /// The user the result is about.
    #[must_use]
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The business status.
    #[must_use]
    pub fn status(&self) -> &AuthenticationStatus {
        &self.status
    }

    /// Why the application was rejected (personal data: do not log).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{AuthenticationStatus, Callback, Timestamp, UserId};
    ///
    /// let callback = Callback::new(UserId::new("u")?, AuthenticationStatus::Approved, Some(String::new()), Timestamp::from_millis(1));
    /// assert_eq!(callback.fail_reason(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn fail_reason(&self) -> Option<&str> {
        self.fail_reason
            .as_ref()
            .map(|reason| reason.expose().as_str())
    }

    /// When the provider produced the callback (old values are normal for retries).
    #[must_use]
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// Signed fields beyond the documented ones, with their text (numbers as spelled).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{AuthenticationStatus, Callback, Timestamp, UserId};
    ///
    /// let callback = Callback::new(UserId::new("u")?, AuthenticationStatus::Approved, None, Timestamp::from_millis(1));
    /// assert_eq!(callback.extra_fields().count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extra_fields(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.extra
            .iter()
            .map(|(name, value)| (name.as_str(), value.expose().as_str()))
    }
}

/// `failReason` and extra values are redacted.
impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .field("fail_reason", &self.fail_reason)
            .field("timestamp", &self.timestamp)
            .field(
                "extra",
                &self.extra.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// One scalar field value with the text that is signed.
enum Value<'a> {
    Null,
    /// The unescaped string.
    Text(Cow<'a, str>),
    /// The number's literal text.
    Number(&'a str),
}

impl<'a> Value<'a> {
    fn parse(raw: &'a RawValue) -> Option<Self> {
        let text = raw.get();
        match text.as_bytes().first()? {
            // Without a backslash a string's JSON text is its content between the quotes
            // (serde_json has already checked it); with one, serde_json unescapes it.
            b'"' if !text.contains('\\') => text
                .get(1..text.len() - 1)
                .map(|inner| Self::Text(Cow::Borrowed(inner))),
            b'"' => serde_json::from_str::<String>(text)
                .ok()
                .map(|owned| Self::Text(Cow::Owned(owned))),
            b'-' | b'0'..=b'9' => Some(Self::Number(text)),
            b'n' => Some(Self::Null),
            _ => None,
        }
    }

    /// What the provider signs: strings unescaped, numbers as spelled, `null` as empty (and so
    /// skipped by the default settings, like a missing field).
    fn as_signed_text(&self) -> &str {
        match self {
            Self::Null => "",
            Self::Text(text) => text,
            Self::Number(literal) => literal,
        }
    }
}

/// The names an extra callback field may have.
fn is_plain_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::new("TEST_SECRET_DO_NOT_USE").unwrap()
    }

    #[test]
    fn number_literal_text_is_what_is_signed() {
        // 1.728609277476e12 is the same number, but not the same text: the signature fails.
        let body = br#"{"userId":"79x7p10nh4xd121m","authenticationStatus":"3","failReason":"The file and type do not match","timestamp":1.728609277476e12,"sign":"ca152b32fdd4b654690538c66d1e6718"}"#;
        assert!(
            Callback::verify(body, &key())
                .unwrap_err()
                .is_signature_mismatch()
        );
    }

    #[test]
    fn escaped_strings_are_signed_unescaped() {
        let body = br#"{"userId":"79x7p10nh4xd121m","authenticationStatus":"3","failReason":"The file and type do not \u006datch","timestamp":"1728609277476","sign":"ca152b32fdd4b654690538c66d1e6718"}"#;
        let callback = Callback::verify(body, &key()).unwrap();
        assert_eq!(
            callback.fail_reason(),
            Some("The file and type do not match")
        );
    }

    #[test]
    fn null_fail_reason_is_absent_and_unsigned() {
        let body = br#"{"userId":"79x7p10nh4xd121m","authenticationStatus":"3","failReason":null,"timestamp":1728609277476,"sign":"01eb2048701bfd57899b43d0d46f346d"}"#;
        let callback = Callback::verify(body, &key()).unwrap();
        assert_eq!(callback.fail_reason(), None);
    }

    #[test]
    fn structural_problems_are_malformed_json() {
        for body in [
            &b"[]"[..],
            b"",
            b"{\"a\":{}}",
            b"{\"a\":[1]}",
            b"{\"a\":true}",
            b"{\"a\":1,\"a\":1}",
            b"{\"a\":1",
        ] {
            assert!(matches!(
                Callback::verify(body, &key()),
                Err(CallbackError::MalformedJson(_))
            ));
        }
        let many: String = (0..65).map(|i| format!("\"f{i}\":1,")).collect();
        let body = format!("{{{many}\"sign\":\"x\"}}");
        assert!(matches!(
            Callback::verify(body.as_bytes(), &key()),
            Err(CallbackError::MalformedJson(_))
        ));
    }

    #[test]
    fn debug_and_errors_hold_no_personal_data() {
        let callback = Callback::new(
            UserId::new("u1").unwrap(),
            AuthenticationStatus::Rejected,
            Some("Taro Yamada's licence expired".into()),
            Timestamp::from_millis(1),
        );
        assert!(!format!("{callback:?}").contains("Yamada"));
        let mut body = callback.to_signed_json(&key());
        body.pop(); // no closing brace
        let err = Callback::verify(&body, &key()).unwrap_err();
        assert!(!err.to_string().contains("Yamada"));
    }

    #[test]
    fn extra_fields_are_signed_and_round_trip() {
        let body = br#"{"userId":"u1","authenticationStatus":"2","timestamp":5,"kycNumber":12,"sign":"SIGN"}"#;
        let canonical_text = "authenticationStatus=2kycNumber=12timestamp=5userId=u1";
        let settings = kyc_sign::Settings::default();
        let fields = [
            ("authenticationStatus", "2"),
            ("kycNumber", "12"),
            ("timestamp", "5"),
            ("userId", "u1"),
        ];
        let canonical = Canonical::new(&fields, &settings).unwrap();
        assert_eq!(canonical.to_string(), canonical_text);
        let sign = key().sign(&canonical).to_hex();
        let body = String::from_utf8_lossy(body).replace("SIGN", &sign);
        let callback = Callback::verify(body.as_bytes(), &key()).unwrap();
        assert_eq!(
            callback.extra_fields().collect::<Vec<_>>(),
            [("kycNumber", "12")]
        );
        let again = Callback::verify(&callback.to_signed_json(&key()), &key()).unwrap();
        assert_eq!(again, callback);
    }

    #[test]
    fn an_extra_name_cannot_absorb_a_neighbours_text() {
        // Regression: `"failReason":"a=b"` resent as `"failReason=a":"b"` signs the same text.
        let fields = [
            ("authenticationStatus", "3"),
            ("failReason=a", "b"),
            ("timestamp", "5"),
            ("userId", "u1"),
        ];
        let settings = kyc_sign::Settings::default();
        let canonical = Canonical::new(&fields, &settings).unwrap();
        assert_eq!(
            canonical.to_string(),
            "authenticationStatus=3failReason=a=btimestamp=5userId=u1"
        );
        let sign = key().sign(&canonical).to_hex();
        let body = format!(
            r#"{{"userId":"u1","authenticationStatus":"3","failReason=a":"b","timestamp":5,"sign":"{sign}"}}"#
        );
        let err = Callback::verify(body.as_bytes(), &key()).unwrap_err();
        assert!(
            matches!(&err, CallbackError::MalformedField { field, .. } if &**field == "extra field"),
            "{err:?}"
        );
    }
}
