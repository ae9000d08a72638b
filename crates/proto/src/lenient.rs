//! What the tolerant scalars of a response accept beyond their documented JSON type
//! (**policy**, see the crate docs): `code`, `timestamp` and `authenticationStatus` as a string
//! or a number, `success` as a boolean or `"true"`/`"false"`.
//!
//! The helpers read any JSON value and return [`Lenient::Broken`] for a type the field does not
//! take, rather than a serde error: `serde_json`'s errors carry their cause as text only, and
//! the caller that knows the field's name turns `Broken` into a typed error naming the field and
//! the rule.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::DecodeError;

/// The rule of the fields that take a string or a number.
pub(crate) const STRING_OR_NUMBER: &str = "must be a string or a number";

/// A tolerant field as received.
#[derive(Default)]
pub(crate) enum Lenient<T> {
    /// Not in the object (the field's `#[serde(default)]`).
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value of a JSON type the field takes.
    Value(T),
    /// A value of another JSON type, and the rule it breaks.
    Broken(&'static str),
}

impl<T> Lenient<T> {
    /// The value of an optional field: `None` when absent or `null`.
    pub(crate) fn optional(self, field: &'static str) -> Result<Option<T>, DecodeError> {
        match self {
            Self::Absent | Self::Null => Ok(None),
            Self::Value(value) => Ok(Some(value)),
            Self::Broken(rule) => Err(DecodeError::for_field(field, rule)),
        }
    }
}

/// A JSON string, or a JSON number's text as `serde_json` prints it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Text {
    pub(crate) text: String,
    pub(crate) is_number: bool,
}

/// `deserialize_with` helper: a string, or a number's text.
pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Lenient<Text>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => Lenient::Null,
        Value::String(text) => Lenient::Value(Text {
            text,
            is_number: false,
        }),
        Value::Number(number) => Lenient::Value(Text {
            text: number.to_string(),
            is_number: true,
        }),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => Lenient::Broken(STRING_OR_NUMBER),
    })
}

/// `deserialize_with` helper: a boolean, or the string `"true"` or `"false"`.
pub(crate) fn bool_or_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Lenient<bool>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => Lenient::Null,
        Value::Bool(flag) => Lenient::Value(flag),
        Value::String(text) if text == "true" => Lenient::Value(true),
        Value::String(text) if text == "false" => Lenient::Value(false),
        Value::String(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => {
            Lenient::Broken("must be a boolean or \"true\"/\"false\"")
        }
    })
}

/// `deserialize_with` helper: a string, reported like the tolerant fields when it is not one.
pub(crate) fn string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Lenient<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => Lenient::Null,
        Value::String(text) => Lenient::Value(text),
        Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => {
            Lenient::Broken("must be a string")
        }
    })
}
