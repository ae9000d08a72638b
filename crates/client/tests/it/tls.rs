//! HTTPS through `Client::builder()` against the sandbox serving its generated certificate:
//! trusted as an added root, and, with the `native-roots` feature, through the operating
//! system's store.

use kyc_client::types::{Application, ApplyData, CallbackUrl, Furigana, UserId};
use kyc_client::{
    Certificate, Client, ClientBuilder, Environment, Error, RetryPolicy, SystemClock,
};
use kyc_sandbox::{Running, Sandbox};

use crate::support::{MERCHANT, SECRET};

/// An HTTPS sandbox on the wall clock, which a client with the default clock agrees with.
async fn https_sandbox() -> Running {
    Sandbox::builder(SystemClock)
        .merchant(MERCHANT, SECRET)
        .https(true)
        .build()
        .unwrap()
        .start("127.0.0.1:0")
        .await
        .unwrap()
}

fn client(base_url: &str) -> ClientBuilder {
    Client::builder()
        .environment(Environment::custom(base_url).unwrap())
        .merchant_no(MERCHANT)
        .app_secret(SECRET)
        .retry(RetryPolicy::never())
}

async fn apply(client: &Client, user_id: &str) -> Result<ApplyData, Error> {
    let application = Application::new(
        UserId::new(user_id).unwrap(),
        CallbackUrl::new("https://merchant.example.com/api/kyc/callback").unwrap(),
        Furigana::new("テスト014").unwrap(),
    );
    client.apply(&application).await
}

/// Fails unless `err` is a refused TLS handshake, which sent nothing.
fn assert_tls_refused(err: &Error) {
    let Error::Transport(transport) = err else {
        panic!("{err:?}")
    };
    let source = std::error::Error::source(transport)
        .and_then(|source| source.downcast_ref::<kyc_transport::Error>());
    assert!(
        matches!(source, Some(kyc_transport::Error::Tls(_))),
        "{err:?}"
    );
    assert!(!err.request_may_have_been_sent());
}

#[tokio::test]
async fn an_added_root_trusts_the_https_sandbox() {
    let sandbox = https_sandbox().await;
    let pem = sandbox.certificate_pem().unwrap();
    let trusting = client(sandbox.base_url())
        .add_root_certificate(Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let accepted = apply(&trusting, "tls-root-u1").await.unwrap();
    assert_eq!(accepted.authentication_status().as_str(), "0");

    let default = client(sandbox.base_url()).build().unwrap();
    assert_tls_refused(&apply(&default, "tls-root-u2").await.unwrap_err());
    sandbox.shutdown().await;
}

/// Set in the child process of [`native_roots_come_from_the_operating_system_store`]: the
/// HTTPS sandbox's base URL.
#[cfg(feature = "native-roots")]
const NATIVE_CHILD_BASE_URL: &str = "KYC_CLIENT_NATIVE_ROOTS_CHILD_BASE_URL";

/// With the `native-roots` feature, `ClientBuilder::native_roots(true)` trusts the operating
/// system's store. `SSL_CERT_FILE` replaces that store (rustls-native-certs reads it), but it
/// belongs to the whole process: the check runs in a child, this test binary filtered to
/// [`native_roots_child`], whose store holds only the sandbox's certificate.
#[cfg(feature = "native-roots")]
#[tokio::test]
async fn native_roots_come_from_the_operating_system_store() {
    let sandbox = https_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.pem");
    std::fs::write(&store, sandbox.certificate_pem().unwrap()).unwrap();
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "tls::native_roots_child", "--nocapture"])
        .env(NATIVE_CHILD_BASE_URL, sandbox.base_url())
        .env("SSL_CERT_FILE", &store)
        .env_remove("SSL_CERT_DIR");
    // Waited for on the blocking pool, so this runtime keeps serving the child.
    let child = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run:\n{stdout}"
    );
    sandbox.shutdown().await;
}

/// The child half of [`native_roots_come_from_the_operating_system_store`]; does nothing when
/// run alone.
#[cfg(feature = "native-roots")]
#[tokio::test]
async fn native_roots_child() {
    let Some(base_url) = std::env::var_os(NATIVE_CHILD_BASE_URL) else {
        return;
    };
    let base_url = base_url.to_str().unwrap();
    let native = client(base_url).native_roots(true).build().unwrap();
    let accepted = apply(&native, "tls-native-u1").await.unwrap();
    assert_eq!(accepted.authentication_status().as_str(), "0");
    // Without the native store, the same certificate is refused.
    let webpki = client(base_url).build().unwrap();
    assert_tls_refused(&apply(&webpki, "tls-native-u2").await.unwrap_err());
}
