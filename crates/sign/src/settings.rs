//! How a family member of the signature differs from the KYC provider's rule.

use std::borrow::Cow;

use crate::Error;

/// The knobs that distinguish one API's signature rule from another's.
///
/// `Settings::default()` (also available as the `const` [`Settings::new`]) is the KYC
/// provider's rule: empty values skipped, `sign` excluded, no pair separator, the secret
/// appended as-is, lowercase hex. Other integrations change what differs with the `with_*`
/// methods; the struct is `#[non_exhaustive]` so that new knobs can be added without breaking
/// them.
///
/// # Examples
///
/// A "pairs joined with `&`, secret appended as `&key=…`, upper-case hex" API:
///
/// ```
/// use kyc_sign::{HexCase, SecretSuffix, Settings};
///
/// let settings = Settings::default()
///     .with_pair_separator("&")
///     .with_secret_suffix(SecretSuffix::template("&key={secret}")?)
///     .with_hex_case(HexCase::Upper);
/// assert_eq!(settings.pair_separator, "&");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Whether fields with an empty value take part in the signature.
    pub empty_values: EmptyValues,
    /// Field names that never take part (the signature field itself, by default `sign`).
    pub excluded_names: Cow<'static, [Cow<'static, str>]>,
    /// Text written between two `name=value` pairs (none by default).
    pub pair_separator: Cow<'static, str>,
    /// How the secret is appended to the joined pairs.
    pub secret_suffix: SecretSuffix,
    /// Case of the hexadecimal signature.
    pub hex_case: HexCase,
}

const DEFAULT_EXCLUDED: &[Cow<'static, str>] = &[Cow::Borrowed("sign")];

impl Settings {
    /// The KYC provider's rule, usable in `const` and `static` items.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::Settings;
    ///
    /// static PROVIDER: Settings = Settings::new();
    /// assert_eq!(PROVIDER, Settings::default());
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            empty_values: EmptyValues::Skip,
            excluded_names: Cow::Borrowed(DEFAULT_EXCLUDED),
            pair_separator: Cow::Borrowed(""),
            secret_suffix: SecretSuffix::Append,
            hex_case: HexCase::Lower,
        }
    }

    /// Sets whether empty values are skipped or signed.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{EmptyValues, Settings};
    ///
    /// let settings = Settings::default().with_empty_values(EmptyValues::Include);
    /// assert_eq!(settings.empty_values, EmptyValues::Include);
    /// ```
    #[must_use]
    pub fn with_empty_values(mut self, empty_values: EmptyValues) -> Self {
        self.empty_values = empty_values;
        self
    }

    /// Replaces the list of names that never take part in the signature.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::Settings;
    ///
    /// let settings = Settings::default().with_excluded_names(["sign", "sign_type"]);
    /// assert_eq!(settings.excluded_names.len(), 2);
    /// ```
    #[must_use]
    pub fn with_excluded_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.excluded_names = Cow::Owned(names.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the text written between two `name=value` pairs.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::Settings;
    ///
    /// let settings = Settings::default().with_pair_separator("&");
    /// assert_eq!(settings.pair_separator, "&");
    /// ```
    #[must_use]
    pub fn with_pair_separator(mut self, separator: impl Into<Cow<'static, str>>) -> Self {
        self.pair_separator = separator.into();
        self
    }

    /// Sets how the secret is appended.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{SecretSuffix, Settings};
    ///
    /// let settings = Settings::default().with_secret_suffix(SecretSuffix::template("&key={secret}")?);
    /// assert_ne!(settings, Settings::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_secret_suffix(mut self, suffix: SecretSuffix) -> Self {
        self.secret_suffix = suffix;
        self
    }

    /// Sets the case of the hexadecimal signature.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{HexCase, Settings};
    ///
    /// let settings = Settings::default().with_hex_case(HexCase::Upper);
    /// assert_eq!(settings.hex_case, HexCase::Upper);
    /// ```
    #[must_use]
    pub fn with_hex_case(mut self, case: HexCase) -> Self {
        self.hex_case = case;
        self
    }

    pub(crate) fn is_excluded(&self, name: &str) -> bool {
        self.excluded_names.iter().any(|excluded| excluded == name)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether fields with an empty value take part in the signature.
///
/// The provider's pages disagree ("all fields" on one, "all non-empty fields" on the others);
/// the KYC client never sends an empty field, so both readings give the same text, and the
/// default skips them.
///
/// # Examples
///
/// ```
/// use kyc_sign::EmptyValues;
///
/// assert_eq!(EmptyValues::default(), EmptyValues::Skip);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmptyValues {
    /// A field whose value is `""` is left out of the signed text.
    #[default]
    Skip,
    /// A field whose value is `""` is signed as `name=`.
    Include,
}

