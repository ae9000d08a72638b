//! The crate's three errors, one per concern: building a request ([`ValidationError`]), reading
//! a response or request body ([`DecodeError`]) and checking a callback ([`CallbackError`]).
//!
//! None of them prints a value it was given, nor any character of it: a value may be personal
//! data. At most they name the field, the rule and the position of the offending character.

use std::fmt;

/// A value that breaks the rule of the field it was meant for.
///
/// `Display` names the field and the rule, never the value.
///
/// # Examples
///
/// ```
/// use kyc_proto::Furigana;
///
/// let err = Furigana::new("テすト").unwrap_err();
/// assert_eq!(err.field(), "usernameFurigana");
/// assert_eq!(err.position(), Some(1));
/// assert_eq!(
///     err.to_string(),
///     "invalid usernameFurigana: the character at position 1 is not full-width katakana, \
///      a long-vowel mark, a middle dot, a space or a digit"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationError {
    field: &'static str,
    name: Option<Box<str>>,
    kind: ValidationKind,
}

/// What exactly is wrong, for the caller that wants to branch on it.
///
/// # Examples
///
/// ```
/// use kyc_proto::{UserId, ValidationKind};
///
/// let err = UserId::new("").unwrap_err();
/// assert_eq!(err.kind(), &ValidationKind::Empty);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationKind {
    /// The value is empty (or, for furigana, blank).
    Empty,
    /// The value is longer than the rule allows.
    #[non_exhaustive]
    TooLong {
        /// The limit, in the unit the field's rule counts (bytes or characters).
        max: usize,
    },
    /// A character the rule does not allow.
    #[non_exhaustive]
    InvalidChar {
        /// Its position, counting characters from 0.
        position: usize,
        /// The character itself, for the caller's own checks: `Display` and `Debug` never show
        /// it, since one character of a name is already personal data.
        found: char,
        /// What the rule expects instead.
        expected: &'static str,
    },
    /// The value does not have the required shape (a URL rule, a digit string, ...).
    #[non_exhaustive]
    Format {
        /// The rule that is broken.
        rule: &'static str,
    },
    /// A field name that the 2.0 request already uses (`sign`, `timestamp`, `userId`,
    /// `callBackUrl`, `usernameFurigana`).
    Reserved,
    /// The same field name was given twice.
    Duplicate,
    /// A required field is absent.
    Missing,
}

/// Like a derived `Debug`, with the offending character left out (it may be personal data).
impl fmt::Debug for ValidationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::TooLong { max } => f.debug_struct("TooLong").field("max", max).finish(),
            Self::InvalidChar {
                position, expected, ..
            } => f
                .debug_struct("InvalidChar")
                .field("position", position)
                .field("found", &format_args!("<redacted>"))
                .field("expected", expected)
                .finish(),
            Self::Format { rule } => f.debug_struct("Format").field("rule", rule).finish(),
            Self::Reserved => f.write_str("Reserved"),
            Self::Duplicate => f.write_str("Duplicate"),
            Self::Missing => f.write_str("Missing"),
        }
    }
}

impl ValidationError {
    pub(crate) fn new(field: &'static str, kind: ValidationKind) -> Self {
        Self {
            field,
            name: None,
            kind,
        }
    }

    /// An error about an extra field whose name is only known at run time.
    pub(crate) fn named(field: &'static str, name: &str, kind: ValidationKind) -> Self {
        // Names are not personal data, but they may come from anywhere: keep logs bounded.
        let name: String = name.chars().take(64).collect();
        Self {
            field,
            name: Some(name.into()),
            kind,
        }
    }

    pub(crate) fn invalid_char(
        field: &'static str,
        position: usize,
        found: char,
        expected: &'static str,
    ) -> Self {
        Self::new(
            field,
            ValidationKind::InvalidChar {
                position,
                found,
                expected,
            },
        )
    }

    pub(crate) fn format(field: &'static str, rule: &'static str) -> Self {
        Self::new(field, ValidationKind::Format { rule })
    }

