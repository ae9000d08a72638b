//! The validated values of a request: a value that exists is valid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{ValidationError, ValidationKind, names};

/// The merchant-side user identifier (`userId`).
///
/// Rule (ours: the provider publishes none): 1 to 64 bytes, each printable ASCII other than
/// space (`0x21..=0x7E`). That admits every identifier the provider's examples use
/// (`abc_100008`, `79x7p10nh4xd121m`) and keeps the value safe in a multipart field, a JSON
/// string and a log line. Not personal data by itself, so `Debug` shows it.
///
/// # Examples
///
/// ```
/// use kyc_proto::UserId;
///
/// let id = UserId::new("abc_100008")?;
/// assert_eq!(id.as_str(), "abc_100008");
/// assert!(UserId::new("has space").is_err());
/// assert!(UserId::new("ユーザー").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// The longest identifier accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Checks `value` against the rule above.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `userId`: empty, longer than 64 bytes, or with a character outside
    /// `0x21..=0x7E` (its position is reported).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::UserId;
    ///
    /// assert!(UserId::new(String::from("jp_user_100008")).is_ok());
    /// assert_eq!(UserId::new("a\tb").unwrap_err().position(), Some(1));
    /// ```
    pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        check_user_id(&value)?;
        Ok(Self(value))
    }

    /// The identifier.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::UserId::new("u1")?.as_str(), "u1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The identifier, owned.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::UserId::new("u1")?.into_string(), "u1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

fn check_user_id(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(names::USER_ID, ValidationKind::Empty));
    }
    if let Some((position, found)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| !matches!(c, '\x21'..='\x7e'))
    {
        return Err(ValidationError::invalid_char(
            names::USER_ID,
            position,
            found,
            "printable ASCII other than space",
        ));
    }
    if value.len() > UserId::MAX_LEN {
        return Err(ValidationError::new(
            names::USER_ID,
            ValidationKind::TooLong {
                max: UserId::MAX_LEN,
            },
        ));
    }
    Ok(())
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UserId {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for UserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for UserId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::new(value).map_err(de::Error::custom)
    }
}

/// The URL the provider posts the result to (`callBackUrl`).
///
/// Checked by hand, deliberately small: an absolute `https://` URL (scheme in any case) with a
/// non-empty host, an optional port of 1 to 5 digits up to 65535, then an optional path and
/// query. Every byte is printable ASCII other than space (`0x21..=0x7E`; non-ASCII must be
/// percent-encoded), none of `" < > \ ^ ` { | }`, every `%` starts a `%HH` escape, and there is
/// no fragment (`#`) and no user info (`@` in the authority: credentials would be sent in clear
/// text to the provider). The value is kept exactly as given, because it is signed as given.
/// At most 2048 bytes.
///
/// [`CallbackUrl::new_allow_http`] also accepts `http://`, for local sandboxes.
///
/// # Examples
///
/// ```
/// use kyc_proto::CallbackUrl;
///
/// let url = CallbackUrl::new("https://merchant.example.com/api/kyc/callback")?;
/// assert_eq!(url.as_str(), "https://merchant.example.com/api/kyc/callback");
/// assert!(CallbackUrl::new("http://127.0.0.1:8080/cb").is_err());
/// assert!(CallbackUrl::new_allow_http("http://127.0.0.1:8080/cb").is_ok());
/// assert!(CallbackUrl::new("https://example.com/cb#frag").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallbackUrl(String);

impl CallbackUrl {
    /// The longest URL accepted, in bytes.
    pub const MAX_LEN: usize = 2048;

    /// Checks an `https` URL.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `callBackUrl`, naming the rule that is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::CallbackUrl;
    ///
    /// let err = CallbackUrl::new("https:///path").unwrap_err();
    /// assert_eq!(err.to_string(), "invalid callBackUrl: the URL has no host");
    /// ```
    pub fn new(value: &str) -> Result<Self, ValidationError> {
        check_url(value, false)?;
        Ok(Self(value.to_owned()))
    }

    /// Checks an `https` or plain `http` URL: for sandboxes on a local network only.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `callBackUrl`, naming the rule that is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::CallbackUrl;
    ///
    /// assert!(CallbackUrl::new_allow_http("http://localhost:3000/kyc").is_ok());
    /// assert!(CallbackUrl::new_allow_http("ftp://localhost/kyc").is_err());
    /// ```
    pub fn new_allow_http(value: &str) -> Result<Self, ValidationError> {
        check_url(value, true)?;
        Ok(Self(value.to_owned()))
    }

