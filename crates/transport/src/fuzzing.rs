//! Entry points for the `multipart` fuzz target and the property tests. Not a public API.
//!
//! The checks live here, compiled and linted with the crate, so the fuzz target stays three
//! lines. The reference parser is `multer`, written independently of this encoder.

use std::convert::Infallible;

use bytes::Bytes;

use crate::Error;
use crate::multipart::{Boundary, FileSource, Form, Part};

/// The largest chunk read from a file part at a time, for the tests that check it.
pub const FILE_CHUNK: usize = crate::multipart::FILE_CHUNK;

/// Splits fuzzer bytes into a boundary (when the first piece is a valid one) and a form.
///
/// Layout: pieces separated by `0xFF` (a byte UTF-8 never uses). The first piece is a boundary
/// candidate; then pairs of (name, value). A name piece starting with `0x01` makes a file part
/// whose content is the raw value bytes; otherwise a text part (value decoded lossily).
pub fn decode_input(data: &[u8]) -> (Option<Boundary>, Form, usize) {
    let mut pieces = data.split(|b| *b == 0xff);
    let boundary = pieces
        .next()
        .and_then(|piece| std::str::from_utf8(piece).ok())
        .and_then(|text| Boundary::new(text).ok());
    let mut form = Form::new();
    while let Some(name) = pieces.next() {
        let value = pieces.next().unwrap_or_default();
        form = match name.split_first() {
            Some((0x01, name)) => {
                let name = String::from_utf8_lossy(name).into_owned();
                let filename = format!("{name}.bin");
                form.file(
                    name,
                    filename,
                    "application/octet-stream",
                    FileSource::Bytes(Bytes::copy_from_slice(value)),
                )
            }
            _ => form.text(
                String::from_utf8_lossy(name).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            ),
        };
    }
    // multer is fed in chunks of this size, to exercise its incremental parsing.
    let chunk = usize::from(data.last().copied().unwrap_or(0) % 7) + 1;
    (boundary, form, chunk)
}

/// The `multipart` fuzz target: every form either encodes and parses back identically through
/// `multer`, or fails with the typed error its input deserves; the boundary never occurs
/// inside a part.
///
/// # Panics
///
/// When the encoder and the reference parser disagree (that is the finding).
pub fn multipart(data: &[u8]) {
    let (boundary, form, chunk) = decode_input(data);
    let boundary =
        boundary.unwrap_or_else(|| Boundary::random().expect("the OS random source works"));
    round_trip(&form, &boundary, chunk);
}

/// Encodes `form` with `boundary` and checks it against `multer`, or checks that the refusal is
/// deserved. Returns whether the form was encoded.
///
/// # Panics
///
/// When the encoding does not parse back to the same parts, or an error is not deserved.
pub fn round_trip(form: &Form, boundary: &Boundary, chunk: usize) -> bool {
    let delimiter = format!("--{}", boundary.as_str());
    let encoded = match form.encode(boundary) {
        Ok(encoded) => encoded,
        Err(Error::Invalid(why)) if why.is_boundary_collision() => {
            assert!(
                form.parts().iter().any(|part| contains(part, &delimiter)),
                "collision reported, but no part contains the delimiter"
            );
            return false;
        }
        Err(Error::Invalid(_)) => {
            assert!(
                form.parts().iter().any(|part| {
                    !carriable(part.name()) || part.filename().is_some_and(|f| !carriable(f))
                }),
                "a name or filename was refused although it can be carried"
            );
            return false;
        }
        Err(other) => panic!("unexpected error: {other}"),
    };
    for part in form.parts() {
        assert!(!contains(part, &delimiter), "a part contains the boundary");
    }
    let parsed = parse(encoded.clone(), boundary, chunk);
    assert_eq!(parsed.len(), form.parts().len(), "part count differs");
    for (part, got) in form.parts().iter().zip(&parsed) {
        if multer_reads_names(part) {
            assert_eq!(got.name.as_deref(), Some(&*escape(part.name())));
            assert_eq!(
                got.filename.as_deref(),
                part.filename().map(escape).as_deref()
            );
        }
        assert_eq!(got.content_type.as_deref(), part.content_type());
        let want: &[u8] = match (part.text(), part.file_source()) {
            (Some(text), _) => text.as_bytes(),
            (None, Some(FileSource::Bytes(bytes))) => bytes,
            _ => unreachable!("fuzz forms hold in-memory parts only"),
        };
        assert_eq!(got.bytes, want, "part content differs");
    }
    true
}

/// A part as `multer` read it.
#[derive(Debug)]
pub struct Parsed {
    /// The `name` parameter (escapes left as sent).
    pub name: Option<String>,
    /// The `filename` parameter.
    pub filename: Option<String>,
    /// The part's `Content-Type`.
    pub content_type: Option<String>,
    /// The part's bytes.
    pub bytes: Vec<u8>,
}

/// Parses a body with `multer`, fed `chunk` bytes at a time, in a current-thread runtime.
///
/// # Panics
///
/// When `multer` rejects the body.
pub fn parse(body: Bytes, boundary: &Boundary, chunk: usize) -> Vec<Parsed> {
    let chunks: Vec<Result<Bytes, Infallible>> = (0..body.len())
        .step_by(chunk.max(1))
        .map(|start| Ok(body.slice(start..(start + chunk.max(1)).min(body.len()))))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime needs no resources");
    runtime.block_on(async {
        let mut multipart =
            multer::Multipart::new(futures_util::stream::iter(chunks), boundary.as_str());
        let mut out = Vec::new();
        while let Some(field) = multipart
            .next_field()
            .await
            .expect("multer parses the body")
        {
            let name = field.name().map(str::to_owned);
            let filename = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(ToString::to_string);
            let bytes = field.bytes().await.expect("multer reads the part").to_vec();
            out.push(Parsed {
                name,
                filename,
                content_type,
                bytes,
            });
        }
        out
    })
}

/// The name or filename as it appears between the quotes.
#[must_use]
pub fn escape(text: &str) -> String {
    text.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Whether a header can carry `text` once `"`, CR and LF are escaped.
#[must_use]
pub fn carriable(text: &str) -> bool {
    !text
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f)
}

/// Whether `multer` reads this part's name and filename correctly. It does not in two cases
/// that are its own limits, not the encoder's: a backslash (it treats `\"` as an escaped quote
/// although the quote closes the string), and the text `filename` inside a name (it finds the
/// `filename` parameter by substring search, not by parsing the parameter list).
#[must_use]
pub fn multer_reads_names(part: &Part) -> bool {
    !part.name().contains('\\')
        && !part.name().contains("filename")
        && !part.filename().is_some_and(|f| f.contains('\\'))
}

fn contains(part: &Part, delimiter: &str) -> bool {
    let found = |haystack: &[u8]| memchr::memmem::find(haystack, delimiter.as_bytes()).is_some();
    found(escape(part.name()).as_bytes())
        || part.filename().is_some_and(|f| found(escape(f).as_bytes()))
        || part.content_type().is_some_and(|c| found(c.as_bytes()))
        || part.text().is_some_and(|t| found(t.as_bytes()))
        || matches!(part.file_source(), Some(FileSource::Bytes(b)) if found(b))
}
