//! The sandbox's own refusal codes.

use std::fmt;

/// Why the sandbox refused a request: the `code` of its `success: false` envelope.
///
/// The provider publishes no code for these cases (its pages document the envelope, not a
/// table of refusal codes), so the sandbox uses its own, all of the form `S1xx`. They cannot
/// collide with the provider's codes, which are all digits (`0000`, `0001`, `0015`, `00029`, `5000`, `8000`). Every refusal
/// answers with the HTTP status in the table and the envelope
/// `{"msg": "...", "code": "S1xx", "timestamp": "<ms>", "success": false, "data": null}`,
/// whose `msg` names the field or rule at fault, never a value.
///
/// | code | HTTP | meaning |
/// |---|---|---|
/// | `S100` | 404 | no such endpoint under the base path |
/// | `S101` | 401 | `merchantNo` header missing, repeated, or not a configured merchant |
/// | `S102` | 400 | `sign` field missing or empty |
/// | `S103` | 401 | `sign` malformed (not 32 hex digits) or wrong |
/// | `S104` | 400 | a required field is missing or empty (`msg` names it) |
/// | `S105` | 400 | a field breaks its rule: `userId`, `callBackUrl`, a non-string JSON value |
/// | `S106` | 400 | `usernameFurigana` is not katakana |
/// | `S107` | 400 | `timestamp` outside the freshness window around the sandbox's clock |
/// | `S108` | 400 | `timestamp` is not a number of milliseconds |
/// | `S109` | 415 | wrong `Content-Type` (apply: `multipart/form-data` with a boundary; status: `application/json`) |
/// | `S110` | 411 | a body of unannounced length (`Transfer-Encoding: chunked`, or HTTP/2 without `content-length`) |
/// | `S111` | 413 | the body is larger than the limit |
/// | `S112` | 400 | the body does not parse (malformed or truncated multipart, a malformed part header, bad JSON, not UTF-8) |
/// | `S113` | 400 | more fields than the limit |
/// | `S114` | 400 | a field longer than the limit |
/// | `S115` | 400 | the same field twice |
/// | `S116` | 404 | status query for a `userId` that never applied (with this merchant) |
/// | `S117` | 405 | wrong method |
/// | `S118` | 408 | the body did not arrive within the body read timeout |
///
/// The checks run in this order, and the first that fails answers: path, method, merchant,
/// content type, announced length, body read, parse and limits (count, length, duplicates),
/// `sign` present, the other required fields present, `sign` valid, `timestamp` numeric and
/// fresh, field rules (`userId`, `callBackUrl`, `usernameFurigana`), then the application's
/// scenario (see [`Scenario`](crate::Scenario)).
///
/// # Examples
///
/// ```
/// use kyc_sandbox::RefusalCode;
///
/// let code = RefusalCode::BadSign;
/// assert_eq!(code.as_str(), "S103");
/// assert_eq!(code.http_status(), 401);
/// assert_eq!(RefusalCode::from_code("S103"), Some(code));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalCode {
    /// `S100`: no such endpoint.
    NotFound,
    /// `S101`: missing, repeated or unknown `merchantNo` header.
    UnknownMerchant,
    /// `S102`: missing `sign`.
    MissingSign,
    /// `S103`: malformed or wrong `sign`.
    BadSign,
    /// `S104`: a required field is missing or empty.
    MissingField,
    /// `S105`: a field breaks its rule.
    InvalidField,
    /// `S106`: `usernameFurigana` is not katakana.
    BadFurigana,
    /// `S107`: `timestamp` outside the freshness window.
    StaleTimestamp,
    /// `S108`: `timestamp` is not a number.
    BadTimestamp,
    /// `S109`: wrong content type.
    WrongContentType,
    /// `S110`: a body of unannounced length (chunked).
    LengthRequired,
    /// `S111`: body too large.
    BodyTooLarge,
    /// `S112`: the body does not parse.
    MalformedBody,
    /// `S113`: too many fields.
    TooManyFields,
    /// `S114`: a field is too long.
    FieldTooLong,
    /// `S115`: a field is repeated.
    DuplicateField,
    /// `S116`: status query for an unknown `userId`.
    UnknownUser,
    /// `S117`: wrong method.
    MethodNotAllowed,
    /// `S118`: the body was too slow to arrive.
    BodyTimeout,
}

