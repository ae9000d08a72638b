//! Request bodies to `(name, value)` lists, with the limits applied; no business rules.
//!
//! The multipart parser is `multer`, not the workspace's encoder, so an encoder bug cannot be
//! hidden by a matching decoder bug.

use std::collections::HashSet;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::RefusalCode;

/// A refusal: the code and, for the envelope's `msg`, the name of the field or rule at fault.
/// Never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: RefusalCode,
    pub(crate) detail: Option<String>,
}

impl Refusal {
    pub(crate) fn new(code: RefusalCode) -> Self {
        Self { code, detail: None }
    }

    pub(crate) fn with(code: RefusalCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: Some(detail.into()),
        }
    }

    /// The envelope's `msg`.
    pub(crate) fn message(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}: {detail}", self.code.description()),
            None => self.code.description().to_owned(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code.as_str(), self.message())
    }
}

/// Limits on a parsed body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_body_bytes: usize,
    pub(crate) max_fields: usize,
    pub(crate) max_field_bytes: usize,
}

/// Text fields in the order received. File parts are counted against the limit, then
/// dropped: the provider signs text fields only, and the 2.0 form has no file part.
pub(crate) type TextFields = Vec<(String, String)>;

/// The boundary of a `multipart/form-data` content type, or `S109`.
pub(crate) fn multipart_boundary(content_type: Option<&str>) -> Result<String, Refusal> {
    let content_type = content_type.ok_or_else(|| {
        Refusal::with(
            RefusalCode::WrongContentType,
            "expected multipart/form-data",
        )
    })?;
    multer::parse_boundary(content_type).map_err(|_| {
        Refusal::with(
            RefusalCode::WrongContentType,
            "expected multipart/form-data with a boundary",
        )
    })
}

/// Whether a content type is `application/json` (parameters such as `charset` allowed).
pub(crate) fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|value| {
        let essence = value.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json")
    })
}

/// Parses a complete multipart body.
pub(crate) fn multipart(
    body: Bytes,
    boundary: &str,
    limits: Limits,
) -> Result<TextFields, Refusal> {
    let size = multer::SizeLimit::new()
        .whole_stream(u64::try_from(limits.max_body_bytes).unwrap_or(u64::MAX))
        .per_field(u64::try_from(limits.max_body_bytes).unwrap_or(u64::MAX));
    let constraints = multer::Constraints::new().size_limit(size);
    if dispositions_per_part(&body, boundary).any(|count| count != 1) {
        return Err(Refusal::with(
            RefusalCode::MalformedBody,
            "malformed part header",
        ));
    }
    let stream = futures_util::stream::iter([Ok::<Bytes, Infallible>(body)]);
    let mut parts = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut fields = TextFields::new();
    let mut count = 0usize;
    loop {
        let next = now_or_never(parts.next_field()).ok_or_else(stalled)?;
        let Some(field) = next.map_err(multer_refusal)? else {
            break;
        };
        count += 1;
        if count > limits.max_fields {
            return Err(Refusal::with(
                RefusalCode::TooManyFields,
                format!("at most {} parts", limits.max_fields),
            ));
        }
        check_disposition(field.headers())?;
        let is_file = field.file_name().is_some();
        let name = field
            .name()
            .map(str::to_owned)
            .ok_or_else(|| Refusal::with(RefusalCode::MalformedBody, "a part has no name"))?;
        let data = now_or_never(field.bytes())
            .ok_or_else(stalled)?
            .map_err(multer_refusal)?;
        if is_file {
            continue;
        }
        if data.len() > limits.max_field_bytes {
            return Err(too_long(&name, limits));
        }
        let value = String::from_utf8(data.to_vec()).map_err(|_| {
            Refusal::with(
                RefusalCode::MalformedBody,
                format!("field {} is not UTF-8", printable(&name)),
            )
        })?;
        fields.push((name, value));
    }
    check_duplicates(&fields)?;
    Ok(fields)
}

