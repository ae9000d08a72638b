//! The callback URL (`callBackUrl`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{ValidationError, ValidationKind, names};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
