//! The status query request (`kycStatusQuery`): `{"sign","timestamp","userId"}`, all strings.

use std::fmt;

use kyc_sign::SigningKey;
use serde::{Deserialize, Serialize};

use crate::signing::{sign_fields, verify_fields};
use crate::{DecodeError, Timestamp, UserId, names};

/// A signed status query for one user.
///
/// # Examples
///
/// ```
/// use kyc_proto::{StatusQuery, Timestamp, UserId};
/// use kyc_sign::SigningKey;
///
/// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
/// let query = StatusQuery::new(UserId::new("jp_user_100008")?, Timestamp::from_millis(1_732_988_442_913), &key);
/// assert_eq!(
///     query.to_json(),
///     br#"{"sign":"0627c01fe85ccf7fc838ad3ccb0f3de9","timestamp":"1732988442913","userId":"jp_user_100008"}"#
/// );
///
/// // The sandbox's side:
/// let received = StatusQuery::from_json(&query.to_json())?;
/// received.verify(&key)?;
/// assert_eq!(received.user_id().as_str(), "jp_user_100008");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct StatusQuery {
    sign: String,
    timestamp: Timestamp,
    #[serde(rename = "userId")]
    user_id: UserId,
}

/// The strict wire shape: all three fields, all strings, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    sign: String,
    timestamp: String,
    #[serde(rename = "userId")]
    user_id: String,
}

impl StatusQuery {
    /// Signs a query for `user_id` at `timestamp`.
    #[must_use]
    pub fn new(user_id: UserId, timestamp: Timestamp, key: &SigningKey) -> Self {
        let millis = timestamp.to_string();
        let signature = sign_fields(
            [
                (names::TIMESTAMP, millis.as_str()),
                (names::USER_ID, user_id.as_str()),
            ],
            key,
        )
        .expect("two distinct field names cannot collide");
        Self {
            sign: signature.to_hex(),
            timestamp,
            user_id,
        }
    }

    /// Decodes a received query body (the sandbox's side). Strict, so that a client bug shows:
    /// exactly `sign`, `timestamp` and `userId`, each a JSON string, `timestamp` all digits,
    /// `userId` per [`UserId`]'s rule. The signature is not checked here: call
    /// [`StatusQuery::verify`].
    ///
    /// # Errors
    ///
    /// [`DecodeError`] for any other shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::StatusQuery;
    ///
    /// let err = StatusQuery::from_json(br#"{"sign":"x","timestamp":1,"userId":"u"}"#).unwrap_err();
    /// assert!(!err.is_syntax());
    /// ```
    pub fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
        let wire: Wire = serde_json::from_slice(body).map_err(DecodeError::json)?;
        // The timestamp text must be the canonical digits, because it is what was signed.
        let timestamp = Timestamp::parse(&wire.timestamp).map_err(DecodeError::invalid)?;
        if timestamp.to_string() != wire.timestamp {
            return Err(DecodeError::for_field(
                names::TIMESTAMP,
                "must not have leading zeros",
            ));
        }
        Ok(Self {
            sign: wire.sign,
            timestamp,
            user_id: UserId::new(wire.user_id).map_err(DecodeError::invalid)?,
        })
    }

    /// Checks `sign` against `timestamp` and `userId`, in constant time.
    ///
    /// # Errors
    ///
    /// [`kyc_sign::Error::Mismatch`] or [`kyc_sign::Error::MalformedSignature`].
    pub fn verify(&self, key: &SigningKey) -> Result<(), kyc_sign::Error> {
        let millis = self.timestamp.to_string();
        verify_fields(
            [
                (names::TIMESTAMP, millis.as_str()),
                (names::USER_ID, self.user_id.as_str()),
            ],
            &self.sign,
            key,
        )
    }

    /// The user the query is about.
    #[must_use]
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// When the query was signed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_proto::{StatusQuery, Timestamp, UserId};
    /// # let key = kyc_sign::SigningKey::new("k")?;
    /// let query = StatusQuery::new(UserId::new("u")?, Timestamp::from_millis(5), &key);
    /// assert_eq!(query.timestamp(), Timestamp::from_millis(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The signature text, as computed or as received (unchecked until [`Self::verify`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use kyc_proto::{StatusQuery, Timestamp, UserId};
    /// # let key = kyc_sign::SigningKey::new("k")?;
    /// let query = StatusQuery::new(UserId::new("u")?, Timestamp::from_millis(5), &key);
    /// assert_eq!(query.sign().len(), 32);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn sign(&self) -> &str {
        &self.sign
    }

    /// The body: `{"sign":"…","timestamp":"…","userId":"…"}`, all JSON strings.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("three string fields always serialise")
    }
}

/// Signatures stay out of logs.
impl fmt::Debug for StatusQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusQuery")
            .field("sign", &"<redacted>")
            .field("timestamp", &self.timestamp)
            .field("user_id", &self.user_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_json_is_strict() {
        for body in [
            &br#"{"sign":"x","timestamp":"01","userId":"u"}"#[..],
            br#"{"sign":"x","timestamp":"1","userId":"u","extra":"1"}"#,
            br#"{"sign":"x","timestamp":"1"}"#,
            br#"{"sign":"x","timestamp":"1","userId":"a b"}"#,
            br#"{"sign":1,"timestamp":"1","userId":"u"}"#,
        ] {
            assert!(StatusQuery::from_json(body).is_err());
        }
    }

    #[test]
    fn tampered_query_fails_verification() {
        let key = SigningKey::new("TEST_SECRET_DO_NOT_USE").unwrap();
        let body = br#"{"sign":"0627c01fe85ccf7fc838ad3ccb0f3de9","timestamp":"1732988442913","userId":"jp_user_100009"}"#;
        let query = StatusQuery::from_json(body).unwrap();
        assert_eq!(query.verify(&key), Err(kyc_sign::Error::Mismatch));
        assert!(!format!("{query:?}").contains("0627"));
    }
}
