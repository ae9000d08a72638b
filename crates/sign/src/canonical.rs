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
        let iter = fields.into_iter();
        let mut sorted: Vec<Field<'a>> = Vec::with_capacity(iter.size_hint().0);
        sorted.extend(
            iter.map(Into::into)
                .filter(|field| !settings.is_excluded(field.name)),
        );
        // `str`'s order is byte order, which is the provider's rule (section "Signature", step 2).
        sorted.sort_unstable_by(|a, b| a.name.cmp(b.name));
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0].name == pair[1].name) {
            return Err(Error::DuplicateName {
                name: pair[0].name.to_owned(),
            });
        }
        if settings.empty_values == EmptyValues::Skip {
            sorted.retain(|field| !field.value.is_empty());
        }
        Ok(Self {
            fields: sorted,
            settings,
        })
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

    /// Feeds the signed text, piece by piece, to `emit`: the single definition of the text,
    /// shared by `Display` and the hasher so that what is shown is what is signed.
    pub(crate) fn stream<E>(&self, mut emit: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
        let separator = &*self.settings.pair_separator;
        for (index, field) in self.fields.iter().enumerate() {
            if index > 0 && !separator.is_empty() {
                emit(separator)?;
            }
            emit(field.name)?;
            emit("=")?;
            emit(field.value)?;
        }
        Ok(())
    }
}

/// Exactly the signed text, without the secret and its prefix or suffix.
impl fmt::Display for Canonical<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.stream(|piece| f.write_str(piece))
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
    fn debug_hides_values() {
        let settings = Settings::default();
        let canonical = Canonical::new(&[("usernameFurigana", "テスト")], &settings).unwrap();
        let debug = format!("{canonical:?}");
        assert!(debug.contains("usernameFurigana"));
        assert!(!debug.contains("テスト"));
    }
}