    /// The field: its wire name (`userId`, `callBackUrl`, `usernameFurigana`, `timestamp`), or
    /// `text field` / `file part` for the extra parts of the older form (see [`Self::name`]).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::CallbackUrl::new("ftp://x").unwrap_err().field(), "callBackUrl");
    /// ```
    #[must_use]
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The name of the extra text field or file part at fault (truncated to 64 characters).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{Application, CallbackUrl, Furigana, UserId};
    ///
    /// let application = Application::new(
    ///     UserId::new("abc_100008")?,
    ///     CallbackUrl::new("https://merchant.example.com/kyc")?,
    ///     Furigana::new("テスト014")?,
    /// );
    /// let err = application.with_text_field("sign", "x").unwrap_err();
    /// assert_eq!(err.field(), "text field");
    /// assert_eq!(err.name(), Some("sign"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// What is wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{UserId, ValidationKind};
    ///
    /// let err = UserId::new("a".repeat(65)).unwrap_err();
    /// assert!(matches!(err.kind(), ValidationKind::TooLong { max: 64, .. }));
    /// ```
    #[must_use]
    pub fn kind(&self) -> &ValidationKind {
        &self.kind
    }

    /// The position (in characters, from 0) of the first offending character, when a character
    /// is what is wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::UserId::new("ab c").unwrap_err().position(), Some(2));
    /// ```
    #[must_use]
    pub fn position(&self) -> Option<usize> {
        match self.kind {
            ValidationKind::InvalidChar { position, .. } => Some(position),
            _ => None,
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "invalid {} {name:?}: ", self.field)?,
            None => write!(f, "invalid {}: ", self.field)?,
        }
        match &self.kind {
            ValidationKind::Empty => f.write_str("value is empty"),
            ValidationKind::TooLong { max } => write!(f, "value is longer than {max}"),
            ValidationKind::InvalidChar {
                position, expected, ..
            } => write!(f, "the character at position {position} is not {expected}"),
            ValidationKind::Format { rule } => f.write_str(rule),
            ValidationKind::Reserved => f.write_str("the name is reserved by the 2.0 request"),
            ValidationKind::Duplicate => f.write_str("the name is given more than once"),
            ValidationKind::Missing => f.write_str("the field is missing"),
        }
    }
}

impl std::error::Error for ValidationError {}

/// A body that is not the documented shape: not JSON, not an object, a required field missing
/// or of the wrong type.
///
/// Informative rather than actionable, so it is opaque: [`Self::field`] names the field at
/// fault when there is one, [`Self::line`] and [`Self::column`] place a syntax error.
///
/// `source()` is the `serde_json` error for syntax errors only: serde's messages for type
/// errors can quote a string value, and values may be personal data.
///
/// # Examples
///
/// ```
/// use kyc_proto::ApplyResponse;
///
/// let err = ApplyResponse::from_slice(b"{\"msg\":").unwrap_err();
/// assert!(err.is_syntax());
/// assert_eq!(err.to_string(), "malformed JSON at line 1, column 7");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    kind: DecodeKind,
}

#[derive(Debug)]
enum DecodeKind {
    /// Not JSON at all (syntax or early end); serde's message holds no value.
    Syntax(serde_json::Error),
    /// JSON, but not the documented shape; serde's message dropped (it may quote a value).
    Shape { line: usize, column: usize },
    /// A known field is missing, repeated or of the wrong kind.
    Field {
        field: &'static str,
        rule: &'static str,
    },
    /// A field holds a value its type rejects.
    Invalid(ValidationError),
}

impl DecodeError {
    /// A `serde_json` error, by its category: serde's message is dropped, since for data
    /// errors it can quote a value.
    pub(crate) fn json(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let kind = match err.classify() {
            Category::Syntax | Category::Eof | Category::Io => DecodeKind::Syntax(err),
            Category::Data => DecodeKind::Shape {
                line: err.line(),
                column: err.column(),
            },
        };
        Self { kind }
    }

    pub(crate) fn for_field(field: &'static str, rule: &'static str) -> Self {
        Self {
            kind: DecodeKind::Field { field, rule },
        }
    }

    pub(crate) fn invalid(err: ValidationError) -> Self {
        Self {
            kind: DecodeKind::Invalid(err),
        }
    }