    /// The URL, exactly as given.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::CallbackUrl::new("HTTPS://a.example")?.as_str(), "HTTPS://a.example");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the URL uses plain `http` (only possible through [`Self::new_allow_http`]).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kyc_proto::CallbackUrl::new_allow_http("http://a.example")?.is_plain_http());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_plain_http(&self) -> bool {
        strip_prefix_ignore_case(&self.0, "http://").is_some()
    }
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

fn check_url(value: &str, allow_http: bool) -> Result<(), ValidationError> {
    let fail = |rule| Err(ValidationError::format(names::CALLBACK_URL, rule));
    if value.is_empty() {
        return Err(ValidationError::new(
            names::CALLBACK_URL,
            ValidationKind::Empty,
        ));
    }
    if let Some((position, found)) = value.chars().enumerate().find(|(_, c)| {
        !matches!(c, '\x21'..='\x7e')
            || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')
    }) {
        return Err(ValidationError::invalid_char(
            names::CALLBACK_URL,
            position,
            found,
            "allowed in a URL (printable ASCII, no space)",
        ));
    }
    if value.len() > CallbackUrl::MAX_LEN {
        return Err(ValidationError::new(
            names::CALLBACK_URL,
            ValidationKind::TooLong {
                max: CallbackUrl::MAX_LEN,
            },
        ));
    }
    let rest = match strip_prefix_ignore_case(value, "https://") {
        Some(rest) => rest,
        None => match strip_prefix_ignore_case(value, "http://") {
            Some(rest) if allow_http => rest,
            Some(_) => return fail("the URL must use https"),
            None if allow_http => return fail("the URL must start with https:// or http://"),
            None => return fail("the URL must start with https://"),
        },
    };
    if value.contains('#') {
        return fail("the URL must not have a fragment");
    }
    let bytes = value.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        if *byte == b'%'
            && !(bytes.get(index + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(index + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return fail("every % must start a %HH escape");
        }
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.contains('@') {
        return fail("the URL must not carry user info");
    }
    let (host, port) = if let Some(after_bracket) = authority.strip_prefix('[') {
        // An IPv6 literal: hex digits, colons and dots (an embedded IPv4) inside brackets.
        let Some(close) = after_bracket.find(']') else {
            return fail("the URL has an unclosed IPv6 literal");
        };
        let literal = &after_bracket[..close];
        if literal.is_empty()
            || !literal
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return fail("the URL has an invalid IPv6 literal");
        }
        let after = &after_bracket[close + 1..];
        match after.strip_prefix(':') {
            Some(port) => (literal, Some(port)),
            None if after.is_empty() => (literal, None),
            None => return fail("the URL has text after its IPv6 literal"),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return fail("the URL has no host");
    }
    if !authority.starts_with('[')
        && (!host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
            || host.starts_with('.')
            || host.contains(".."))
    {
        return fail("the URL host must be letters, digits, '-', '_' and dot-separated labels");
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65_535).contains(&p));
        if !valid {
            return fail("the URL port must be a number from 1 to 65535");
        }
    }
    Ok(())
}

impl fmt::Display for CallbackUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CallbackUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for CallbackUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Deserialises with the strict rule ([`CallbackUrl::new`]): https only.
impl<'de> Deserialize<'de> for CallbackUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::new(&value).map_err(de::Error::custom)
    }
}

/// The user's name in katakana (`usernameFurigana`). Personal data: `Debug` is redacted.
///
/// Rule (ours, from the provider's sandbox example `テスト014`): 1 to 100 characters, each one
/// of full-width katakana `U+30A1..=U+30FA`, the middle dot `・` (U+30FB), the long-vowel mark
/// `ー` (U+30FC), a space (ASCII or the ideographic U+3000), or a digit (ASCII or full-width);
/// not spaces only. Nothing is changed: [`Furigana::new`] rejects, [`Furigana::normalize`] is
/// the explicit way to convert half-width katakana and hiragana first.
///
/// # Examples
///
/// ```
/// use kyc_proto::Furigana;
///
/// let name = Furigana::new("テスト014")?;
/// assert_eq!(name.as_str(), "テスト014");
/// assert_eq!(format!("{name:?}"), "Furigana(<redacted>)");
/// assert_eq!(Furigana::normalize("ﾃｽﾄ ｶﾞｸ")?.as_str(), "テスト ガク");
/// assert_eq!(Furigana::normalize("やまだ・たろう")?.as_str(), "ヤマダ・タロウ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Furigana(String);

