//! [`Ledger`]: connect by URL, record in one transaction each, read state and history.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use futures_core::Stream;
use futures_core::future::BoxFuture;
use futures_util::StreamExt;
use kyc_proto::{Callback, StatusData, Timestamp, UserId};
use sqlx::QueryBuilder;
use tokio::sync::{mpsc, oneshot};

use crate::record::{ApplicationOutcome, Counts, Event, EventKind, Recorded, UserState};
#[cfg(feature = "sqlite")]
use crate::rows::check_regular_file;
use crate::rows::{
    EventRow, StateRow, counts_from_rows, duration_ms, events_from_rows, millis, state_from_row,
    user_id_from,
};
use crate::write::{
    CHUNK, Decider, DeciderRow, Job, Row_, Write, WriterGone, application_row, decide,
    decider_from_row, detached, first_of_each, owned, user_counts, write_together,
};
use crate::{Error, identity, migrations, sql};

/// The cut-off after which a user whose status is not final is due for reconciliation: 25
/// hours, past the provider's retry window (it stops calling back about 24 hours after the
/// result).
///
/// # Examples
///
/// ```
/// assert_eq!(kyc_store::DEFAULT_CUTOFF.as_secs(), 25 * 3600);
/// ```
pub const DEFAULT_CUTOFF: Duration = Duration::from_secs(25 * 3600);

/// The merchant's ledger of KYC events per user, on SQLite or PostgreSQL.
///
/// Cheap to clone (a connection pool inside) and `Send + Sync`. Every `record_*` call is one
/// transaction and returns after it committed. See the crate docs for the rules.
///
/// # Examples
///
/// See the crate docs.
#[derive(Clone)]
pub struct Ledger {
    backend: Backend,
    /// SQLite: the one writer task, which commits the records waiting together in one
    /// transaction (see [`write_together`]). `None` on PostgreSQL, where each record is its
    /// own transaction on its own connection.
    writer: Option<mpsc::Sender<Job>>,
}