    /// Whether the bytes are not JSON at all (as opposed to JSON of the wrong shape).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::ApplyResponse;
    ///
    /// assert!(ApplyResponse::from_slice(b"nope").unwrap_err().is_syntax());
    /// assert!(!ApplyResponse::from_slice(b"[]").unwrap_err().is_syntax());
    /// ```
    #[must_use]
    pub fn is_syntax(&self) -> bool {
        matches!(self.kind, DecodeKind::Syntax(_))
    }

    /// The field at fault, when one is known.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::ApplyResponse;
    ///
    /// let err = ApplyResponse::from_slice(br#"{"msg":"success"}"#).unwrap_err();
    /// assert_eq!(err.field(), Some("code"));
    /// ```
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match &self.kind {
            DecodeKind::Field { field, .. } => Some(field),
            DecodeKind::Invalid(err) => Some(err.field()),
            DecodeKind::Syntax(_) | DecodeKind::Shape { .. } => None,
        }
    }

    /// The line (from 1) of a syntax or shape error.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = kyc_proto::ApplyResponse::from_slice(b"{\n!").unwrap_err();
    /// assert_eq!(err.line(), Some(2));
    /// ```
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        match &self.kind {
            DecodeKind::Syntax(err) => Some(err.line()),
            DecodeKind::Shape { line, .. } => Some(*line),
            DecodeKind::Field { .. } | DecodeKind::Invalid(_) => None,
        }
    }

    /// The column (from 1) of a syntax or shape error.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = kyc_proto::ApplyResponse::from_slice(b"{!").unwrap_err();
    /// assert_eq!(err.column(), Some(2));
    /// ```
    #[must_use]
    pub fn column(&self) -> Option<usize> {
        match &self.kind {
            DecodeKind::Syntax(err) => Some(err.column()),
            DecodeKind::Shape { column, .. } => Some(*column),
            DecodeKind::Field { .. } | DecodeKind::Invalid(_) => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeKind::Syntax(err) => write!(
                f,
                "malformed JSON at line {}, column {}",
                err.line(),
                err.column()
            ),
            DecodeKind::Shape { line, column } => {
                write!(f, "unexpected JSON shape at line {line}, column {column}")
            }
            DecodeKind::Field { field, rule } => write!(f, "field {field}: {rule}"),
            DecodeKind::Invalid(err) => write!(f, "field {} breaks its rule", err.field()),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            DecodeKind::Syntax(err) => Some(err),
            DecodeKind::Invalid(err) => Some(err),
            DecodeKind::Shape { .. } | DecodeKind::Field { .. } => None,
        }
    }
}

/// Why a callback body was refused. Each variant says how far the check got.
///
/// # Examples
///
/// ```
/// use kyc_proto::{Callback, CallbackError};
/// use kyc_sign::SigningKey;
///
/// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
/// let err = Callback::verify(br#"{"userId":"u1","timestamp":1}"#, &key).unwrap_err();
/// assert!(matches!(err, CallbackError::MissingField { field: "sign", .. }));
/// assert_eq!(err.to_string(), "callback field sign is missing");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum CallbackError {
    /// The body is not a JSON object of scalar fields with distinct names. Nothing was checked.
    MalformedJson(MalformedJson),
    /// A required field is absent (`sign` before the signature check, the others after it).
    #[non_exhaustive]
    MissingField {
        /// The wire name of the missing field.
        field: &'static str,
    },
    /// The signature is malformed or does not match: the payload is not from the provider, or
    /// the secret is wrong. [`CallbackError::is_signature_mismatch`] tells the two apart.
    BadSignature(kyc_sign::Error),
    /// The signature matched, but a field breaks its format: the payload must not be trusted
    /// (the unseparated signing text lets text move between adjacent fields).
    #[non_exhaustive]
    MalformedField {
        /// The field's wire name (a received name is truncated to 64 characters).
        field: Box<str>,
        /// The rule it breaks.
        rule: &'static str,
    },
}

impl CallbackError {
    pub(crate) fn malformed_field(field: &str, rule: &'static str) -> Self {
        Self::MalformedField {
            field: field.chars().take(64).collect::<String>().into(),
            rule,
        }
    }

