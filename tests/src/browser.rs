//! Real headless Chromium for the browser tests, driven through WebDriver: Debian's `chromium`
//! and `chromium-driver` packages (`.ci/run` installs them).
//!
//! The first test that asks for a driver starts one `chromedriver` for the whole test process
//! on a free loopback port, under the same watchdog as the other harnesses (it never outlives
//! the test process). Each test opens its own browser session with [`ChromeDriver::capabilities`]:
//! headless, no sandbox (CI runs as root), and no background networking (this machine's network
//! is closed; Chromium's update, sync and metrics connections would only fail).
//!
//! The programs come from `TABELLA_CHROMEDRIVER` / `TABELLA_CHROMIUM` when set, else
//! `chromedriver` and `chromium` on the `PATH` (Debian: `/usr/bin`).
//!
//! ```no_run
//! use tabella_tests::browser;
//!
//! // Some(driver) with Chromium; None (and a loud note on stderr) without it, unless CI=true or
//! // TABELLA_REQUIRE_BROWSER=1, which turn its absence into a failure.
//! if let Some(driver) = browser::driver_or_skip("my_test") {
//!     let (url, capabilities) = (driver.url(), driver.capabilities());
//!     # let _ = (url, capabilities);
//! }
//! ```

use std::env;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::process::{free_port, required, which, Supervised};

/// Names the chromedriver to use instead of `chromedriver` on the `PATH`.
pub const CHROMEDRIVER_ENV: &str = "TABELLA_CHROMEDRIVER";
/// Names the Chromium to use instead of `chromium` on the `PATH`.
pub const CHROMIUM_ENV: &str = "TABELLA_CHROMIUM";
/// Set to `1`, makes a missing browser a test failure rather than a skip (as `CI=true` does).
pub const REQUIRE_ENV: &str = "TABELLA_REQUIRE_BROWSER";

/// How to get the browser, for the error messages.
const INSTALL_HINT: &str = "install Chromium and its WebDriver (Debian: `apt-get install chromium \
     chromium-driver`), or name them with TABELLA_CHROMIUM and TABELLA_CHROMEDRIVER";

/// How long chromedriver may take to answer `GET /status`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Chromium's command-line switches for the tests.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-quic",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--window-size=1280,1000",
];

/// Why there is no browser to test with.
#[derive(Debug, thiserror::Error)]
#[error("no browser for the browser tests: {0}")]
pub struct BrowserUnavailable(String);

/// A running chromedriver.
#[derive(Debug)]
pub struct ChromeDriver {
    url: String,
    chromium: PathBuf,
    _process: Supervised,
}

impl ChromeDriver {
    /// The WebDriver endpoint, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The Chromium binary the sessions run.
    pub fn chromium(&self) -> &PathBuf {
        &self.chromium
    }

    /// The capabilities of a new session: this Chromium with [`CHROMIUM_ARGS`], as the JSON
    /// object WebDriver's `POST /session` takes under `alwaysMatch`.
    pub fn capabilities(&self) -> serde_json::Map<String, serde_json::Value> {
        self.capabilities_downloading_to(None)
    }

    /// As [`capabilities`](Self::capabilities), with the session's downloads saved into
    /// `downloads` without asking, as a user's browser saves them into their downloads folder.
    pub fn capabilities_downloading_to(
        &self,
        downloads: Option<&std::path::Path>,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut options = serde_json::json!({
            "binary": self.chromium.display().to_string(),
            "args": CHROMIUM_ARGS,
        });
        if let Some(dir) = downloads {
            options["prefs"] = serde_json::json!({
                "download.default_directory": dir.display().to_string(),
                "download.prompt_for_download": false,
            });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert("goog:chromeOptions".into(), options);
        caps
    }
}

/// The driver for this test process, started on first use.
pub fn driver() -> Result<&'static ChromeDriver, BrowserUnavailable> {
    static DRIVER: OnceLock<Result<ChromeDriver, String>> = OnceLock::new();
    DRIVER
        .get_or_init(start)
        .as_ref()
        .map_err(|reason| BrowserUnavailable(reason.clone()))
}

/// The driver, or `None` with a note on stderr when there is none and none is required (neither
/// `CI=true` nor `TABELLA_REQUIRE_BROWSER=1`).
///
/// # Panics
/// When there is no browser and one is required.
pub fn driver_or_skip(test: &str) -> Option<&'static ChromeDriver> {
    match driver() {
        Ok(driver) => Some(driver),
        Err(err) => {
            if let Some(why) = required(REQUIRE_ENV) {
                panic!("{err} ({why} requires the browser tests to run)");
            }
            eprintln!("SKIPPED {test}: {err}");
            None
        }
    }
}

fn program(env_name: &str, name: &str) -> Result<PathBuf, String> {
    match env::var_os(env_name) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            if path.is_file() {
                Ok(path)
            } else {
                Err(format!("{env_name}={} is not a file", path.display()))
            }
        }
        _ => which(name).ok_or_else(|| format!("`{name}` is not on PATH: {INSTALL_HINT}")),
    }
}

fn start() -> Result<ChromeDriver, String> {
    let chromedriver = program(CHROMEDRIVER_ENV, "chromedriver")?;
    let chromium = program(CHROMIUM_ENV, "chromium")?;
    let port = free_port().map_err(|err| format!("cannot find a free port: {err}"))?;
    let mut command = Command::new(&chromedriver);
    command.arg(format!("--port={port}"));
    let mut process = Supervised::spawn("chromedriver", &command)?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match ready(addr) {
            Ok(()) => {
                return Ok(ChromeDriver {
                    url: format!("http://{addr}"),
                    chromium,
                    _process: process,
                })
            }
            Err(_) if Instant::now() < deadline => {
                if let Some(status) = process.exited() {
                    return Err(format!(
                        "{} exited ({status}){}",
                        chromedriver.display(),
                        process.log_tail()
                    ));
                }
                thread::sleep(Duration::from_millis(100));
            }
            Err(err) => {
                return Err(format!(
                    "{} on {addr} was not ready within {} s: {err}{}",
                    chromedriver.display(),
                    START_TIMEOUT.as_secs(),
                    process.log_tail()
                ))
            }
        }
    }
}

/// WebDriver's `GET /status` answers `"ready": true`.
fn ready(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|err| format!("cannot connect: {err}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|err| err.to_string())?;
    write!(
        stream,
        "GET /status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|err| format!("cannot send: {err}"))?;
    // chromedriver keeps the connection open: read until the answer says whether it is ready.
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&response).replace(' ', "");
        if text.contains("\"ready\":true") {
            return Ok(());
        }
        if text.contains("\"ready\":false") {
            return Err(format!("not ready: {text:.200}"));
        }
        match stream.read(&mut buf) {
            Ok(0) => return Err(format!("no status in the answer: {text:.200}")),
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(err) => return Err(format!("no answer: {err}")),
        }
    }
}
