//! Secrets, signatures and personal data never appear in traces, errors or `Debug`.

use kyc_client::types::{Application, CallbackUrl, Furigana, UserId};

use kyc_test_support::assert_none_leaked;
use kyc_test_support::trace::Capture;

use crate::support::{ACCEPTED, Answer, Provider, SECRET, SYSTEM_ERROR};

const FURIGANA: &str = "ヤマダタロウ";
const USER: &str = "user_secret_42";

#[tokio::test]
async fn traces_and_errors_never_show_the_secret_the_signature_or_the_person() {
    let capture = Capture::global();
    let from = capture.len();

    let provider = Provider::start(vec![
        Answer::Reply(500, SYSTEM_ERROR),
        Answer::Reply(200, ACCEPTED),
    ])
    .await;
    let client = provider.client(3);
    let application = Application::new(
        UserId::new(USER).unwrap(),
        CallbackUrl::new("https://merchant.example.com/cb").unwrap(),
        Furigana::new(FURIGANA).unwrap(),
    );
    client.apply(&application).await.unwrap();
    let failing = Provider::start(vec![Answer::Reply(200, SYSTEM_ERROR)]).await;
    let err = failing.client(2).apply(&application).await.unwrap_err();

    // The signatures actually sent, as the provider received them.
    let signatures: Vec<String> = provider
        .received()
        .iter()
        .map(|received| {
            let body = String::from_utf8(received.body.to_vec()).unwrap();
            let after = body.split("name=\"sign\"\r\n\r\n").nth(1).unwrap();
            after[..32].to_owned()
        })
        .collect();
    assert_eq!(signatures.len(), 2);

    let logs = capture.since(from);
    assert!(
        logs.contains("kyc.attempt"),
        "the spans were captured: {logs}"
    );
    assert!(logs.contains("retrying"), "{logs}");
    let everything = format!(
        "{logs}\n{err}\n{err:?}\n{client:?}\n{:?}",
        std::error::Error::source(&err)
    );
    assert_none_leaked(
        &everything,
        [SECRET, FURIGANA, USER, &signatures[0], &signatures[1]],
    );
    // `userId` is the merchant's own identifier, not personal data: `Debug` of the application
    // may show it, but its name in katakana never.
    assert!(!format!("{application:?}").contains(FURIGANA));
}

#[test]
fn builder_debug_hides_the_secret() {
    let builder = kyc_client::Client::builder().app_secret(SECRET);
    assert!(!format!("{builder:?}").contains(SECRET));
}