    /// Whether the signature was well-formed but wrong (as opposed to not 32 hex digits).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::Callback;
    /// use kyc_sign::SigningKey;
    ///
    /// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
    /// let body = br#"{"userId":"u1","authenticationStatus":"2","timestamp":1,"sign":"00000000000000000000000000000000"}"#;
    /// assert!(Callback::verify(body, &key).unwrap_err().is_signature_mismatch());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_signature_mismatch(&self) -> bool {
        matches!(self, Self::BadSignature(kyc_sign::Error::Mismatch))
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedJson(_) => f.write_str("callback body is not a flat JSON object"),
            Self::MissingField { field } => write!(f, "callback field {field} is missing"),
            Self::BadSignature(kyc_sign::Error::Mismatch) => {
                f.write_str("callback signature does not match")
            }
            Self::BadSignature(_) => f.write_str("callback signature is malformed"),
            Self::MalformedField { field, rule } => {
                write!(f, "callback field {field:?} {rule}")
            }
        }
    }
}

impl std::error::Error for CallbackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MalformedJson(inner) => Some(inner),
            Self::BadSignature(inner) => Some(inner),
            Self::MissingField { .. } | Self::MalformedField { .. } => None,
        }
    }
}

/// Why a callback body is not a flat JSON object: a syntax error, another JSON type, a repeated
/// name, or a field that is an object, an array or a boolean.
///
/// # Examples
///
/// ```
/// use kyc_proto::{Callback, CallbackError};
/// use kyc_sign::SigningKey;
///
/// let key = SigningKey::new("TEST_SECRET_DO_NOT_USE")?;
/// let Err(CallbackError::MalformedJson(why)) = Callback::verify(b"{\"a\":1,\"a\":2}", &key) else {
///     panic!("a repeated name is malformed");
/// };
/// assert_eq!(why.to_string(), "field \"a\" is given more than once");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct MalformedJson {
    kind: MalformedJsonKind,
}

#[derive(Debug)]
enum MalformedJsonKind {
    Syntax(serde_json::Error),
    NotAnObject,
    Duplicate(Box<str>),
    NotScalar(Box<str>),
    TooMany,
}

impl MalformedJson {
    pub(crate) fn from_json(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        Self {
            kind: match err.classify() {
                Category::Syntax | Category::Eof | Category::Io => MalformedJsonKind::Syntax(err),
                Category::Data => MalformedJsonKind::NotAnObject,
            },
        }
    }

    pub(crate) fn duplicate(name: &str) -> Self {
        Self {
            kind: MalformedJsonKind::Duplicate(name.chars().take(64).collect::<String>().into()),
        }
    }

    pub(crate) fn too_many() -> Self {
        Self {
            kind: MalformedJsonKind::TooMany,
        }
    }

    pub(crate) fn not_scalar(name: &str) -> Self {
        Self {
            kind: MalformedJsonKind::NotScalar(name.chars().take(64).collect::<String>().into()),
        }
    }
}

impl fmt::Display for MalformedJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            MalformedJsonKind::Syntax(err) => write!(
                f,
                "malformed JSON at line {}, column {}",
                err.line(),
                err.column()
            ),
            MalformedJsonKind::NotAnObject => f.write_str("the body is not a JSON object"),
            MalformedJsonKind::Duplicate(name) => {
                write!(f, "field {name:?} is given more than once")
            }
            MalformedJsonKind::NotScalar(name) => {
                write!(f, "field {name:?} is not a string, a number or null")
            }
            MalformedJsonKind::TooMany => f.write_str("the body has more than 64 fields"),
        }
    }
}

impl std::error::Error for MalformedJson {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            MalformedJsonKind::Syntax(err) => Some(err),
            MalformedJsonKind::NotAnObject
            | MalformedJsonKind::Duplicate(_)
            | MalformedJsonKind::NotScalar(_)
            | MalformedJsonKind::TooMany => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_drop_serde_message_that_may_quote_values() {
        let err = serde_json::from_str::<u64>("\"テスト\"").unwrap_err();
        let decode = DecodeError::json(err);
        assert!(!decode.to_string().contains("テスト"));
        assert!(std::error::Error::source(&decode).is_none());
    }
}
