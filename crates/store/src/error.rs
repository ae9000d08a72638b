//! The crate's one error: what went wrong, by kind, with the database's own error as source.

use std::fmt;

/// What kind of failure an [`Error`] is.
///
/// A receiver answers `5xx` (never `OK`) for every kind: nothing was recorded.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let err = kyc_store::Ledger::connect("mysql://localhost/kyc").await.unwrap_err();
/// assert_eq!(err.kind(), kyc_store::ErrorKind::Url);
/// # });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Called it wrong: the URL is malformed, or names a database this build does not support
    /// (see the crate features).
    Url,
    /// Called it wrong: the SQLite path exists but is not a regular file (a directory, a FIFO,
    /// a device or a socket).
    NotAFile,
    /// Called it wrong: a value does not fit the ledger (a timestamp past the year 292 million,
    /// a status answer about another user). [`Error::field`] names it.
    Invalid,
    /// The schema could not be brought to this version (for example, the database was
    /// migrated by a newer `kyc-store`).
    Migration,
    /// The database failed: unreachable, disk full, lost connection, timeout. The transaction
    /// was rolled back; retrying may succeed.
    Database,
    /// A stored value does not read back as what this crate writes (edited by hand?).
    Corrupt,
}

/// An error of the ledger. The database's own error, when there is one, is the
/// [`source`](std::error::Error::source); `Display` never shows personal data.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let url = format!("sqlite://{}", dir.path().display());
/// let err = kyc_store::Ledger::connect(&url).await.unwrap_err();
/// assert_eq!(err.kind(), kyc_store::ErrorKind::NotAFile);
/// assert_eq!(err.to_string(), "the SQLite path is a directory, not a file");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Error {
    kind: ErrorKind,
    detail: Detail,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What `Display` says beyond the kind.
#[derive(Debug)]
enum Detail {
    None,
    /// The URL's scheme (never the whole URL: it may hold a password).
    Scheme(String),
    /// What the SQLite path is instead of a file.
    #[cfg_attr(
        not(feature = "sqlite"),
        allow(dead_code, reason = "SQLite paths only")
    )]
    FileType(&'static str),
    Field(&'static str, &'static str),
}

impl Error {
    /// What kind of failure this is.
    ///
    /// # Examples
    ///
    /// See [`ErrorKind`].
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The field an [`ErrorKind::Invalid`] or [`ErrorKind::Corrupt`] error is about.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_store::{ApplicationOutcome, ErrorKind, Ledger};
    /// use kyc_proto::{AuthenticationStatus, Timestamp, UserId};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let ledger = Ledger::connect(&format!("sqlite://{}/kyc.db", dir.path().display())).await?;
    /// let accepted = ApplicationOutcome::Accepted(AuthenticationStatus::Pending);
    /// let err = ledger
    ///     .record_application(&UserId::new("u1")?, Timestamp::from_millis(u64::MAX), &accepted)
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!((err.kind(), err.field()), (ErrorKind::Invalid, Some("timestamp")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        match self.detail {
            Detail::Field(field, _) => Some(field),
            _ => None,
        }
    }

    /// Whether retrying the same call may succeed (the database failed, not the call).
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let err = kyc_store::Ledger::connect("nope://x").await.unwrap_err();
    /// assert!(!err.is_retryable());
    /// # });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Database
    }

    pub(crate) fn scheme(scheme: &str) -> Self {
        Self::new(ErrorKind::Url, Detail::Scheme(scheme.to_owned()))
    }

    pub(crate) fn url(source: sqlx::Error) -> Self {
        Self::new(ErrorKind::Url, Detail::None).with_source(source)
    }

    #[cfg(feature = "sqlite")]
    pub(crate) fn not_a_file(what: &'static str) -> Self {
        Self::new(ErrorKind::NotAFile, Detail::FileType(what))
    }

    pub(crate) fn invalid(field: &'static str, rule: &'static str) -> Self {
        Self::new(ErrorKind::Invalid, Detail::Field(field, rule))
    }

