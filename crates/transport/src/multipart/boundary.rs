//! [`Boundary`]: validated, or drawn from the OS random source.

use std::fmt;
use std::io;

use crate::error::{Error, InvalidKind};

/// A multipart boundary: 1 to 70 characters from RFC 2046's `bchars`, not ending in a space.
///
/// # Examples
///
/// ```
/// use kyc_transport::multipart::Boundary;
///
/// let fixed = Boundary::new("test-boundary")?;
/// assert_eq!(fixed.as_str(), "test-boundary");
///
/// let random = Boundary::random()?;
/// assert_eq!(random.as_str().len(), 35); // "kyc" and 32 hex digits: 128 random bits
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Boundary {
    pub(super) text: String,
    /// Whether the `Content-Type` parameter must be quoted (the text holds an RFC 2045
    /// tspecial or a space); decided once, here.
    pub(super) quoted: bool,
}

impl Boundary {
    /// A boundary from 128 bits of the operating system's random source (fetched in batches
    /// of 512 bytes per thread, so most calls make no system call).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the OS random source fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// assert_ne!(Boundary::random()?, Boundary::random()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn random() -> Result<Self, Error> {
        let bytes = random_16().map_err(|err| {
            Error::invalid_with(InvalidKind::RandomSource, io::Error::other(err.to_string()))
        })?;
        // "kyc" + 32 hex digits: recognisable in a capture, and a part cannot contain it by
        // accident.
        let mut text = [0_u8; 35];
        text[..3].copy_from_slice(b"kyc");
        for (pair, byte) in text[3..].chunks_exact_mut(2).zip(bytes) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        let text = std::str::from_utf8(&text)
            .expect("ASCII letters and digits")
            .to_owned();
        Ok(Self {
            text,
            quoted: false,
        })
    }

    /// A caller-chosen boundary, validated against RFC 2046 §5.1.1.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the text is empty, longer than 70 characters, ends in a space or
    /// holds a character outside `bchars` (digits, letters and `'()+_,-./:=? `).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// assert!(Boundary::new("simple-Boundary_1").is_ok());
    /// assert!(Boundary::new("with space").is_ok());
    /// assert!(Boundary::new("trailing space ").is_err());
    /// assert!(Boundary::new("quote\"").is_err());
    /// assert!(Boundary::new(&"x".repeat(71)).is_err());
    /// ```
    pub fn new(text: &str) -> Result<Self, Error> {
        let valid = (1..=70).contains(&text.len())
            && !text.ends_with(' ')
            && text.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'\''
                            | b'('
                            | b')'
                            | b'+'
                            | b'_'
                            | b','
                            | b'-'
                            | b'.'
                            | b'/'
                            | b':'
                            | b'='
                            | b'?'
                            | b' '
                    )
            });
        if valid {
            // RFC 2045 tspecials and space need quoting; bchars never contain `"` or `\`.
            let quoted = text
                .bytes()
                .any(|b| matches!(b, b'(' | b')' | b',' | b'/' | b':' | b'=' | b'?' | b' '));
            Ok(Self {
                text: text.to_owned(),
                quoted,
            })
        } else {
            Err(Error::invalid(InvalidKind::Boundary))
        }
    }

    /// The boundary text, without the leading `--`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::Boundary;
    ///
    /// assert_eq!(Boundary::new("b")?.as_str(), "b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes fetched from the OS random source per system call: one call serves 32 boundaries.
const RANDOM_BATCH: usize = 512;

thread_local! {
    /// Unused OS random bytes of this thread. A boundary needs unpredictability, not secrecy,
    /// so fetching them in batches (saving a system call per request) loses nothing; each byte
    /// is handed out once and then zeroed.
    static RANDOM: std::cell::RefCell<([u8; RANDOM_BATCH], usize)> =
        const { std::cell::RefCell::new(([0; RANDOM_BATCH], RANDOM_BATCH)) };
}

/// 16 bytes from the OS random source (through this thread's batch).
fn random_16() -> Result<[u8; 16], getrandom::Error> {
    RANDOM.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (pool, used) = &mut *guard;
        if *used + 16 > RANDOM_BATCH {
            getrandom::fill(pool)?;
            *used = 0;
        }
        let mut out = [0_u8; 16];
        out.copy_from_slice(&pool[*used..*used + 16]);
        pool[*used..*used + 16].fill(0);
        *used += 16;
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_boundaries_are_valid_and_distinct() {
        let a = Boundary::random().expect("OS random source");
        let b = Boundary::random().expect("OS random source");
        assert_ne!(a, b);
        assert!(Boundary::new(a.as_str()).is_ok());
    }
}
