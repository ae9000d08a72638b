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
    #[inline]
    pub fn new<I>(fields: I, settings: &'a Settings) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Field<'a>>,
    {
        let mut canonical = Self::empty(settings);
        canonical.fill(fields)?;
        Ok(canonical)
    }

    /// No field yet, to be [`fill`](Self::fill)ed where it is used: returning a `Canonical`
    /// copies its inline fields.
    #[inline]
    pub(crate) const fn empty(settings: &'a Settings) -> Self {
        Self {
            fields: Storage::new(),
            settings,
        }
    }

    /// Takes `fields` in, filters and sorts them; see [`Canonical::new`].
    #[inline]
    pub(crate) fn fill<I>(&mut self, fields: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: Into<Field<'a>>,
    {
        let settings = self.settings;
        let storage = &mut self.fields;
        let excluded = Excluded::new(settings);
        let mut any_empty = false;
        let mut fields = fields.into_iter();
        // The inline slots are filled by a loop of their own, which keeps its state in registers;
        // the field that does not fit moves everything to the heap, where the rest go.
        let mut overflow = None;
        if let Storage::Inline {
            len,
            fields: slots,
            order,
        } = storage
        {
            let mut n = 0;
            for field in fields.by_ref() {
                let field = field.into();
                let key = prefix_key(field.name.as_bytes());
                if excluded.contains(field.name, key) {
                    continue;
                }
                any_empty |= field.value.is_empty();
                let (Some(slot), Some(ordered)) = (slots.get_mut(n), order.get_mut(n)) else {
                    overflow = Some(field);
                    break;
                };
                slot.name = field.name;
                slot.value = field.value;
                *ordered = key | n as u64;
                n += 1;
            }
            *len = n;
        }
        if let Some(field) = overflow {
            let mut spilled = storage.spill(field);
            for field in fields {
                let field = field.into();
                if !excluded.contains(field.name, prefix_key(field.name.as_bytes())) {
                    any_empty |= field.value.is_empty();
                    spilled.push(field);
                }
            }
            *storage = Storage::Heap(spilled);
        }
        // `str`'s order is byte order, which is the provider's rule (section "Signature", step 2).
        if let Some(name) = storage.sort_unique() {
            return Err(Error::DuplicateName {
                name: name.to_owned(),
            });
        }
        if any_empty && settings.empty_values == EmptyValues::Skip {
            storage.retain_non_empty();
        }
        Ok(())
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
        self.fields.iter()
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
        self.fields.len() == 0
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
    /// separator being empty before the first: the definition of the text, shared by `Display`
    /// and the streaming hasher so that what is shown is what is signed. The `=` between name
    /// and value is the caller's to write. (The signer's short path lays the same text out in a
    /// buffer of its own; tests and the `canonical` fuzz target hold the two paths equal.)
    #[inline]
    pub(crate) fn stream<E>(
        &self,
        mut emit: impl FnMut(&str, &str, &str) -> Result<(), E>,
    ) -> Result<(), E> {
        let separator = &*self.settings.pair_separator;
        let mut fields = self.fields.iter();
        if let Some(first) = fields.next() {
            emit("", first.name, first.value)?;
        }
        for field in fields {
            emit(separator, field.name, field.value)?;
        }
        Ok(())
    }
}

impl<'a> Canonical<'a> {
    /// The inline representation, for the signer's short path: the signing order as keys (the
    /// field index is [`key_index`] of each) and the fields they index.
    #[inline]
    pub(crate) fn inline(&self) -> Option<(&[u64], &[Field<'a>; INLINE])> {
        match &self.fields {
            Storage::Inline { len, fields, order } => Some((&order[..*len], fields)),
            Storage::Heap(_) => None,
        }
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
            .field("fields", &DebugList(self))
            .field("settings", self.settings)
            .finish()
    }
}

/// `Debug` of the signed fields in signing order (names and value lengths only).
struct DebugList<'c, 'a>(&'c Canonical<'a>);

impl fmt::Debug for DebugList<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

/// The signed fields, in one of two representations.
///
/// A handful of fields (every request and callback of the KYC API signs at most five) stay
/// inline, in input order, and are sorted through a key per field: the first seven bytes of the
/// name, big-endian, above the field's index. Sorting those integers costs a few instructions
/// per comparison; only names that share their first seven bytes are compared whole. More
/// fields, which only a hostile or unusual peer sends, spill to a sorted `Vec`.
#[derive(Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "the inline variant is the point: no allocation for the usual handful of fields"
)]
enum Storage<'a> {
    Inline {
        /// How many entries of `order` are signed.
        len: usize,
        /// The fields, in input order (slots past the last pushed one are filler).
        fields: [Field<'a>; INLINE],
        /// Signing order: each key is `prefix << 8 | index into fields`.
        order: [u64; INLINE],
    },
    Heap(Vec<Field<'a>>),
}

pub(crate) const INLINE: usize = 6;
const INDEX: u64 = 0xff;

impl<'a> Storage<'a> {
    const fn new() -> Self {
        Self::Inline {
            len: 0,
            fields: [Field::new("", ""); INLINE],
            order: [0; INLINE],
        }
    }

    /// The inline fields (all of them: the inline representation is full) and `field`, as a
    /// list that can grow.
    #[cold]
    fn spill(&self, field: Field<'a>) -> Vec<Field<'a>> {
        let mut vec = Vec::with_capacity(INLINE * 2);
        if let Self::Inline { len, fields, .. } = self {
            vec.extend_from_slice(&fields[..*len]);
        }
        vec.push(field);
        vec
    }

    /// Sorts by name and returns a name that occurs twice, if any.
    #[inline]
    fn sort_unique(&mut self) -> Option<&'a str> {
        match self {
            Self::Inline { len, fields, order } => sort_keys(&mut order[..*len], fields),
            Self::Heap(vec) => {
                vec.sort_unstable_by(|a, b| a.name.cmp(b.name));
                vec.windows(2)
                    .find(|pair| pair[0].name == pair[1].name)
                    .map(|pair| pair[0].name)
            }
        }
    }

    /// Drops the fields whose value is empty, keeping the order of the rest.
    fn retain_non_empty(&mut self) {
        match self {
            Self::Inline { len, fields, order } => {
                let mut kept = 0;
                for read in 0..*len {
                    let key = order[read];
                    if !fields[key_index(key)].value.is_empty() {
                        order[kept] = key;
                        kept += 1;
                    }
                }
                *len = kept;
            }
            Self::Heap(vec) => vec.retain(|field| !field.value.is_empty()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Inline { len, .. } => *len,
            Self::Heap(vec) => vec.len(),
        }
    }

    #[inline]
    fn iter(&self) -> Iter<'_, 'a> {
        match self {
            Self::Inline { len, fields, order } => Iter::Inline {
                order: order[..*len].iter(),
                fields,
            },
            Self::Heap(vec) => Iter::Heap(vec.iter()),
        }
    }
}

/// The signed fields of a [`Storage`], in signing order.
enum Iter<'s, 'a> {
    Inline {
        order: std::slice::Iter<'s, u64>,
        fields: &'s [Field<'a>; INLINE],
    },
    Heap(std::slice::Iter<'s, Field<'a>>),
}

impl<'a> Iterator for Iter<'_, 'a> {
    type Item = Field<'a>;

    #[inline]
    fn next(&mut self) -> Option<Field<'a>> {
        match self {
            Self::Inline { order, fields } => order.next().map(|key| fields[key_index(*key)]),
            Self::Heap(iter) => iter.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = match self {
            Self::Inline { order, .. } => order.len(),
            Self::Heap(iter) => iter.len(),
        };
        (len, Some(len))
    }
}

impl ExactSizeIterator for Iter<'_, '_> {}

/// The names the settings exclude, matched without a call into `memcmp` in the usual case of one
/// name of at most seven bytes (`sign`): names that short are equal when their lengths and
/// [`prefix_key`]s are.
enum Excluded<'s> {
    Short { len: usize, key: u64 },
    Any(&'s Settings),
}

impl<'s> Excluded<'s> {
    #[inline]
    fn new(settings: &'s Settings) -> Self {
        match &*settings.excluded_names {
            [only] if only.len() < 8 => Self::Short {
                len: only.len(),
                key: prefix_key(only.as_bytes()),
            },
            _ => Self::Any(settings),
        }
    }

    #[inline]
    fn contains(&self, name: &str, key: u64) -> bool {
        match *self {
            Self::Short { len, key: excluded } => name.len() == len && key == excluded,
            Self::Any(settings) => settings.is_excluded(name),
        }
    }
}

/// The field index a sort key carries in its low byte.
#[inline]
pub(crate) fn key_index(key: u64) -> usize {
    (key & INDEX) as usize
}

/// The first seven bytes of `name`, zero-padded, big-endian, in the top 56 bits: comparing two
/// keys compares the names' first seven bytes in byte order, and keys that differ order their
/// names exactly as `str::cmp` does. Equal keys say nothing: the names are then compared whole.
#[inline]
fn prefix_key(name: &[u8]) -> u64 {
    let bytes = if let Some(first) = name.first_chunk::<8>() {
        u64::from_be_bytes(*first)
    } else if let (Some(first), Some(last)) = (name.first_chunk::<4>(), name.last_chunk::<4>()) {
        // 4 to 7 bytes: two overlapping loads; the bytes they share are the same in both.
        let shift = 8 * (8 - name.len());
        u64::from(u32::from_be_bytes(*first)) << 32 | u64::from(u32::from_be_bytes(*last)) << shift
    } else {
        name.iter()
            .enumerate()
            .fold(0, |key, (i, byte)| key | u64::from(*byte) << (56 - 8 * i))
    };
    bytes & !INDEX
}

/// The order of two names whose keys tie, out of line: rare, and its call into `memcmp` would
/// otherwise make the sorting loop keep its state on the stack.
#[cold]
#[inline(never)]
fn by_whole_name(fields: &[Field<'_>; INLINE], a: u64, b: u64) -> std::cmp::Ordering {
    fields[key_index(a)].name.cmp(fields[key_index(b)].name)
}

/// Insertion-sorts `order` (keys into `fields`) by name and returns a name that occurs twice.
///
/// Every pair of fields that end up adjacent is compared at some point (an inserted field meets
/// its final neighbours, or a later field is inserted between them and meets both), so a
/// duplicate always shows up as an equal comparison.
fn sort_keys<'a>(order: &mut [u64], fields: &[Field<'a>; INLINE]) -> Option<&'a str> {
    for i in 1..order.len() {
        let key = order[i];
        let mut j = i;
        while j > 0 {
            let previous = order[j - 1];
            let ordering = match (previous | INDEX).cmp(&(key | INDEX)) {
                std::cmp::Ordering::Equal => by_whole_name(fields, previous, key),
                decided => decided,
            };
            match ordering {
                std::cmp::Ordering::Greater => {
                    order[j] = previous;
                    j -= 1;
                }
                std::cmp::Ordering::Equal => return Some(fields[key_index(key)].name),
                std::cmp::Ordering::Less => break,
            }
        }
        order[j] = key;
    }
    None
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

    /// Names that share prefixes of every length around the key's seven bytes, bytes on both
    /// sides of the padding zero, and multi-byte characters.
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
    fn sorting_is_byte_order_inline_and_spilled() {
        // Every window of every size over the names, reversed, so that both representations
        // sort inputs in many orders.
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
    fn a_repeated_name_is_found_in_either_representation() {
        for size in [2, INLINE, INLINE + 1, TRICKY.len()] {
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
    fn distinct_keys_order_names_as_str_does() {
        for a in TRICKY {
            for b in TRICKY {
                let (ka, kb) = (prefix_key(a.as_bytes()), prefix_key(b.as_bytes()));
                assert_eq!(ka & INDEX, 0, "{a:?}");
                if ka != kb {
                    assert_eq!(ka.cmp(&kb), a.cmp(b), "{a:?} vs {b:?}");
                }
            }
        }
        assert_eq!(prefix_key(b"abcdefgX"), prefix_key(b"abcdefgY"));
        assert_eq!(prefix_key(b"userId"), u64::from_be_bytes(*b"userId\0\0"));
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
