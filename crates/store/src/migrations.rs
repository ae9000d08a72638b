//! The schema, embedded: one folder of numbered scripts per backend, applied on connect by
//! sqlx's migrator (which records each applied version and its checksum in
//! `_sqlx_migrations`, and refuses a database migrated by a newer version of this crate).

use std::borrow::Cow;

use futures_core::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::Error;

/// The scripts of one backend: `(version, description, sql)`, in version order.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

#[cfg(feature = "sqlite")]
const SQLITE: Embedded = Embedded(&[(
    1,
    "ledger",
    include_str!("../migrations/sqlite/0001_ledger.sql"),
)]);

#[cfg(feature = "postgres")]
const POSTGRES: Embedded = Embedded(&[(
    1,
    "ledger",
    include_str!("../migrations/postgres/0001_ledger.sql"),
)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        let migrations = self
            .0
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

#[cfg(feature = "sqlite")]
pub(crate) async fn sqlite() -> Result<Migrator, Error> {
    Migrator::new(SQLITE).await.map_err(Error::migration)
}

#[cfg(feature = "postgres")]
pub(crate) async fn postgres() -> Result<Migrator, Error> {
    Migrator::new(POSTGRES).await.map_err(Error::migration)
}