#[derive(Clone)]
enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$dialect` to its [`sql::Dialect`]:
/// the code is the same for both, type-checked once per backend.
macro_rules! with_pool {
    ($ledger:expr, $pool:ident, $dialect:ident => $body:expr) => {
        match &$ledger.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite($pool) => {
                let $dialect = &sql::SQLITE;
                $body
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres($pool) => {
                let $dialect = &sql::POSTGRES;
                $body
            }
        }
    };
}

impl Ledger {
    /// Connects to the ledger at `url` and brings its schema to this version.
    ///
    /// - `sqlite://PATH` (or `sqlite:PATH`): the file is created when missing, opened in WAL
    ///   mode with `synchronous=FULL` (a commit is on disk before it returns). Needs the
    ///   `sqlite` feature (default).
    /// - `postgres://…` or `postgresql://…`: any libpq-style URL sqlx accepts, TLS through
    ///   rustls (`sslmode=require`…). Needs the `postgres` feature.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Url`](crate::ErrorKind::Url) for another scheme or a malformed URL;
    /// [`ErrorKind::NotAFile`](crate::ErrorKind::NotAFile) when the SQLite path is a
    /// directory, a FIFO, a device or a socket (checked before opening, so it never blocks);
    /// [`ErrorKind::Database`](crate::ErrorKind::Database) when the database cannot be opened
    /// or reached; [`ErrorKind::Migration`](crate::ErrorKind::Migration) when the schema
    /// cannot be migrated.
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            #[cfg(feature = "sqlite")]
            "sqlite" => Self::connect_sqlite(url).await,
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Self::connect_postgres(url).await,
            other => Err(Error::scheme(other)),
        }
    }

    #[cfg(feature = "sqlite")]
    async fn connect_sqlite(url: &str) -> Result<Self, Error> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

        let options = SqliteConnectOptions::from_str(url)
            .map_err(Error::url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            // A checkpoint copies the pages the log holds back into the database file and
            // syncs it; the commit that reaches the threshold waits for it. Every 10,000 pages
            // (about 40 MB of log) rather than SQLite's 1,000 copies a page rewritten by many
            // groups once rather than many times, and stalls commits a tenth as often.
            .pragma("wal_autocheckpoint", "10000");
        check_regular_file(options.get_filename())?;
        // Processes opening a new file at once race for it: switching it to WAL needs the
        // file to themselves ("database is locked", which SQLite's busy wait does not cover),
        // and SQLite has no advisory lock for the migrator, so the second's script fails on
        // the tables the first just committed (each script is one transaction: nothing
        // half-done stays). A short wait and another try find the file ready and the version
        // applied. PostgreSQL's migrator locks instead.
        let migrator = migrations::sqlite().await?;
        let mut tries = 0u32;
        let pool = loop {
            tries += 1;
            let attempt = async {
                // No ping before each use: a connection to a local file does not go stale.
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .test_before_acquire(false)
                    .connect_with(options.clone())
                    .await?;
                match migrator.run(&pool).await {
                    Ok(()) => Ok(pool),
                    Err(err) => {
                        pool.close().await;
                        Err(Error::migration(err))
                    }
                }
            };
            match attempt.await {
                Ok(pool) => break pool,
                Err(err) if tries < 10 && err.is_contention() => {
                    tokio::time::sleep(std::time::Duration::from_millis(u64::from(tries) * 20))
                        .await;
                }
                Err(err) => return Err(err),
            }
        };
        // The writer task's connection is its own, always the same one: SQLite writes one
        // transaction at a time anyway, and a connection's page cache survives from one
        // group to the next only while no other connection wrote in between. Taking turns
        // with the readers' connections would reread every page a group touches.
        let writer_pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        let (writer, jobs) = mpsc::channel(1024);
        let on_writer = Self {
            backend: Backend::Sqlite(writer_pool),
            writer: None,
        };
        tokio::spawn(write_together(on_writer, jobs));
        Ok(Self {
            backend: Backend::Sqlite(pool),
            writer: Some(writer),
        })
    }

    #[cfg(feature = "postgres")]
    async fn connect_postgres(url: &str) -> Result<Self, Error> {
        let options = sqlx::postgres::PgConnectOptions::from_str(url).map_err(Error::url)?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_with(options)
            .await?;
        migrations::postgres()
            .await?
            .run(&pool)
            .await
            .map_err(Error::migration)?;
        Ok(Self {
            backend: Backend::Postgres(pool),
            writer: None,
        })
    }

    /// Records an application sent at `at` and how the provider answered it. An accepted one
    /// opens a new attempt; a refused one only joins the history.
    ///
    /// Pass the provider's answer timestamp as `at` when the answer has one: the ordering rule
    /// compares it with callback timestamps, which come from the provider's clock.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Invalid`](crate::ErrorKind::Invalid) for a timestamp beyond 63 bits;
    /// [`ErrorKind::Database`](crate::ErrorKind::Database) when the write failed (nothing was
    /// recorded).
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn record_application(
        &self,
        user_id: &UserId,
        at: Timestamp,
        outcome: &ApplicationOutcome,
    ) -> Result<Recorded, Error> {
        self.record(application_row(user_id, at, outcome)).await
    }

    /// Records a verified callback: [`Recorded::New`] the first time its content is seen
    /// (then answer `OK`), [`Recorded::Duplicate`] for a retry of a recorded one (answer `OK`
    /// too), [`Recorded::Stale`] when it is kept but does not change the current state.
    ///
    /// # Errors
    ///
    /// As [`Ledger::record_application`]. Answer the provider `5xx` on any error: it retries.
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn record_callback(&self, callback: &Callback) -> Result<Recorded, Error> {
        self.record(Row_ {
            identity: identity::of_callback(callback),
            user_id: callback.user_id(),
            kind: EventKind::Callback,
            status: Some(callback.status()),
            at: callback.timestamp(),
            fail_reason: callback.fail_reason(),
            code: None,
            retryable: false,
            opens_attempt: 0,
        })
        .await
    }

    /// Records the answer to a status query about `user_id`, timed `at` (the answer's own
    /// `timestamp` when it has one, else when the query was sent), by the same rules as a
    /// callback.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Invalid`](crate::ErrorKind::Invalid) when `data` names another user, or
    /// for a timestamp beyond 63 bits; otherwise as [`Ledger::record_application`].
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn record_status(
        &self,
        user_id: &UserId,
        data: &StatusData,
        at: Timestamp,
    ) -> Result<Recorded, Error> {
        if data
            .user_id()
            .is_some_and(|named| named != user_id.as_str())
        {
            return Err(Error::invalid(
                "userId",
                "of the status answer is not the user asked about",
            ));
        }
        self.record(Row_ {
            identity: identity::of_status(user_id, data, at),
            user_id,
            kind: EventKind::Status,
            status: Some(data.authentication_status()),
            at,
            fail_reason: data.fail_reason(),
            code: None,
            retryable: false,
            opens_attempt: 0,
        })
        .await
    }

    /// A handler for `kyc_client::CallbackService`: records each callback and succeeds once it
    /// is stored (new, duplicate or stale), so the service answers `OK` only after commit and
    /// `5xx` on a failed write.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_client::{CallbackService, Client};
    /// use kyc_store::Ledger;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let dir = tempfile::tempdir()?;
    /// # let url = format!("sqlite://{}/kyc.db", dir.path().display());
    /// let client = Client::builder().merchant_no("1027749636").app_secret("s").build()?;
    /// let ledger = Ledger::connect(&url).await?;
    /// let service = CallbackService::new(&client, ledger.callback_handler());
    /// # let _ = service;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn callback_handler(
        &self,
    ) -> impl Fn(Callback) -> BoxFuture<'static, Result<(), Error>> + Clone + Send + Sync + 'static
    {
        let ledger = self.clone();
        move |callback: Callback| {
            let ledger = ledger.clone();
            Box::pin(async move { ledger.record_callback(&callback).await.map(|_| ()) })
        }
    }

    /// Records many applications in one transaction, for batches: one commit (one sync to
    /// disk) for all of them, each by the rules of [`Ledger::record_application`]. When this
    /// returns `Ok`, every one is stored; on an error, none is.
    ///
    /// # Errors
    ///
    /// As [`Ledger::record_application`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_proto::{AuthenticationStatus, Timestamp, UserId};
    /// use kyc_store::{ApplicationOutcome, Ledger, Recorded};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = Ledger::connect(&format!("sqlite://{}/kyc.db", dir.path().display())).await?;
    /// let accepted = ApplicationOutcome::Accepted(AuthenticationStatus::Pending);
    /// let (a, b) = (UserId::new("a")?, UserId::new("b")?);
    /// let at = Timestamp::from_millis(1_000);
    /// let recorded = ledger.record_applications(&[(&a, at, &accepted), (&b, at, &accepted)]).await?;
    /// assert_eq!(recorded, [Recorded::New, Recorded::New]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn record_applications(
        &self,
        applications: &[(&UserId, Timestamp, &ApplicationOutcome)],
    ) -> Result<Vec<Recorded>, Error> {
        let writes = applications
            .iter()
            .map(|(user_id, at, outcome)| owned(application_row(user_id, *at, outcome)))
            .collect::<Result<Vec<_>, Error>>()?;
        self.submit(writes).await
    }

    /// One event, one transaction: the event once by its identity, then the user's row, then
    /// the current state when the event comes after the deciding one. The transaction runs on
    /// its own task (see [`detached`]).
    async fn record(&self, row: Row_<'_>) -> Result<Recorded, Error> {
        let mut recorded = self.submit(vec![owned(row)?]).await?;
        Ok(recorded.pop().expect("one row, one answer"))
    }

    /// Writes `rows` in one transaction: through the writer task on SQLite, on a task of
    /// their own on PostgreSQL. Either way a caller that stops waiting does not cut the
    /// transaction.
    async fn submit(&self, rows: Vec<Write>) -> Result<Vec<Recorded>, Error> {
        let Some(writer) = &self.writer else {
            let ledger = self.clone();
            return detached(async move { ledger.write(rows).await }).await;
        };
        let (reply, answer) = oneshot::channel();
        writer
            .send((rows, reply))
            .await
            .map_err(|_| Error::interrupted(WriterGone))?;
        answer.await.map_err(|_| Error::interrupted(WriterGone))?
    }

    /// Writes `rows` in one transaction, with the outcome of each as if they had been
    /// recorded one by one. Three statements per [`CHUNK`] of rows, however many: the events
    /// (those already stored are not inserted), the users of the new ones (returning the event
    /// that decides each user's state), and the users whose state a new event now decides.
    /// The ordering rule itself runs here, in [`decide`], not in SQL, so that it is the same
    /// on both backends whatever the database's collation.
    pub(crate) async fn write(&self, rows: Vec<Write>) -> Result<Vec<Recorded>, Error> {
        with_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin).await?;
            let mut recorded = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(CHUNK) {
                let fresh = first_of_each(chunk);
                let mut insert = QueryBuilder::new(sql::INSERT_EVENTS);
                insert.push_values(&fresh, |mut values, row| {
                    values
                        .push_bind(&row.identity[..])
                        .push_bind(&row.user_id)
                        .push_bind(row.kind.as_str())
                        .push_bind(row.status.as_deref())
                        .push_bind(row.rank)
                        .push_bind(row.at)
                        .push_bind(row.fail_reason.as_deref())
                        .push_bind(row.code.as_deref())
                        .push_bind(row.retryable);
                });
                insert.push(sql::INSERT_EVENTS_END);
                let inserted: HashSet<Vec<u8>> =
                    insert.build_query_scalar().fetch_all(&mut *tx).await?.into_iter().collect();
                if inserted.is_empty() {
                    recorded.extend(chunk.iter().map(|_| Recorded::Duplicate));
                    continue;
                }

                let new = fresh.into_iter().filter(|row| inserted.contains(&row.identity[..]));
                let mut users = QueryBuilder::new(sql::UPSERT_USERS);
                users.push_values(user_counts(new), |mut values, (user_id, counts)| {
                    values
                        .push_bind(user_id)
                        .push_bind(counts.applications)
                        .push_bind(counts.last_event_at);
                });
                users.push(sql::UPSERT_USERS_END);
                let mut deciders: HashMap<String, Option<Decider>> = users
                    .build_query_as::<DeciderRow>()
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(decider_from_row)
                    .collect();

                let (outcomes, changed) = decide(chunk, inserted, &mut deciders);
                recorded.extend(outcomes);
                if changed.is_empty() {
                    continue;
                }
                let mut states = QueryBuilder::new(sql::SET_STATES);
                states.push_values(changed, |mut values, user_id| {
                    let decider = deciders[user_id].as_ref().expect("a changed user has a decider");
                    values
                        .push_bind(user_id)
                        .push_bind(decider.at)
                        .push_bind(decider.rank)
                        .push_bind(&decider.status)
                        .push_bind(decider.reason.as_deref())
                        .push_bind(&decider.identity);
                });
                states.push(sql::SET_STATES_END);
                states.build().execute(&mut *tx).await?;
            }
            if recorded.iter().all(|r| *r == Recorded::Duplicate) {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            Ok(recorded)
        })
    }

    /// The user's current state, or `None` when nothing about the user was recorded.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Database`](crate::ErrorKind::Database) when the read failed;
    /// [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt) when a stored value does not read
    /// back.
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn state(&self, user_id: &UserId) -> Result<Option<UserState>, Error> {
        with_pool!(self, pool, _dialect => {
            let row = sqlx::query_as::<_, StateRow>(sql::SELECT_STATE)
                .bind(user_id.as_str())
                .fetch_optional(pool)
                .await?;
            row.map(state_from_row).transpose()
        })
    }

    /// The user's events in order: by timestamp; at one instant an application first, then
    /// the others as recorded. Empty when nothing was recorded.
    ///
    /// # Errors
    ///
    /// As [`Ledger::state`].
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn history(&self, user_id: &UserId) -> Result<Vec<Event>, Error> {
        with_pool!(self, pool, _dialect => {
            let rows = sqlx::query_as::<_, EventRow>(sql::SELECT_HISTORY)
                .bind(user_id.as_str())
                .fetch_all(pool)
                .await?;
            events_from_rows(rows)
        })
    }

    /// Up to `limit` users due for reconciliation at `now`: current status not final, latest
    /// status-carrying event before `now - older_than` (see [`DEFAULT_CUTOFF`]), and not
    /// claimed by a running lease. Oldest first. Reads only; see [`Ledger::claim_due`].
    ///
    /// # Errors
    ///
    /// As [`Ledger::state`]; [`ErrorKind::Invalid`](crate::ErrorKind::Invalid) for a `now`
    /// beyond 63 bits.
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn due(
        &self,
        now: Timestamp,
        older_than: Duration,
        limit: u32,
    ) -> Result<Vec<UserId>, Error> {
        let now_ms = millis("now", now)?;
        let cutoff = now_ms.saturating_sub(duration_ms(older_than));
        with_pool!(self, pool, _dialect => {
            let rows = sqlx::query_as::<_, (String,)>(sql::SELECT_DUE)
                .bind(cutoff)
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.into_iter().map(|(user,)| user_id_from(user)).collect()
        })
    }

    /// Claims up to `limit` due users (as [`Ledger::due`]) for `lease`: until `now + lease`
    /// no other claimer, in this process or another, gets them. The claim is one committed
    /// transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent claimers split the
    /// due users instead of waiting). A user whose status answer is recorded stops being due
    /// until the cut-off has passed again; one whose query failed is due again when the lease
    /// ends. Returned in user order.
    ///
    /// # Errors
    ///
    /// As [`Ledger::due`].
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn claim_due(
        &self,
        now: Timestamp,
        older_than: Duration,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<UserId>, Error> {
        let now_ms = millis("now", now)?;
        let cutoff = now_ms.saturating_sub(duration_ms(older_than));
        let lease_until = now_ms.saturating_add(duration_ms(lease));
        let ledger = self.clone();
        detached(async move { ledger.claim(cutoff, now_ms, limit, lease_until).await }).await
    }

    async fn claim(
        &self,
        cutoff: i64,
        now_ms: i64,
        limit: u32,
        lease_until: i64,
    ) -> Result<Vec<UserId>, Error> {
        with_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin).await?;
            let rows = sqlx::query_as::<_, (String,)>(dialect.claim)
                .bind(cutoff)
                .bind(now_ms)
                .bind(i64::from(limit))
                .bind(lease_until)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            let mut users = rows
                .into_iter()
                .map(|(user,)| user_id_from(user))
                .collect::<Result<Vec<_>, Error>>()?;
            users.sort();
            Ok(users)
        })
    }

    /// How many users are in each current status.
    ///
    /// # Errors
    ///
    /// As [`Ledger::state`].
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn counts(&self) -> Result<Counts, Error> {
        with_pool!(self, pool, _dialect => {
            let rows = sqlx::query_as::<_, (Option<String>, i64)>(sql::COUNT_BY_STATUS)
                .fetch_all(pool)
                .await?;
            counts_from_rows(rows)
        })
    }

    /// Every user's current state, in user order, as a stream read from the database as it
    /// is consumed (one row in memory at a time, whatever the ledger's size): for CSV or
    /// JSON-lines export (`UserState` is `Serialize`).
    ///
    /// # Errors
    ///
    /// Each item as [`Ledger::state`].
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub fn export(&self) -> impl Stream<Item = Result<UserState, Error>> + Send + '_ {
        let stream: Pin<Box<dyn Stream<Item = Result<UserState, Error>> + Send + '_>> = with_pool!(self, pool, _dialect => {
            Box::pin(
                sqlx::query_as::<_, StateRow>(sql::SELECT_STATES)
                    .fetch(pool)
                    .map(|row| state_from_row(row?)),
            )
        });
        stream
    }

    /// Closes the pool: waits for connections in use to be returned, then closes them all.
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub async fn close(&self) {
        with_pool!(self, pool, _dialect => pool.close().await)
    }

    /// Which backend this ledger is on: `"sqlite"` or `"postgres"`.
    ///
    /// # Examples
    ///
    /// See the crate docs.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        match self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL is not kept: it may hold a password.
        f.debug_struct("Ledger")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}
