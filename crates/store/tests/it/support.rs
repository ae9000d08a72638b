//! A fresh ledger per test, on either backend, and the macro that runs a test on both.

use std::sync::atomic::{AtomicU64, Ordering};

use kyc_proto::{AuthenticationStatus, Callback, Timestamp, UserId};
use kyc_store::Ledger;

/// Instantiates each named `async fn(&Db)` of `crate::rules` once per backend, as
/// `sqlite::NAME` and `postgres::NAME`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = crate::support::Db::sqlite().await;
                    crate::support::run(db, |db| async move { super::$name(&db).await }).await;
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = crate::support::Db::postgres().await else { return };
                    crate::support::run(db, |db| async move { super::$name(&db).await }).await;
                }
            )*
        }
    };
}

/// One test's database: the ledger, and how to reach it directly.
pub(crate) struct Db {
    ledger: Ledger,
    url: String,
    place: Place,
}

enum Place {
    #[cfg(feature = "sqlite")]
    Sqlite(
        #[allow(dead_code, reason = "kept until the test ends: removes the file")]
        tempfile::TempDir,
    ),
    #[cfg(feature = "postgres")]
    Postgres { admin_url: String, schema: String },
}

/// Runs `test` with `db`, then removes the database, whether the test passed or panicked.
pub(crate) async fn run<F, Fut>(db: Db, test: F)
where
    F: FnOnce(std::sync::Arc<Db>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let db = std::sync::Arc::new(db);
    let outcome = tokio::spawn(test(std::sync::Arc::clone(&db))).await;
    db.finish().await;
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

impl Db {
    /// A ledger in a new temporary file.
    #[cfg(feature = "sqlite")]
    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}/kyc.db", dir.path().display());
        let ledger = Ledger::connect(&url).await.expect("a new SQLite ledger");
        Self {
            ledger,
            url,
            place: Place::Sqlite(dir),
        }
    }

    /// A ledger in a new schema of the test server, or `None` (after saying so) when there is
    /// no server and this is not CI.
    #[cfg(feature = "postgres")]
    pub(crate) async fn postgres() -> Option<Self> {
        use std::io::Write;

        use sqlx::Connection;

        let admin_url = std::env::var("KYC_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(admin) => admin,
            Err(err) if std::env::var("CI").as_deref() != Ok("true") => {
                // Straight to stderr, past the test harness's capture: a skip must be seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: PostgreSQL not reachable at {admin_url} ({err}); \
                     set KYC_TEST_POSTGRES_URL or start a server"
                );
                return None;
            }
            Err(err) => panic!("CI=true and PostgreSQL is not reachable at {admin_url}: {err}"),
        };
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("the OS random source");
        let schema = format!("kyc_test_{}", u64::from_le_bytes(random));
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .expect("CREATE SCHEMA");
        admin.close().await.expect("close");
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
        let ledger = Ledger::connect(&url).await.expect("a PostgreSQL ledger");
        Some(Self {
            ledger,
            url,
            place: Place::Postgres { admin_url, schema },
        })
    }

    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The URL the ledger was opened with (a second `Ledger::connect` reaches the same data).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Runs `statement` on the ledger's database, outside the ledger.
    pub(crate) async fn execute(&self, statement: &str) {
        use sqlx::Connection;

        match &self.place {
            #[cfg(feature = "sqlite")]
            Place::Sqlite(_) => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("open");
                sqlx::query(statement)
                    .execute(&mut conn)
                    .await
                    .expect(statement);
                conn.close().await.expect("close");
            }
            #[cfg(feature = "postgres")]
            Place::Postgres { .. } => {
                let mut conn = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::query(statement)
                    .execute(&mut conn)
                    .await
                    .expect(statement);
                conn.close().await.expect("close");
            }
        }
    }

    async fn finish(&self) {
        self.ledger.close().await;
        match &self.place {
            #[cfg(feature = "sqlite")]
            Place::Sqlite(_) => {}
            #[cfg(feature = "postgres")]
            Place::Postgres { admin_url, schema } => {
                use sqlx::Connection;

                let mut admin = sqlx::PgConnection::connect(admin_url)
                    .await
                    .expect("connect");
                sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&mut admin)
                    .await
                    .expect("DROP SCHEMA");
                admin.close().await.expect("close");
            }
        }
    }
}

/// A user id no other test of this process uses.
pub(crate) fn user(prefix: &str) -> UserId {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    UserId::new(format!("{prefix}_{}", NEXT.fetch_add(1, Ordering::Relaxed)))
        .expect("prefixes are plain")
}

pub(crate) fn t(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

pub(crate) const HOUR: u64 = 3_600_000;

pub(crate) fn callback(user: &UserId, status: &str, reason: Option<&str>, at: u64) -> Callback {
    Callback::new(
        user.clone(),
        AuthenticationStatus::from_wire(status),
        reason.map(str::to_owned),
        t(at),
    )
}