impl RefusalCode {
    /// Every code, in table order.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::RefusalCode;
    ///
    /// assert!(RefusalCode::ALL.iter().all(|code| code.as_str().starts_with('S')));
    /// ```
    pub const ALL: [Self; 19] = [
        Self::NotFound,
        Self::UnknownMerchant,
        Self::MissingSign,
        Self::BadSign,
        Self::MissingField,
        Self::InvalidField,
        Self::BadFurigana,
        Self::StaleTimestamp,
        Self::BadTimestamp,
        Self::WrongContentType,
        Self::LengthRequired,
        Self::BodyTooLarge,
        Self::MalformedBody,
        Self::TooManyFields,
        Self::FieldTooLong,
        Self::DuplicateField,
        Self::UnknownUser,
        Self::MethodNotAllowed,
        Self::BodyTimeout,
    ];

    /// The code as it appears in the envelope.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::RefusalCode::UnknownMerchant.as_str(), "S101");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "S100",
            Self::UnknownMerchant => "S101",
            Self::MissingSign => "S102",
            Self::BadSign => "S103",
            Self::MissingField => "S104",
            Self::InvalidField => "S105",
            Self::BadFurigana => "S106",
            Self::StaleTimestamp => "S107",
            Self::BadTimestamp => "S108",
            Self::WrongContentType => "S109",
            Self::LengthRequired => "S110",
            Self::BodyTooLarge => "S111",
            Self::MalformedBody => "S112",
            Self::TooManyFields => "S113",
            Self::FieldTooLong => "S114",
            Self::DuplicateField => "S115",
            Self::UnknownUser => "S116",
            Self::MethodNotAllowed => "S117",
            Self::BodyTimeout => "S118",
        }
    }

    /// The HTTP status the refusal is sent with.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::RefusalCode::BodyTooLarge.http_status(), 413);
    /// ```
    #[must_use]
    pub const fn http_status(self) -> u16 {
        match self {
            Self::NotFound | Self::UnknownUser => 404,
            Self::UnknownMerchant | Self::BadSign => 401,
            Self::WrongContentType => 415,
            Self::LengthRequired => 411,
            Self::BodyTooLarge => 413,
            Self::MethodNotAllowed => 405,
            Self::BodyTimeout => 408,
            Self::MissingSign
            | Self::MissingField
            | Self::InvalidField
            | Self::BadFurigana
            | Self::StaleTimestamp
            | Self::BadTimestamp
            | Self::MalformedBody
            | Self::TooManyFields
            | Self::FieldTooLong
            | Self::DuplicateField => 400,
        }
    }

    /// A short description: the start of the envelope's `msg`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::RefusalCode::BadSign.description(), "bad signature");
    /// ```
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::NotFound => "no such endpoint",
            Self::UnknownMerchant => "unknown merchant",
            Self::MissingSign => "missing signature",
            Self::BadSign => "bad signature",
            Self::MissingField => "missing field",
            Self::InvalidField => "invalid field",
            Self::BadFurigana => "invalid usernameFurigana",
            Self::StaleTimestamp => "stale timestamp",
            Self::BadTimestamp => "timestamp is not a number of milliseconds",
            Self::WrongContentType => "wrong content type",
            Self::LengthRequired => "content-length required (chunked bodies are refused)",
            Self::BodyTooLarge => "body too large",
            Self::MalformedBody => "malformed body",
            Self::TooManyFields => "too many fields",
            Self::FieldTooLong => "field too long",
            Self::DuplicateField => "duplicate field",
            Self::UnknownUser => "unknown userId",
            Self::MethodNotAllowed => "method not allowed",
            Self::BodyTimeout => "body read timed out",
        }
    }

    /// The code with this envelope spelling, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::RefusalCode;
    ///
    /// assert_eq!(RefusalCode::from_code("S118"), Some(RefusalCode::BodyTimeout));
    /// assert_eq!(RefusalCode::from_code("8000"), None);
    /// ```
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|candidate| candidate.as_str() == code)
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.as_str(), self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_never_provider_codes() {
        let provider = ["0000", "0001", "0015", "00029", "8000", "5000"];
        for (i, a) in RefusalCode::ALL.iter().enumerate() {
            assert!(!provider.contains(&a.as_str()));
            assert_eq!(RefusalCode::from_code(a.as_str()), Some(*a));
            assert!((400..500).contains(&a.http_status()));
            for b in &RefusalCode::ALL[i + 1..] {
                assert_ne!(a.as_str(), b.as_str());
            }
        }
    }
}