/// Refuses a part whose `Content-Disposition` is anything but one header of the form
/// `form-data; name="…"` with an optional `; filename="…"`, each parameter once, quoted values
/// free of `"` and `\`, and nothing after the last parameter (parameter names in any case).
///
/// `multer` is lenient here: it reads `name="no"te"` as `no`, keeps the first of two `name`
/// parameters, and takes the name from the last of two `Content-Disposition` headers. A
/// name, filename or header value with raw CR/LF or quotes written by a careless encoder
/// (`name="note"\r\nContent-Disposition: form-data; name="userId"`) would then create a field
/// the encoder never meant to send. The sandbox must refuse such parts (RFC 7578 §4.2: quotes
/// and line breaks in names are percent-encoded), not reinterpret them.
// Regression: a second Content-Disposition header in one part created a signed `userId` field.
fn check_disposition(headers: &http::HeaderMap) -> Result<(), Refusal> {
    let malformed = || Refusal::with(RefusalCode::MalformedBody, "malformed part header");
    // At most one by now: `dispositions_per_part` refused repeated ones, which `multer` hides.
    let value = headers
        .get(http::header::CONTENT_DISPOSITION)
        .ok_or_else(malformed)?;
    let mut rest = value.as_bytes();
    let kind_end = rest.iter().position(|b| *b == b';').unwrap_or(rest.len());
    if !rest[..kind_end]
        .trim_ascii()
        .eq_ignore_ascii_case(b"form-data")
    {
        return Err(malformed());
    }
    rest = &rest[kind_end..];
    let (mut name, mut filename) = (false, false);
    while !rest.is_empty() {
        // `;` OWS param OWS `=` OWS `"` text `"` OWS
        rest = rest
            .strip_prefix(b";")
            .ok_or_else(malformed)?
            .trim_ascii_start();
        let eq = rest.iter().position(|b| *b == b'=').ok_or_else(malformed)?;
        let param = rest[..eq].trim_ascii();
        let seen = if param.eq_ignore_ascii_case(b"name") {
            &mut name
        } else if param.eq_ignore_ascii_case(b"filename") {
            &mut filename
        } else {
            return Err(malformed());
        };
        if std::mem::replace(seen, true) {
            return Err(malformed());
        }
        rest = rest[eq + 1..]
            .trim_ascii_start()
            .strip_prefix(b"\"")
            .ok_or_else(malformed)?;
        let close = rest.iter().position(|b| *b == b'"').ok_or_else(malformed)?;
        if rest[..close].contains(&b'\\') {
            return Err(malformed());
        }
        rest = rest[close + 1..].trim_ascii_start();
    }
    if !name {
        return Err(Refusal::with(
            RefusalCode::MalformedBody,
            "a part has no name",
        ));
    }
    Ok(())
}

/// How many `Content-Disposition` lines each part's header block holds, read straight from the
/// body: `multer` keeps only the last of a repeated part header, so a second
/// `Content-Disposition` (a raw CRLF in a name or filename) would silently rename the part.
///
/// A delimiter is a line (after CRLF, or at the very start) beginning with `--boundary`, as
/// `multer` reads it; `--boundary--` ends the form; the header block ends at the first empty
/// line. Lines are split at LF, so one `split` pass: no allocation, no quadratic search.
fn dispositions_per_part<'a>(body: &'a [u8], boundary: &str) -> impl Iterator<Item = usize> + 'a {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut lines = body.split(|byte| *byte == b'\n');
    // Whether the previous line ended with CR (a delimiter must follow a CRLF).
    let mut after_crlf = true;
    std::iter::from_fn(move || {
        // Find the next delimiter line.
        loop {
            let line = lines.next()?;
            let at_line_start = std::mem::replace(&mut after_crlf, line.ends_with(b"\r"));
            if at_line_start && line.starts_with(&delimiter) {
                if line[delimiter.len()..].starts_with(b"--") {
                    return None;
                }
                break;
            }
        }
        // Count its header lines.
        let mut count = 0;
        for line in lines.by_ref() {
            after_crlf = line.ends_with(b"\r");
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                break;
            }
            let name = b"content-disposition:";
            if line.len() >= name.len() && line[..name.len()].eq_ignore_ascii_case(name) {
                count += 1;
            }
        }
        Some(count)
    })
}