/// What [`Furigana`] accepts, for error messages.
const FURIGANA_EXPECTED: &str =
    "full-width katakana, a long-vowel mark, a middle dot, a space or a digit";

impl Furigana {
    /// The longest name accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Checks `value` against the rule above, unchanged.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `usernameFurigana`: empty or blank, longer than 100 characters,
    /// or the first character outside the rule, with its position (from 0) and code point.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::Furigana;
    ///
    /// assert!(Furigana::new("ヤマダ　タロウ").is_ok());
    /// let err = Furigana::new("ﾔﾏﾀﾞ").unwrap_err();
    /// assert_eq!(err.position(), Some(0));
    /// ```
    pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        check_furigana(&value)?;
        Ok(Self(value))
    }

    /// Converts half-width katakana (with their separate voiced marks `ﾞ` and semi-voiced
    /// marks `ﾟ`) and hiragana to full-width katakana, composes combining voiced marks
    /// (U+3099, U+309A, and the spacing ゛ ゜) with the kana before them, then checks the
    /// result like [`Furigana::new`]. Everything else is left alone, so that the error names
    /// the character to fix. Idempotent: normalising a valid value returns it unchanged.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] when the converted text breaks the rule; its position counts the
    /// characters of the converted text.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::Furigana;
    ///
    /// assert_eq!(Furigana::normalize("ﾊﾟﾋﾟﾌﾟ")?.as_str(), "パピプ");
    /// assert_eq!(Furigana::normalize("がっこう")?.as_str(), "ガッコウ");
    /// assert_eq!(Furigana::normalize("テスト014")?.as_str(), "テスト014");
    /// assert!(Furigana::normalize("山田").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn normalize(value: &str) -> Result<Self, ValidationError> {
        let mut out = String::with_capacity(value.len() + value.len() / 2);
        let mut last: Option<char> = None;
        for c in value.chars() {
            let mark = match c {
                '\u{FF9E}' | '\u{3099}' | '\u{309B}' => Some(Mark::Voiced),
                '\u{FF9F}' | '\u{309A}' | '\u{309C}' => Some(Mark::SemiVoiced),
                _ => None,
            };
            if let (Some(mark), Some(base)) = (mark, last) {
                if let Some(composed) = compose(base, mark) {
                    out.pop();
                    out.push(composed);
                    last = Some(composed);
                    continue;
                }
            }
            let converted = widen(c);
            out.push(converted);
            last = Some(converted);
        }
        Self::new(out)
    }

    /// The name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Furigana::new("テスト")?.as_str(), "テスト");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_furigana(value: &str) -> Result<(), ValidationError> {
    if value.chars().all(|c| c == ' ' || c == '\u{3000}') {
        return Err(ValidationError::new(
            names::USERNAME_FURIGANA,
            ValidationKind::Empty,
        ));
    }
    let mut count = 0;
    for (position, c) in value.chars().enumerate() {
        if !is_furigana_char(c) {
            return Err(ValidationError::invalid_char(
                names::USERNAME_FURIGANA,
                position,
                c,
                FURIGANA_EXPECTED,
            ));
        }
        count += 1;
    }
    if count > Furigana::MAX_CHARS {
        return Err(ValidationError::new(
            names::USERNAME_FURIGANA,
            ValidationKind::TooLong {
                max: Furigana::MAX_CHARS,
            },
        ));
    }
    Ok(())
}

fn is_furigana_char(c: char) -> bool {
    matches!(c,
        '\u{30A1}'..='\u{30FA}' // ァ..ヺ
        | '\u{30FB}'            // ・
        | '\u{30FC}'            // ー
        | ' ' | '\u{3000}'
        | '0'..='9' | '\u{FF10}'..='\u{FF19}')
}

#[derive(Clone, Copy)]
enum Mark {
    Voiced,
    SemiVoiced,
}

