//! What only the SQLite backend has: the file it is given, and how it writes it.

use std::time::Duration;

use kyc_store::{ErrorKind, Ledger};
use sqlx::Connection;

/// Connecting must answer promptly: opening a FIFO for writing would block forever.
async fn connect_error(url: &str) -> kyc_store::Error {
    tokio::time::timeout(Duration::from_secs(20), Ledger::connect(url))
        .await
        .expect("answers, does not hang")
        .expect_err("not a usable SQLite path")
}

#[tokio::test]
async fn a_directory_fifo_or_device_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = connect_error(&format!("sqlite://{}", dir.path().display())).await;
    assert_eq!(err.kind(), ErrorKind::NotAFile);
    assert_eq!(
        err.to_string(),
        "the SQLite path is a directory, not a file"
    );

    let fifo = dir.path().join("kyc.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let err = connect_error(&format!("sqlite://{}", fifo.display())).await;
    assert_eq!(err.kind(), ErrorKind::NotAFile);
    assert_eq!(err.to_string(), "the SQLite path is a FIFO, not a file");

    let err = connect_error("sqlite:///dev/null").await;
    assert_eq!(err.kind(), ErrorKind::NotAFile);
    assert_eq!(err.to_string(), "the SQLite path is a device, not a file");
}

#[tokio::test]
async fn the_file_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let url = format!("sqlite://{}", path.display());
    let ledger = Ledger::connect(&url).await.unwrap();
    assert!(path.is_file());
    assert_eq!(ledger.backend(), "sqlite");
    ledger.close().await;
    // WAL is a property of the file: a plain connection sees it.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let (version,): (i64,) = sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, 1);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_missing_parent_directory_is_a_database_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/no/such/dir/kyc.db", dir.path().display());
    let err = connect_error(&url).await;
    assert_eq!(err.kind(), ErrorKind::Database);
}

#[tokio::test]
async fn unsupported_schemes_are_url_errors() {
    for url in ["mysql://localhost/kyc", "kyc.db", ""] {
        assert_eq!(connect_error(url).await.kind(), ErrorKind::Url, "{url}");
    }
    #[cfg(not(feature = "postgres"))]
    assert_eq!(
        connect_error("postgres://localhost/kyc").await.kind(),
        ErrorKind::Url
    );
}

#[tokio::test]
async fn an_in_memory_ledger_works_for_its_lifetime() {
    // Shared-cache memory database: every pooled connection sees the same data.
    let ledger = Ledger::connect("sqlite::memory:").await.unwrap();
    let user = kyc_proto::UserId::new("mem_1").unwrap();
    let callback = kyc_proto::Callback::new(
        user.clone(),
        kyc_proto::AuthenticationStatus::Approved,
        None,
        kyc_proto::Timestamp::from_millis(1),
    );
    ledger.record_callback(&callback).await.unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (ledger, user) = (ledger.clone(), user.clone());
            tokio::spawn(async move { ledger.state(&user).await.unwrap().is_some() })
        })
        .collect();
    for reader in readers {
        assert!(reader.await.unwrap());
    }
    ledger.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_first_connects_to_one_new_file_all_succeed() {
    // As processes starting together on a new ledger: one migrates, the others find it done.
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/kyc.db", dir.path().display());
        let connects: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { kyc_store::Ledger::connect(&url).await })
            })
            .collect();
        for connect in connects {
            let ledger = connect.await.unwrap().expect("every connect succeeds");
            ledger.close().await;
        }
    }
}