/// Parses a complete JSON body: an object whose members are all strings.
pub(crate) fn json(body: &[u8], limits: Limits) -> Result<TextFields, Refusal> {
    let Members(members) = serde_json::from_slice(body)
        .map_err(|_| Refusal::with(RefusalCode::MalformedBody, "expected a JSON object"))?;
    if members.len() > limits.max_fields {
        return Err(Refusal::with(
            RefusalCode::TooManyFields,
            format!("at most {} members", limits.max_fields),
        ));
    }
    let mut fields = TextFields::with_capacity(members.len());
    for (name, value) in members {
        let serde_json::Value::String(value) = value else {
            return Err(Refusal::with(
                RefusalCode::InvalidField,
                format!("{} must be a JSON string", printable(&name)),
            ));
        };
        if value.len() > limits.max_field_bytes || name.len() > limits.max_field_bytes {
            return Err(too_long(&name, limits));
        }
        fields.push((name, value));
    }
    check_duplicates(&fields)?;
    Ok(fields)
}

/// The object's members in document order, duplicates kept (a `Map` would silently keep the
/// last, and the signature would then cover something other than what was sent).
struct Members(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

fn check_duplicates(fields: &TextFields) -> Result<(), Refusal> {
    let mut seen = HashSet::with_capacity(fields.len());
    for (name, _) in fields {
        if !seen.insert(name.as_str()) {
            return Err(Refusal::with(RefusalCode::DuplicateField, printable(name)));
        }
    }
    Ok(())
}

fn too_long(name: &str, limits: Limits) -> Refusal {
    Refusal::with(
        RefusalCode::FieldTooLong,
        format!(
            "{} (at most {} bytes)",
            printable(name),
            limits.max_field_bytes
        ),
    )
}

/// A field name fit for a message: names are not personal data, but they are client input,
/// so they are cut short and stripped of control characters.
pub(crate) fn printable(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if name.chars().count() > 64 {
        out.push('…');
    }
    out
}

fn multer_refusal(error: multer::Error) -> Refusal {
    match error {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            Refusal::new(RefusalCode::BodyTooLarge)
        }
        multer::Error::IncompleteStream
        | multer::Error::IncompleteFieldData { .. }
        | multer::Error::IncompleteHeaders => {
            Refusal::with(RefusalCode::MalformedBody, "truncated multipart body")
        }
        _ => Refusal::with(RefusalCode::MalformedBody, "malformed multipart body"),
    }
}

fn stalled() -> Refusal {
    Refusal::with(RefusalCode::MalformedBody, "malformed multipart body")
}