/// Full-width katakana for U+FF66..=U+FF9D, in code-point order (JIS X 0201 order).
const HALF_WIDTH_KANA: [char; 56] = [
    'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ', 'ー', 'ア', 'イ', 'ウ', 'エ', 'オ',
    'カ', 'キ', 'ク', 'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', 'タ', 'チ', 'ツ', 'テ', 'ト', 'ナ',
    'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ', 'フ', 'ヘ', 'ホ', 'マ', 'ミ', 'ム', 'メ', 'モ', 'ヤ', 'ユ',
    'ヨ', 'ラ', 'リ', 'ル', 'レ', 'ロ', 'ワ', 'ン',
];

/// One character to its full-width katakana form, or itself.
fn widen(c: char) -> char {
    match c {
        '\u{FF65}' => '・',
        '\u{FF66}'..='\u{FF9D}' => HALF_WIDTH_KANA[(u32::from(c) - 0xFF66) as usize],
        // Hiragana ぁ..ゖ sit exactly 0x60 below katakana ァ..ヶ.
        '\u{3041}'..='\u{3096}' => char::from_u32(u32::from(c) + 0x60).unwrap_or(c),
        _ => c,
    }
}

/// A full-width katakana with a voiced or semi-voiced mark, when such a character exists.
fn compose(base: char, mark: Mark) -> Option<char> {
    let code = u32::from(base);
    let offset = match (mark, base) {
        (Mark::Voiced, 'ウ') => 0x30F4 - 0x30A6,
        (Mark::Voiced, 'ワ' | 'ヰ' | 'ヱ' | 'ヲ') => 8,
        // カ..ト and ハ..ホ: the voiced form is the next code point.
        (Mark::Voiced, 'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ')
        | (Mark::Voiced, 'タ' | 'チ' | 'ツ' | 'テ' | 'ト' | 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ') => {
            1
        }
        (Mark::SemiVoiced, 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ') => 2,
        _ => return None,
    };
    char::from_u32(code + offset)
}

impl fmt::Debug for Furigana {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Furigana(<redacted>)")
    }
}

