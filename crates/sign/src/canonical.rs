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
    fields: Storage<'a>,
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
        let mut sorted = Storage::new();
        let mut any_empty = false;
        for field in fields {
            let field = field.into();
            if !settings.is_excluded(field.name) {
                any_empty |= field.value.is_empty();
                sorted.push(field);
            }
        }
        // `str`'s order is byte order, which is the provider's rule (section "Signature", step 2).
        if let Some(name) = sort_unique(sorted.as_mut_slice()) {
            return Err(Error::DuplicateName {
                name: name.to_owned(),
            });
        }
        if any_empty && settings.empty_values == EmptyValues::Skip {
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
        self.fields.as_slice().iter().copied()
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
        self.fields.as_slice().len()
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
        self.fields.as_slice().is_empty()
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

    /// Feeds the signed text to `emit`, one `(separator, name, value)` triple per field, the
    /// separator being empty before the first: the single definition of the text, shared by
    /// `Display` and the hasher so that what is shown is what is signed. The `=` between name
    /// and value is the caller's to write.
    #[inline]
    pub(crate) fn stream<E>(
        &self,
        mut emit: impl FnMut(&str, &str, &str) -> Result<(), E>,
    ) -> Result<(), E> {
        let separator = &*self.settings.pair_separator;
        let mut fields = self.fields.as_slice().iter();
        if let Some(first) = fields.next() {
            emit("", first.name, first.value)?;
        }
        for field in fields {
            emit(separator, field.name, field.value)?;
        }
        Ok(())
    }
}

/// Exactly the signed text, without the secret and its prefix or suffix.
impl fmt::Display for Canonical<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.stream(|separator, name, value| {
            f.write_str(separator)?;
            f.write_str(name)?;
            f.write_str("=")?;
            f.write_str(value)
        })
    }
}

/// Values may be personal data: `Debug` lists the names in signing order, not the values.
impl fmt::Debug for Canonical<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Canonical")
            .field("fields", &self.fields.as_slice())
            .field("settings", self.settings)
            .finish()
    }
}

/// Sorts `fields` by name and returns a name that occurs twice, if any.
///
/// A handful of fields (every request and callback of the KYC API) take an insertion sort that
/// finds duplicates as it goes: every pair of fields that end up adjacent is compared at some
/// point (an inserted field meets its final neighbours, or a later field is inserted between
/// them and meets both), so a duplicate always shows up as an equal comparison. Longer lists,
/// which only a hostile peer sends, take an `O(n log n)` sort and a scan.
fn sort_unique<'a>(fields: &mut [Field<'a>]) -> Option<&'a str> {
    const INSERTION: usize = 16;
    if fields.len() > INSERTION {
        fields.sort_unstable_by(|a, b| by_name(a.name, b.name));
        return fields
            .windows(2)
            .find(|pair| pair[0].name == pair[1].name)
            .map(|pair| pair[0].name);
    }
    for i in 1..fields.len() {
        let field = fields[i];
        let mut j = i;
        while j > 0 {
            match by_name(fields[j - 1].name, field.name) {
                std::cmp::Ordering::Greater => {
                    fields[j] = fields[j - 1];
                    j -= 1;
                }
                std::cmp::Ordering::Equal => return Some(field.name),
                std::cmp::Ordering::Less => break,
            }
        }
        fields[j] = field;
    }
    None
}

/// Byte order of names, deciding on the first byte when it differs (as it does for most names
/// of a request) before comparing whole names: the same order as `str::cmp`, with fewer calls.
#[inline]
fn by_name(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match (a.first(), b.first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.cmp(b),
    }
}

/// Field references, kept inline while they are few (every request and callback of the KYC API
/// signs at most five), so that building a `Canonical` does not allocate; more spill to the heap.
#[derive(Clone)]
enum Storage<'a> {
    Inline {
        len: usize,
        items: [Field<'a>; INLINE],
    },
    Heap(Vec<Field<'a>>),
}

const INLINE: usize = 6;

impl<'a> Storage<'a> {
    const fn new() -> Self {
        Self::Inline {
            len: 0,
            items: [Field::new("", ""); INLINE],
        }
    }

    #[cold]
    fn spill(items: &[Field<'a>], field: Field<'a>) -> Self {
        let mut vec = Vec::with_capacity(INLINE * 2);
        vec.extend_from_slice(items);
        vec.push(field);
        Self::Heap(vec)
    }

    fn as_slice(&self) -> &[Field<'a>] {
        match self {
            Self::Inline { len, items } => &items[..*len],
            Self::Heap(vec) => vec,
        }
    }

    #[inline]
    fn as_mut_slice(&mut self) -> &mut [Field<'a>] {
        match self {
            Self::Inline { len, items } => &mut items[..*len],
            Self::Heap(vec) => vec,
        }
    }

    #[inline]
    fn push(&mut self, field: Field<'a>) {
        match self {
            Self::Inline { len, items } if *len < INLINE => {
                items[*len] = field;
                *len += 1;
            }
            Self::Inline { items, .. } => *self = Self::spill(items, field),
            Self::Heap(vec) => vec.push(field),
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&Field<'a>) -> bool) {
        match self {
            Self::Inline { len, items } => {
                let mut kept = 0;
                for read in 0..*len {
                    if keep(&items[read]) {
                        items[kept] = items[read];
                        kept += 1;
                    }
                }
                *len = kept;
            }
            Self::Heap(vec) => vec.retain(keep),
        }
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
    fn many_fields_spill_to_the_heap_in_order() {
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

    #[test]
    fn sorting_is_byte_order_and_finds_duplicates() {
        let names = [
            "",
            "a",
            "a\0",
            "a\0b",
            "a-b",
            "ab",
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
        let mut fields: Vec<Field<'_>> = names.iter().rev().map(|n| Field::new(n, "v")).collect();
        assert_eq!(sort_unique(&mut fields), None);
        let mut expected = names.to_vec();
        expected.sort_unstable();
        let sorted: Vec<&str> = fields.iter().map(Field::name).collect();
        assert_eq!(sorted, expected);
        for (i, name) in names.iter().enumerate() {
            let mut fields: Vec<Field<'_>> = names[..8.min(names.len())]
                .iter()
                .chain([name])
                .map(|n| Field::new(n, "v"))
                .collect();
            let found = sort_unique(&mut fields);
            assert_eq!(found.is_some(), i < 8, "{name:?}");
        }
    }

    #[test]
    fn by_name_is_byte_order() {
        let names = [
            "", "a", "a-b", "ab", "b", "UserId", "_x", "userId", "テ", "ｶ",
        ];
        for a in names {
            for b in names {
                assert_eq!(by_name(a, b), a.cmp(b), "{a:?} vs {b:?}");
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
