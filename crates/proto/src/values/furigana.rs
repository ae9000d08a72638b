//! The user's name in katakana (`usernameFurigana`) and its normaliser.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{ValidationError, ValidationKind, names};

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
    /// or the first character outside the rule, with its position (from 0).
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(text.contains("position 3"), "{text}");
        assert!(text.contains("is not full-width katakana"), "{text}");
        // Neither the value nor the offending character, in any form.
        for shown in [text, format!("{err:?}")] {
            assert!(!shown.contains("ヤマダ"), "{shown}");
            assert!(!shown.contains('太'), "{shown}");
            assert!(
                !shown.contains("592A") && !shown.contains("592a"),
                "{shown}"
            );
        }
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
}
