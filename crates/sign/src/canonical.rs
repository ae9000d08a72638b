//! The sorted, filtered field list whose text is signed.

use std::fmt;

use crate::{EmptyValues, Error, Settings};

/// One `(name, value)` pair, borrowed.
///
/// Built from tuples of anything string-like, so `Canonical::new` takes arrays, slices and
/// vectors of `(&str, &str)`, `(String, String)` and the like.
///
/// # Examples
///
/// ```
/// use kyc_sign::Field;
///
/// let owned = (String::from("userId"), String::from("abc_100008"));
/// let field = Field::from(&owned);
/// assert_eq!(field.name(), "userId");
/// assert_eq!(field.value(), "abc_100008");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Field<'a> {
    name: &'a str,
    value: &'a str,
}

impl<'a> Field<'a> {
    /// A field named `name` holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::Field;
    ///
    /// let field = Field::new("timestamp", "1774925553256");
    /// assert_eq!(field.name(), "timestamp");
    /// ```
    #[must_use]
    pub const fn new(name: &'a str, value: &'a str) -> Self {
        Self { name, value }
    }

    /// The field's name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sign::Field::new("a", "b").name(), "a");
    /// ```
    #[must_use]
    pub const fn name(&self) -> &'a str {
        self.name
    }

    /// The field's value, exactly as given.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sign::Field::new("a", " b ").value(), " b ");
    /// ```
    #[must_use]
    pub const fn value(&self) -> &'a str {
        self.value
    }
}

/// Values may be personal data: `Debug` shows the name and the value's length only.
impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name)
            .field("value_len", &self.value.len())
            .finish()
    }
}

impl<'a> From<(&'a str, &'a str)> for Field<'a> {
    fn from((name, value): (&'a str, &'a str)) -> Self {
        Self::new(name, value)
    }
}

impl<'a, N, V> From<&'a (N, V)> for Field<'a>
where
    N: AsRef<str>,
    V: AsRef<str>,
{
    fn from((name, value): &'a (N, V)) -> Self {
        Self::new(name.as_ref(), value.as_ref())
    }
}

impl<'a> From<&'a Field<'a>> for Field<'a> {
    fn from(field: &'a Field<'a>) -> Self {
        *field
    }
}

/// The fields that are signed, in the order they are signed, with the settings that sign them.
///
/// Its `Display` is exactly the text that is hashed before the secret is appended, so printing
/// it next to the provider's expectation shows where two implementations diverge.
///
/// # Examples
///
/// ```
/// use kyc_sign::{Canonical, Settings};
///
/// let settings = Settings::default();
/// let canonical = Canonical::new(&[("ab", "3"), ("a-b", "2"), ("a", "1"), ("empty", "")], &settings)?;
/// // Names are sorted, not `name=value` strings: "a" < "a-b" < "ab".
/// assert_eq!(canonical.to_string(), "a=1a-b=2ab=3");
/// assert_eq!(canonical.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Canonical<'a> {
    fields: Vec<Field<'a>>,
    settings: &'a Settings,
}

impl<'a> Canonical<'a> {
    /// Filters and sorts `fields` by the rule in `settings`.
    ///
    /// Excluded names (`sign` by default) are dropped; empty values are dropped when
    /// `settings.empty_values` says so; the rest are sorted by name in byte order.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateName`] when two fields that are not excluded share a name (even if one
    /// of them is empty): the signature would otherwise depend on which one the caller meant.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Canonical, Settings};
    ///
    /// let fields = vec![("userId".to_string(), "u".to_string())];
    /// let settings = Settings::default();
    /// let canonical = Canonical::new(&fields, &settings)?;
    /// assert_eq!(canonical.to_string(), "userId=u");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new<I>(fields: I, settings: &'a Settings) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Field<'a>>,
    {
        let mut fields: Vec<Field<'a>> = fields.into_iter().map(Into::into).collect();
        fields.retain(|field| !settings.is_excluded(field.name));
        // Byte order of the names, not of the `name=value` text (the provider's "Signature"
        // section, step 2). Duplicates are looked for before empty values are dropped, so that
        // `("a", "")` next to `("a", "1")` is refused rather than silently resolved.
        fields.sort_unstable_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        if let Some(pair) = fields.windows(2).find(|pair| pair[0].name == pair[1].name) {
            return Err(Error::DuplicateName {
                name: pair[0].name.to_owned(),
            });
        }
        if settings.empty_values == EmptyValues::Skip {
            fields.retain(|field| !field.value.is_empty());
        }
        Ok(Self { fields, settings })
    }

