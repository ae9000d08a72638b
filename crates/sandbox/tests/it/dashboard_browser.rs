//! The dashboard in a real headless browser: Debian's `chromium` driven through
//! `chromedriver` (WebDriver, by `fantoccini`). Approving a held application from the page
//! must show it approved and its callback attempt, without a reload.
//!
//! With `CI=true` a missing browser fails the test; elsewhere it prints SKIPPED and passes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use kyc_sandbox::{FixedClock, Outcome};

use crate::support::*;

/// `name` on the `PATH`, if it is there.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Kills chromedriver (and so its browser) when the test ends, passed or not.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where test artifacts go: `<target>/<profile>/artifacts`, next to the test binary's `deps`.
fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
    profile.join("artifacts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_a_held_application_in_the_browser_shows_it_and_its_callback() {
    let (Some(chromedriver), Some(_)) = (find_program("chromedriver"), find_program("chromium"))
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium or chromedriver is missing: apt-get install chromium chromium-driver"
        );
        #[allow(clippy::print_stderr)] // the one way a skipped test can say so
        {
            eprintln!(
                "\n*** SKIPPED: chromium/chromedriver not installed; the dashboard browser test did not run ***\n"
            );
        }
        return;
    };

    let clock = FixedClock::new(NOW);
    let running = run(builder(&clock).default_outcome(Outcome::Hold)).await;
    let receiver = receiver(vec![(200, "OK")]).await;
    apply(&running, "browser_u1", &receiver.url).await;
    apply(&running, "reject-browser_u2", &receiver.url).await;

    // A free loopback port for chromedriver (taken and released just before it starts).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({"args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,760", "--no-first-run", "--disable-extensions"
        ]}),
    );
    // chromedriver needs a moment to listen: retry the session for a bounded time.
    let mut client = None;
    for _ in 0..100 {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(connected) => {
                client = Some(connected);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let client = client.expect("a WebDriver session with chromedriver");

    let outcome = async {
        client.goto(&running.dashboard_url()).await?;
        let approve = r#"tr[data-user-id="browser_u1"] button[data-action="approve"]"#;
        // The page re-renders its tables when the state changes: an element found just
        // before a re-render goes stale, so find and click again.
        let mut clicked = false;
        for _ in 0..50 {
            let button = client
                .wait()
                .at_most(Duration::from_secs(20))
                .for_element(Locator::Css(approve))
                .await?;
            if button.click().await.is_ok() {
                clicked = true;
                break;
            }
        }
        assert!(clicked, "the approve button could be clicked");
        // The page follows the change by itself: status approved, a callback attempt listed.
        // Read in one script, so that a re-render cannot come between two reads.
        let read = r#"
            const status = document.querySelector('tr[data-user-id="browser_u1"] .status');
            const callback = document.querySelector('tr.callback[data-user-id="browser_u1"]');
            return [status ? status.textContent : "", callback ? callback.innerText : ""];
        "#;
        let mut shown = (String::new(), String::new());
        for _ in 0..200 {
            let value = client.execute(read, Vec::new()).await?;
            shown = (
                value[0].as_str().unwrap_or_default().to_owned(),
                value[1].as_str().unwrap_or_default().to_owned(),
            );
            if shown.0 == "approved" && !shown.1.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(shown.0, "approved");
        assert!(shown.1.contains("delivered"), "{}", shown.1);
        assert!(shown.1.contains("OK"), "{}", shown.1);
        assert!(shown.1.contains("200"), "{}", shown.1);
        let result = client.find(Locator::Id("result")).await?.text().await?;
        assert!(result.contains("browser_u1"), "{result}");
        let png = client.screenshot().await?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("dashboard.png"), &png).unwrap();
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = client.close().await;
    outcome.expect("the dashboard behaves in the browser");
    assert!(running.log().is_delivered("browser_u1"));
    assert_eq!(
        running
            .application(MERCHANT, "browser_u1")
            .unwrap()
            .status()
            .as_str(),
        "2"
    );
    running.shutdown().await;
}