    pub(crate) fn corrupt(field: &'static str, rule: &'static str) -> Self {
        Self::new(ErrorKind::Corrupt, Detail::Field(field, rule))
    }

    pub(crate) fn migration(source: sqlx::migrate::MigrateError) -> Self {
        Self::new(ErrorKind::Migration, Detail::None).with_source(source)
    }

    /// Whether this is another process opening the same new SQLite file at the same moment
    /// (the file locked, or the tables just created by its migration): worth another try.
    #[cfg(feature = "sqlite")]
    pub(crate) fn is_contention(&self) -> bool {
        if !matches!(self.kind, ErrorKind::Database | ErrorKind::Migration) {
            return false;
        }
        let mut source = self
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static));
        while let Some(err) = source {
            let text = err.to_string();
            if text.contains("database is locked") || text.contains("already exists") {
                return true;
            }
            source = err.source();
        }
        false
    }

    /// The same failure again, for each of the records that shared its transaction (the
    /// source is kept as text: the database's error is not `Clone`).
    pub(crate) fn shared(&self) -> Self {
        let source = self
            .source
            .as_ref()
            .map(|source| std::io::Error::other(source.to_string()));
        let copy = Self::new(
            self.kind,
            match &self.detail {
                Detail::None => Detail::None,
                Detail::Scheme(scheme) => Detail::Scheme(scheme.clone()),
                Detail::FileType(what) => Detail::FileType(what),
                Detail::Field(field, rule) => Detail::Field(field, rule),
            },
        );
        match source {
            Some(source) => copy.with_source(source),
            None => copy,
        }
    }

    /// The task writing a transaction was cancelled (the runtime is shutting down).
    pub(crate) fn interrupted(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::new(ErrorKind::Database, Detail::None).with_source(source)
    }

    fn new(kind: ErrorKind, detail: Detail) -> Self {
        Self {
            kind,
            detail,
            source: None,
        }
    }

    fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        let kind = match &err {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => ErrorKind::Corrupt,
            sqlx::Error::Configuration(_) => ErrorKind::Url,
            _ => ErrorKind::Database,
        };
        Self::new(kind, Detail::None).with_source(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.detail) {
            (ErrorKind::Url, Detail::Scheme(scheme)) => write!(
                f,
                "the URL scheme {scheme:?} names no database this build supports \
                 (sqlite: needs the `sqlite` feature, postgres: the `postgres` feature)"
            ),
            (ErrorKind::Url, _) => f.write_str("the database URL is not usable"),
            (ErrorKind::NotAFile, Detail::FileType(what)) => {
                write!(f, "the SQLite path is {what}, not a file")
            }
            (ErrorKind::NotAFile, _) => f.write_str("the SQLite path is not a file"),
            (ErrorKind::Invalid, Detail::Field(field, rule)) => write!(f, "`{field}` {rule}"),
            (ErrorKind::Invalid, _) => f.write_str("a value does not fit the ledger"),
            (ErrorKind::Migration, _) => {
                f.write_str("the ledger's schema could not be migrated to this version")
            }
            (ErrorKind::Database, _) => {
                f.write_str("the database failed; nothing was recorded by this call")
            }
            (ErrorKind::Corrupt, Detail::Field(field, rule)) => {
                write!(f, "a stored `{field}` {rule}")
            }
            (ErrorKind::Corrupt, _) => f.write_str("a stored value does not read back"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("detail", &self.detail)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            Some(source) => Some(&**source),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_about_this_layer_and_lowercase() {
        let err = Error::scheme("mysql");
        assert!(err.to_string().starts_with("the URL scheme \"mysql\""));
        let err = Error::invalid("timestamp", "must fit in 63 bits");
        assert_eq!(err.to_string(), "`timestamp` must fit in 63 bits");
        assert_eq!(err.field(), Some("timestamp"));
        assert!(!err.is_retryable());
        let err = Error::from(sqlx::Error::Io(std::io::Error::other("disk full")));
        assert!(err.is_retryable());
        assert!(!err.to_string().contains("disk full"));
        assert!(std::error::Error::source(&err).is_some());
    }
}
