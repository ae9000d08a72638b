//! [`Encoded`]: a form laid out for sending, and [`FormBody`], its byte stream.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use http_body::{Frame, SizeHint};

use super::{Boundary, FILE_CHUNK, Form};

#[derive(Clone)]
pub(super) enum Segment {
    Bytes(Bytes),
    File { path: PathBuf, len: u64 },
}

impl Segment {
    pub(super) fn len(&self) -> u64 {
        match self {
            Self::Bytes(bytes) => bytes.len() as u64,
            Self::File { len, .. } => *len,
        }
    }
}

/// The segments of a body: usually one buffer (a form of text and small files), so that case
/// needs no list.
#[derive(Clone)]
pub(super) enum Segments {
    One(Segment),
    Many(Arc<[Segment]>),
}

impl Segments {
    pub(super) fn as_slice(&self) -> &[Segment] {
        match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        }
    }
}

/// A form laid out for sending: exact length, content type, and a re-creatable body.
///
/// Cloning is cheap (the layout is shared); each [`Encoded::body`] is a fresh stream that
/// reopens file parts, so a retry sends the same bytes.
///
/// # Examples
///
/// ```
/// use kyc_transport::multipart::{Boundary, Form};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let encoded = Form::new().text("a", "1").prepare(&Boundary::new("b")?).await?;
/// assert_eq!(encoded.content_length(), 59);
/// assert_eq!(encoded.content_type(), "multipart/form-data; boundary=b");
/// assert_eq!(encoded.to_bytes().unwrap().len(), 59);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Encoded {
    pub(super) boundary: Boundary,
    pub(super) segments: Segments,
    pub(super) content_length: u64,
}

impl Encoded {
    /// The exact body length in bytes, computed before anything is read or sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.content_length(), 7); // "--b--\r\n"
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn content_length(&self) -> u64 {
        self.content_length
    }

    /// The `Content-Type` header value, naming the boundary.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.content_type(), "multipart/form-data; boundary=b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn content_type(&self) -> HeaderValue {
        Form::content_type(&self.boundary)
    }

    /// The boundary the body was laid out with.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.boundary().as_str(), "b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// The whole body in one buffer, when no part is read from a file; `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().prepare(&Boundary::new("b")?).await?;
    /// assert_eq!(encoded.to_bytes().unwrap(), "--b--\r\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_bytes(&self) -> Option<Bytes> {
        if let [Segment::Bytes(only)] = self.segments.as_slice() {
            return Some(only.clone());
        }
        let mut out = BytesMut::with_capacity(usize::try_from(self.content_length).ok()?);
        for segment in self.segments.as_slice() {
            match segment {
                Segment::Bytes(bytes) => out.extend_from_slice(bytes),
                Segment::File { .. } => return None,
            }
        }
        Some(out.freeze())
    }

    /// A fresh body stream: in-memory parts are shared, file parts are opened now and read in
    /// chunks of at most 64 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().text("a", "1").prepare(&Boundary::new("b")?).await?;
    /// let collected = encoded.body().collect().await?.to_bytes();
    /// assert_eq!(collected, encoded.to_bytes().unwrap());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn body(&self) -> FormBody {
        self.clone().into_body()
    }

    /// [`Encoded::body`], consuming the form: the one-shot send path, which saves sharing the
    /// buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use kyc_transport::multipart::{Boundary, Form};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let encoded = Form::new().text("a", "1").prepare(&Boundary::new("b")?).await?;
    /// let expected = encoded.to_bytes().unwrap();
    /// assert_eq!(encoded.into_body().collect().await?.to_bytes(), expected);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn into_body(self) -> FormBody {
        FormBody {
            segments: self.segments,
            next: 0,
            remaining: self.content_length,
            file: None,
        }
    }
}

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoded")
            .field("boundary", &self.boundary)
            .field("segments", &self.segments.as_slice().len())
            .field("content_length", &self.content_length)
            .finish()
    }
}

type Opening = Pin<Box<dyn Future<Output = io::Result<tokio::fs::File>> + Send>>;

enum FileState {
    Opening(Opening, u64),
    Reading(tokio::fs::File, u64),
}

/// The body of an [`Encoded`] form, as an [`http_body::Body`] with an exact size hint.
///
/// Its errors are I/O errors reading a file part, including a file whose length changed since
/// [`Form::prepare`] (the `Content-Length` is already promised).
///
/// # Examples
///
/// ```
/// use http_body::Body;
/// use kyc_transport::multipart::{Boundary, Form};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let encoded = Form::new().text("a", "1").prepare(&Boundary::new("b")?).await?;
/// assert_eq!(encoded.body().size_hint().exact(), Some(59));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FormBody {
    segments: Segments,
    next: usize,
    remaining: u64,
    /// Boxed: the body travels by value through hyper, and most bodies have no file part.
    file: Option<Box<FileState>>,
}

impl fmt::Debug for FormBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormBody")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl http_body::Body for FormBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        loop {
            if let Some(state) = &mut this.file {
                match &mut **state {
                    FileState::Opening(opening, len) => {
                        let file = match opening.as_mut().poll(cx) {
                            Poll::Pending => return Poll::Pending,
                            Poll::Ready(Ok(file)) => file,
                            Poll::Ready(Err(err)) => {
                                this.file = None;
                                return Poll::Ready(Some(Err(err)));
                            }
                        };
                        let len = *len;
                        **state = FileState::Reading(file, len);
                    }
                    FileState::Reading(_, 0) => this.file = None,
                    FileState::Reading(file, left) => {
                        let want = usize::try_from(*left).unwrap_or(usize::MAX).min(FILE_CHUNK);
                        let mut buf = BytesMut::with_capacity(want);
                        let mut limited = tokio::io::AsyncReadExt::take(&mut *file, want as u64);
                        let read = match tokio_util::io::poll_read_buf(
                            Pin::new(&mut limited),
                            cx,
                            &mut buf,
                        ) {
                            Poll::Pending => return Poll::Pending,
                            Poll::Ready(result) => result,
                        };
                        match read {
                            Ok(0) => {
                                this.file = None;
                                return Poll::Ready(Some(Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "a file part shrank after its length was taken",
                                ))));
                            }
                            Ok(n) => {
                                *left -= n as u64;
                                this.remaining = this.remaining.saturating_sub(n as u64);
                                return Poll::Ready(Some(Ok(Frame::data(buf.freeze()))));
                            }
                            Err(err) => {
                                this.file = None;
                                return Poll::Ready(Some(Err(err)));
                            }
                        }
                    }
                }
                continue;
            }
            let Some(segment) = this.segments.as_slice().get(this.next) else {
                return Poll::Ready(None);
            };
            this.next += 1;
            match segment {
                Segment::Bytes(bytes) => {
                    this.remaining = this.remaining.saturating_sub(bytes.len() as u64);
                    return Poll::Ready(Some(Ok(Frame::data(bytes.clone()))));
                }
                Segment::File { path, len } => {
                    let path = path.clone();
                    let len = *len;
                    this.file = Some(Box::new(FileState::Opening(
                        Box::pin(open_checked(path, len)),
                        len,
                    )));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0 && self.file.is_none() && self.next >= self.segments.as_slice().len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// Opens a file part and checks that its length is still the one promised in `Content-Length`.
async fn open_checked(path: PathBuf, len: u64) -> io::Result<tokio::fs::File> {
    let file = tokio::fs::File::open(&path).await?;
    let now = file.metadata().await?.len();
    if now != len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a file part changed length from {len} to {now} bytes since it was prepared"),
        ));
    }
    Ok(file)
}