    /// The signed fields, in signing order.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Canonical, Settings};
    ///
    /// let settings = Settings::default();
    /// let canonical = Canonical::new(&[("b", "2"), ("a", "1")], &settings)?;
    /// let names: Vec<_> = canonical.iter().map(|field| field.name()).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Field<'a>> + '_ {
        self.fields.iter().copied()
    }

    /// The number of signed fields.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Canonical, Settings};
    ///
    /// let settings = Settings::default();
    /// assert_eq!(Canonical::new(&[("sign", "x")], &settings)?.len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether no field is signed (the signature then covers the secret alone).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Canonical, Settings};
    ///
    /// let settings = Settings::default();
    /// assert!(Canonical::new(&[("empty", "")], &settings)?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The settings this canonical form was built with, and that sign it.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sign::{Canonical, Settings};
    ///
    /// let settings = Settings::default();
    /// let canonical = Canonical::new(&[("a", "1")], &settings)?;
    /// assert_eq!(canonical.settings(), &Settings::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// The signed text, piece by piece (separator, name, `=`, value for each field). `Display`
    /// and the signer both read it, so what is shown is what is signed.
    pub(crate) fn pieces(&self) -> impl Iterator<Item = &str> + '_ {
        let separator = &*self.settings.pair_separator;
        self.fields.iter().enumerate().flat_map(move |(i, field)| {
            let separator = if i == 0 { "" } else { separator };
            [separator, field.name, "=", field.value]
        })
    }
}

/// Exactly the signed text, without the secret and its prefix or suffix.
impl fmt::Display for Canonical<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces().try_for_each(|piece| f.write_str(piece))
    }
}

/// Values may be personal data: `Debug` lists the names in signing order, not the values.
impl fmt::Debug for Canonical<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Canonical")
            .field("fields", &self.fields)
            .field("settings", self.settings)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_an_error_even_when_one_is_empty() {
        let settings = Settings::default();
        let err = Canonical::new(&[("a", ""), ("a", "1")], &settings).unwrap_err();
        assert_eq!(err, Error::DuplicateName { name: "a".into() });
    }

    #[test]
    fn duplicate_excluded_names_are_dropped_not_reported() {
        let settings = Settings::default();
        let canonical = Canonical::new(&[("sign", "x"), ("sign", "y"), ("a", "1")], &settings)
            .expect("`sign` is excluded before duplicates are looked for");
        assert_eq!(canonical.to_string(), "a=1");
    }

    #[test]
    fn separator_goes_between_pairs_only() {
        let settings = Settings::default().with_pair_separator("&");
        let canonical = Canonical::new(&[("b", "2"), ("a", "1")], &settings).unwrap();
        assert_eq!(canonical.to_string(), "a=1&b=2");
    }

    #[test]
    fn many_fields_sort_in_order() {
        let owned: Vec<(String, String)> = (0..20)
            .rev()
            .map(|i| {
                (
                    format!("f{i:02}"),
                    if i % 3 == 0 {
                        String::new()
                    } else {
                        i.to_string()
                    },
                )
            })
            .collect();
        let settings = Settings::default();
        let canonical = Canonical::new(&owned, &settings).unwrap();
        let names: Vec<_> = canonical.iter().map(|field| field.name()).collect();
        let expected: Vec<String> = (0..20)
            .filter(|i| i % 3 != 0)
            .map(|i| format!("f{i:02}"))
            .collect();
        assert_eq!(names, expected);
    }

    /// Names that share long prefixes, names that differ only by a trailing zero byte, upper
    /// and lower case, and multi-byte characters.
    const TRICKY: [&str; 19] = [
        "",
        "a",
        "a\0",
        "a\0b",
        "a-b",
        "ab",
        "abcdef",
        "abcdefg",
        "abcdefg\0",
        "abcdefgh",
        "abcdefgh\0",
        "abcdefghi",
        "b",
        "UserId",
        "_x",
        "userId",
        "usernameFurigana",
        "テ",
        "ｶ",
    ];

    fn signed_names<'a>(names: &[&'a str]) -> Result<Vec<&'a str>, Error> {
        static SETTINGS: Settings = Settings::new();
        let fields: Vec<Field<'a>> = names.iter().map(|name| Field::new(name, "v")).collect();
        let canonical = Canonical::new(fields, &SETTINGS)?;
        Ok(canonical.iter().map(|field| field.name()).collect())
    }

    #[test]
    fn sorting_is_byte_order() {
        // Every window of every size over the names, reversed: few and many fields, in many
        // orders.
        for size in 1..=TRICKY.len() {
            for start in 0..=TRICKY.len() - size {
                let window: Vec<&str> = TRICKY[start..start + size].iter().rev().copied().collect();
                let mut expected = window.clone();
                expected.sort_unstable();
                assert_eq!(signed_names(&window), Ok(expected), "{window:?}");
            }
        }
    }

    #[test]
    fn a_repeated_name_is_found_among_few_or_many() {
        for size in [2, 6, 7, TRICKY.len()] {
            for (at, repeated) in TRICKY[..size].iter().enumerate() {
                let mut names = TRICKY[..size].to_vec();
                names.insert(at / 2, repeated);
                assert_eq!(
                    signed_names(&names),
                    Err(Error::DuplicateName {
                        name: (*repeated).into()
                    }),
                    "{names:?}"
                );
            }
        }
    }

    #[test]
    fn debug_hides_values() {
        let settings = Settings::default();
        let canonical = Canonical::new(&[("usernameFurigana", "テスト")], &settings).unwrap();
        let debug = format!("{canonical:?}");
        assert!(debug.contains("usernameFurigana"));
        assert!(!debug.contains("テスト"));
    }
}