/// Case of the hexadecimal signature.
///
/// # Examples
///
/// ```
/// use kyc_sign::HexCase;
///
/// assert_eq!(HexCase::default(), HexCase::Lower);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HexCase {
    /// `0-9a-f`, the KYC provider's form.
    #[default]
    Lower,
    /// `0-9A-F`.
    Upper,
}

/// How the secret is appended to the joined `name=value` pairs.
///
/// # Examples
///
/// ```
/// use kyc_sign::SecretSuffix;
///
/// let wrapped = SecretSuffix::template("&key={secret}")?;
/// assert_eq!(
///     wrapped,
///     SecretSuffix::Wrapped { prefix: "&key=".into(), suffix: "".into() }
/// );
/// assert_eq!(SecretSuffix::template("{secret}")?, SecretSuffix::Append);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecretSuffix {
    /// The secret bytes follow the last pair directly (the KYC provider's rule).
    #[default]
    Append,
    /// `prefix`, the secret, then `suffix` follow the last pair.
    Wrapped {
        /// Text written before the secret, such as `&key=`.
        prefix: Cow<'static, str>,
        /// Text written after the secret.
        suffix: Cow<'static, str>,
    },
}

impl SecretSuffix {
    /// The placeholder a template names the secret with.
    pub const PLACEHOLDER: &'static str = "{secret}";

    /// Parses a template such as `&key={secret}`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTemplate`] unless the template holds [`Self::PLACEHOLDER`] exactly once.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::SecretSuffix;
    ///
    /// assert!(SecretSuffix::template("&key=").is_err());
    /// assert!(SecretSuffix::template("{secret}{secret}").is_err());
    /// ```
    pub fn template(template: &str) -> Result<Self, Error> {
        let Some((prefix, suffix)) = template.split_once(Self::PLACEHOLDER) else {
            return Err(Error::InvalidTemplate {
                reason: "the template must contain `{secret}`",
            });
        };
        if suffix.contains(Self::PLACEHOLDER) {
            return Err(Error::InvalidTemplate {
                reason: "the template must contain `{secret}` only once",
            });
        }
        if prefix.is_empty() && suffix.is_empty() {
            return Ok(Self::Append);
        }
        Ok(Self::Wrapped {
            prefix: Cow::Owned(prefix.to_owned()),
            suffix: Cow::Owned(suffix.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_provider_rule() {
        let settings = Settings::default();
        assert_eq!(settings.empty_values, EmptyValues::Skip);
        assert!(settings.is_excluded("sign"));
        assert!(!settings.is_excluded("Sign"));
        assert_eq!(settings.pair_separator, "");
        assert_eq!(settings.secret_suffix, SecretSuffix::Append);
        assert_eq!(settings.hex_case, HexCase::Lower);
    }

    #[test]
    fn template_splits_around_the_placeholder() {
        assert_eq!(
            SecretSuffix::template("[{secret}]").unwrap(),
            SecretSuffix::Wrapped {
                prefix: "[".into(),
                suffix: "]".into()
            }
        );
        assert!(matches!(
            SecretSuffix::template("{secre}"),
            Err(Error::InvalidTemplate { .. })
        ));
    }
}