/// Polls `future` once with a waker that does nothing.
///
/// The multipart stream is a single chunk that is already in memory, so every future `multer`
/// returns over it completes on its first poll; `None` (never expected) is treated as a
/// malformed body rather than waited on.
fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_body_bytes: 4096,
        max_fields: 8,
        max_field_bytes: 64,
    };

    fn form(parts: &[(&str, &str)]) -> Bytes {
        let mut body = String::new();
        for (name, value) in parts {
            body.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str("--XyZ--\r\n");
        Bytes::from(body)
    }

    #[test]
    fn multipart_fields_in_order() {
        let fields = multipart(form(&[("b", "2"), ("a", "テスト014")]), "XyZ", LIMITS).unwrap();
        assert_eq!(
            fields,
            vec![("b".into(), "2".into()), ("a".into(), "テスト014".into())]
        );
    }

    #[test]
    fn multipart_refusals() {
        let dup = multipart(form(&[("a", "1"), ("a", "2")]), "XyZ", LIMITS).unwrap_err();
        assert_eq!(dup.code, RefusalCode::DuplicateField);
        let long = multipart(form(&[("a", &"x".repeat(65))]), "XyZ", LIMITS).unwrap_err();
        assert_eq!(long.code, RefusalCode::FieldTooLong);
        let many: Vec<(String, &str)> = (0..9).map(|i| (format!("f{i}"), "v")).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        assert_eq!(
            multipart(form(&many), "XyZ", LIMITS).unwrap_err().code,
            RefusalCode::TooManyFields
        );
        let whole = form(&[("a", "1")]);
        let truncated = whole.slice(..whole.len() - 12);
        assert_eq!(
            multipart(truncated, "XyZ", LIMITS).unwrap_err().code,
            RefusalCode::MalformedBody
        );
        assert_eq!(
            multipart(Bytes::from_static(b"\xff\x00garbage"), "XyZ", LIMITS)
                .unwrap_err()
                .code,
            RefusalCode::MalformedBody
        );
    }

    #[test]
    fn part_headers_are_strict() {
        let part = |header: &str| Bytes::from(format!("--XyZ\r\n{header}\r\n\r\nv\r\n--XyZ--\r\n"));
        let ok = |header: &str| multipart(part(header), "XyZ", LIMITS);
        assert!(ok("Content-Disposition: form-data; name=\"a\"").is_ok());
        assert!(ok("content-disposition: form-data;name=\"a\" ; FILENAME=\"f.pdf\"").is_ok());
        for bad in [
            "Content-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"b\"",
            "Content-Disposition: form-data; name=\"a\"x\"",
            "Content-Disposition: form-data; name=\"a\\\"b\"",
            "Content-Disposition: form-data; name=\"a\"; name=\"b\"",
            "Content-Disposition: form-data; name=a",
            "Content-Disposition: form-data; name*=utf-8''a",
            "Content-Disposition: attachment; name=\"a\"",
            "Content-Disposition: form-data; filename=\"f\"",
            "Content-Type: text/plain",
        ] {
            assert_eq!(
                ok(bad).unwrap_err().code,
                RefusalCode::MalformedBody,
                "{bad}"
            );
        }
        // The boundary inside a value, not after CRLF, is data: one part, one disposition.
        let body =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\n--XyZ\r\n--XyZ--";
        assert_eq!(dispositions_per_part(body, "XyZ").collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn json_refusals() {
        assert_eq!(
            json(br#"{"a":"1","a":"2"}"#, LIMITS).unwrap_err().code,
            RefusalCode::DuplicateField
        );
        assert_eq!(
            json(br#"{"a":1}"#, LIMITS).unwrap_err().code,
            RefusalCode::InvalidField
        );
        assert_eq!(
            json(b"[1]", LIMITS).unwrap_err().code,
            RefusalCode::MalformedBody
        );
        assert_eq!(
            json(br#"{"a":"1""#, LIMITS).unwrap_err().code,
            RefusalCode::MalformedBody
        );
        let deep = "[".repeat(10_000);
        assert_eq!(
            json(format!("{{\"a\":{deep}").as_bytes(), LIMITS)
                .unwrap_err()
                .code,
            RefusalCode::MalformedBody
        );
    }

    #[test]
    fn content_types() {
        assert!(is_json(Some("application/json; charset=utf-8")));
        assert!(is_json(Some("Application/JSON")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
        assert!(multipart_boundary(Some("multipart/form-data; boundary=abc")).is_ok());
        assert!(multipart_boundary(Some("multipart/form-data")).is_err());
        assert!(multipart_boundary(Some("application/json")).is_err());
    }

    #[test]
    fn printable_cuts_and_strips() {
        assert_eq!(printable("a\nb"), "a?b");
        assert_eq!(printable(&"n".repeat(70)).chars().count(), 65);
    }
}
