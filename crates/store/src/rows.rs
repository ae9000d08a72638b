//! Between the database and the public types: rows read back, values written, the SQLite
//! path checked before it is opened.

use std::time::Duration;

use kyc_proto::{AuthenticationStatus, Sensitive, Timestamp, UserId};

use crate::Error;
use crate::record::{Counts, Event, EventKind, UserState};

/// Refuses a SQLite path that exists but is not a regular file: opening a FIFO blocks until a
/// writer comes, a device or a directory fails late and obscurely.
#[cfg(feature = "sqlite")]
pub(crate) fn check_regular_file(path: &std::path::Path) -> Result<(), Error> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        // Missing: created on open (or an in-memory name). Other failures surface on open.
        Err(_) => return Ok(()),
    };
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok(());
    }
    let what = if file_type.is_dir() {
        "a directory"
    } else {
        describe_special(&file_type)
    };
    Err(Error::not_a_file(what))
}

#[cfg(all(feature = "sqlite", unix))]
fn describe_special(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;

    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(all(feature = "sqlite", not(unix)))]
fn describe_special(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

/// `user_id, status, status_at, status_reason, applications, last_event_at`.
pub(crate) type StateRow = (
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
    Option<i64>,
);

/// `kind, status, at, fail_reason, code, retryable`.
pub(crate) type EventRow = (
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    bool,
);

pub(crate) fn state_from_row(row: StateRow) -> Result<UserState, Error> {
    let (user_id, status, status_at, reason, applications, last_event_at) = row;
    Ok(UserState {
        user_id: user_id_from(user_id)?,
        status: status.as_deref().map(AuthenticationStatus::from_wire),
        timestamp: status_at.map(|at| timestamp("status_at", at)).transpose()?,
        fail_reason: reason.map(Sensitive::new),
        applications: u32::try_from(applications)
            .map_err(|_| Error::corrupt("applications", "is out of range"))?,
        last_event_at: last_event_at
            .map(|at| timestamp("last_event_at", at))
            .transpose()?,
    })
}

/// Numbers the attempts: each accepted application opens the next one.
pub(crate) fn events_from_rows(rows: Vec<EventRow>) -> Result<Vec<Event>, Error> {
    let mut attempt = 0u32;
    rows.into_iter()
        .map(|(kind, status, at, fail_reason, code, retryable)| {
            let kind = EventKind::from_stored(&kind)
                .ok_or_else(|| Error::corrupt("kind", "is not an event kind"))?;
            let status = status.as_deref().map(AuthenticationStatus::from_wire);
            if kind == EventKind::Application && status.is_some() {
                attempt = attempt.saturating_add(1);
            }
            Ok(Event {
                kind,
                attempt,
                status,
                timestamp: timestamp("at", at)?,
                fail_reason: fail_reason.map(Sensitive::new),
                code,
                retryable,
            })
        })
        .collect()
}

/// In wire order whatever the database's collation: `None` first, then shorter values first
/// (they are numbers), then by text.
pub(crate) fn counts_from_rows(rows: Vec<(Option<String>, i64)>) -> Result<Counts, Error> {
    let mut by_status = rows
        .into_iter()
        .map(|(status, count)| {
            let count = u64::try_from(count).map_err(|_| Error::corrupt("count", "is negative"))?;
            Ok((status, count))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    by_status.sort_by(|(a, _), (b, _)| {
        let key = |s: &Option<String>| s.as_ref().map(|s| (s.len(), s.clone()));
        key(a).cmp(&key(b))
    });
    Ok(Counts {
        by_status: by_status
            .into_iter()
            .map(|(status, count)| {
                (
                    status.as_deref().map(AuthenticationStatus::from_wire),
                    count,
                )
            })
            .collect(),
    })
}

pub(crate) fn user_id_from(text: String) -> Result<UserId, Error> {
    UserId::new(text).map_err(|_| Error::corrupt("user_id", "breaks the userId rule"))
}

/// A timestamp as the database stores it (signed 64 bits).
pub(crate) fn millis(field: &'static str, at: Timestamp) -> Result<i64, Error> {
    i64::try_from(at.as_millis()).map_err(|_| Error::invalid(field, "must fit in 63 bits"))
}

fn timestamp(field: &'static str, millis: i64) -> Result<Timestamp, Error> {
    u64::try_from(millis)
        .map(Timestamp::from_millis)
        .map_err(|_| Error::corrupt(field, "is negative"))
}

pub(crate) fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