impl AsRef<str> for Furigana {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Furigana {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Deserialises with the strict rule ([`Furigana::new`]), never normalising silently.
impl<'de> Deserialize<'de> for Furigana {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::new(value).map_err(de::Error::custom)
    }
}

/// A point in time as milliseconds since the Unix epoch, the provider's `timestamp`.
///
/// `Display` is the decimal digits, which is what is sent and signed. Serialised as a JSON
/// string (the request bodies' form); deserialised from a string of digits or a non-negative
/// integer. The crate reads no clock: the caller passes the time in.
///
/// # Examples
///
/// ```
/// use kyc_proto::Timestamp;
///
/// let at = Timestamp::from_millis(1_774_925_553_256);
/// assert_eq!(at.to_string(), "1774925553256");
/// assert_eq!(at.as_millis(), 1_774_925_553_256);
/// assert_eq!("1774925553256".parse::<Timestamp>()?, at);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The time `millis` milliseconds after the Unix epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Timestamp::from_millis(5).as_millis(), 5);
    /// ```
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_proto::Timestamp::from_millis(0).as_millis(), 0);
    /// ```
    #[must_use]
    pub const fn as_millis(&self) -> u64 {
        self.0
    }

    /// Parses the wire form: 1 to 20 ASCII digits, no sign, no spaces, that fit in a `u64`.
    ///
    /// # Errors
    ///
    /// [`ValidationError`] for `timestamp` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::Timestamp;
    ///
    /// assert_eq!(Timestamp::parse("0017")?.as_millis(), 17);
    /// assert!(Timestamp::parse("1.7e12").is_err());
    /// assert!(Timestamp::parse("+17").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if text.is_empty() {
            return Err(ValidationError::new(
                names::TIMESTAMP,
                ValidationKind::Empty,
            ));
        }
        if let Some((position, found)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(ValidationError::invalid_char(
                names::TIMESTAMP,
                position,
                found,
                "an ASCII digit",
            ));
        }
        text.parse::<u64>().map(Self).map_err(|_| {
            ValidationError::format(names::TIMESTAMP, "the number does not fit in 64 bits")
        })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Timestamp {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<u64> for Timestamp {
    fn from(millis: u64) -> Self {
        Self(millis)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("milliseconds as digits or a non-negative integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                u64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("negative timestamp"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_bounds() {
        assert!(UserId::new("!").is_ok());
        assert!(UserId::new("~".repeat(64)).is_ok());
        assert!(UserId::new("~".repeat(65)).is_err());
        assert_eq!(UserId::new("ab\u{7f}").unwrap_err().position(), Some(2));
        // A non-ASCII character is reported by character position, not byte offset.
        assert_eq!(UserId::new("éa b").unwrap_err().position(), Some(0));
    }

    #[test]
    fn url_rules() {
        let ok = [
            "https://merchant.example.com/api/kyc/callback",
            "https://a.example:8443/cb?x=1&y=%2F",
            "https://[::1]:8443/cb",
            "HTTPS://A.EXAMPLE",
            "https://host_with_underscore.example/",
        ];
        for url in ok {
            assert!(CallbackUrl::new(url).is_ok(), "{url}");
        }
        let bad = [
            "",
            "merchant.example.com/cb",
            "http://merchant.example.com/cb",
            "https://",
            "https://:443/cb",
            "https://user:pw@merchant.example.com/cb",
            "https://merchant.example.com/c b",
            "https://merchant.example.com/cb#x",
            "https://merchant.example.com:0/cb",
            "https://merchant.example.com:65536/cb",
            "https://merchant.example.com:/cb",
            "https://merchant.example.com/%zz",
            "https://merchant.example.com/%4",
            "https://merchant..example.com/",
            "https://[::1/cb",
            "https://[]/cb",
            "https://[::1]x/cb",
            "https://例え.jp/cb",
            "https://a.example/{x}",
            "javascript:alert(1)",
        ];
        for url in bad {
            assert!(CallbackUrl::new(url).is_err(), "{url}");
        }
        let long = format!("https://a.example/{}", "x".repeat(2048));
        assert!(CallbackUrl::new(&long).is_err());
    }

    #[test]
    fn furigana_accepts_the_documented_set() {
        for value in [
            "テスト014",
            "ヤマダ　タロウ",
            "ジョン・スミス",
            "ヴァー",
            "１２３ア",
            "ァヺ",
        ] {
            assert!(Furigana::new(value).is_ok(), "{value}");
        }
        for value in ["", "   ", "　", "テスト!", "ｱ", "あ", "ヽ", "a"] {
            assert!(Furigana::new(value).is_err(), "{value}");
        }
        assert!(Furigana::new("ア".repeat(100)).is_ok());
        assert!(Furigana::new("ア".repeat(101)).is_err());
    }

    #[test]
    fn furigana_error_names_position_not_value() {
        let err = Furigana::new("ヤマダ太郎").unwrap_err();
        assert_eq!(err.position(), Some(3));
        let text = err.to_string();
        assert!(text.contains("U+592A"), "{text}");
        assert!(!text.contains("ヤマダ"), "{text}");
    }

    #[test]
    fn normalize_covers_every_half_width_kana() {
        for code in 0xFF65..=0xFF9D_u32 {
            let c = char::from_u32(code).unwrap();
            let normalized = Furigana::normalize(&c.to_string()).unwrap();
            assert_eq!(Furigana::new(normalized.as_str()).unwrap(), normalized);
        }
        assert_eq!(
            Furigana::normalize("ｳﾞｧｲｵﾘﾝ").unwrap().as_str(),
            "ヴァイオリン"
        );
        assert_eq!(Furigana::normalize("ﾜﾞ").unwrap().as_str(), "ヷ");
        assert_eq!(Furigana::normalize("ｶ\u{3099}").unwrap().as_str(), "ガ");
        assert_eq!(Furigana::normalize("は゜").unwrap().as_str(), "パ");
        // A mark with nothing to compose with stays, and is reported.
        assert_eq!(Furigana::normalize("ｱﾞ").unwrap_err().position(), Some(1));
        assert_eq!(Furigana::normalize("ﾞ").unwrap_err().position(), Some(0));
    }

    #[test]
    fn normalize_every_hiragana() {
        for code in 0x3041..=0x3096_u32 {
            let c = char::from_u32(code).unwrap();
            let normalized = Furigana::normalize(&c.to_string()).unwrap();
            assert_eq!(
                u32::from(normalized.as_str().chars().next().unwrap()),
                code + 0x60
            );
        }
    }

    #[test]
    fn timestamp_parse_bounds() {
        assert_eq!(
            Timestamp::parse("18446744073709551615")
                .unwrap()
                .as_millis(),
            u64::MAX
        );
        assert!(Timestamp::parse("18446744073709551616").is_err());
        assert!(Timestamp::parse("").is_err());
        assert!(Timestamp::parse("-1").is_err());
        assert!(Timestamp::parse("１").is_err());
    }
}
