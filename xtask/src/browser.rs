//! The `browser-crypto` step of `cargo xtask test`: the crypto crate's unit and integration tests
//! in headless Chromium, through wasm-bindgen-test.
//!
//! Cargo runs each wasm32 test binary with `wasm-bindgen-test-runner`, which serves it on
//! loopback and drives Chromium through chromedriver. What the step needs, and `.ci/run`
//! installs: Chromium and its chromedriver at the same major version (Debian's `chromium` and
//! `chromium-driver`), and the runner from `wasm-bindgen-cli` at exactly the version of the
//! `wasm-bindgen` crate in `Cargo.lock`. [`ensure_tools`] checks all three before the build.
//!
//! The browser's options are in `crypto/webdriver.json`: headless, no sandbox (CI runs as
//! root), no GPU, no background networking, component updates or sync (the machine may have no
//! network at all), and a script timeout of ten minutes instead of chromedriver's 30 seconds: a
//! test runs on the page's main thread, and while one runs long (a record verification on a
//! loaded machine) the page cannot answer the runner's polling.
//!
//! The build has its own target directory, so the step never waits for another build's lock,
//! and its own profile (`browser-test` in the root `Cargo.toml`).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::WASM_TARGET;

/// The cargo profile of the browser tests (root `Cargo.toml`).
const PROFILE: &str = "browser-test";

/// The target directory of the browser tests, relative to the workspace root.
const TARGET_DIR: &str = "target/wasm-tests";

/// The browser's WebDriver capabilities, relative to the workspace root.
const WEBDRIVER_JSON: &str = "crypto/webdriver.json";

/// Seconds each test binary may take in the browser, unless `WASM_BINDGEN_TEST_TIMEOUT` says
/// otherwise: the unit tests take about two minutes on two busy cores.
const TIMEOUT_SECS: &str = "600";

/// What to say when Chromium or chromedriver is missing or they disagree.
const CHROMIUM_MISSING: &str =
    "Chromium and chromedriver of the same version are needed for the browser tests; on Debian: apt-get install chromium chromium-driver";

/// The browsers chromedriver may start, by the names distributions give them.
const BROWSERS: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// Makes `cmd` (cargo, from the workspace root) the step's command:
/// `cargo test -p tabella-crypto --target wasm32-unknown-unknown --profile browser-test --tests`.
///
/// `--tests` leaves out the doctests: rustdoc cannot build them for the runner, which would
/// report them passed without running them (the `test` step runs them natively).
pub(crate) fn crypto_tests<'a>(cmd: &'a mut Command, root: &Path) -> &'a mut Command {
    let timeout = env::var("WASM_BINDGEN_TEST_TIMEOUT").unwrap_or_else(|_| TIMEOUT_SECS.into());
    cmd.env("CARGO_TARGET_DIR", root.join(TARGET_DIR))
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            root.join(WEBDRIVER_JSON),
        )
        .env("WASM_BINDGEN_TEST_TIMEOUT", timeout);
    // Named explicitly: the runner would take a geckodriver on the PATH before chromedriver.
    if let Some(driver) = chromedriver() {
        cmd.env("CHROMEDRIVER", driver);
    }
    cmd.args([
        "test",
        "-p",
        "tabella-crypto",
        "--target",
        WASM_TARGET,
        "--profile",
        PROFILE,
        "--tests",
        "--locked",
    ])
}

/// Fails, saying what to install, unless the runner is the locked wasm-bindgen version,
/// chromedriver and Chromium run and agree on their major version, and the capabilities file is
/// there.
pub(crate) fn ensure_tools(root: &Path) -> Result<()> {
    let lock =
        std::fs::read_to_string(root.join("Cargo.lock")).context("could not read Cargo.lock")?;
    let locked = locked_version(&lock, "wasm-bindgen")
        .context("Cargo.lock has no wasm-bindgen package: tabella-crypto's tests depend on it")?;
    let install = format!("cargo install --locked wasm-bindgen-cli --version {locked}");
    match version_output(Path::new("wasm-bindgen-test-runner")) {
        Ok(said) => ensure!(
            said.split_whitespace().nth(1) == Some(locked),
            "wasm-bindgen-test-runner is {said:?}, but Cargo.lock has wasm-bindgen {locked}: \
             install the matching runner with `{install}`"
        ),
        Err(error) => bail!("{error:#}: install it with `{install}`"),
    }

    let driver = chromedriver()
        .context("chromedriver is not on the PATH and CHROMEDRIVER is not set")
        .context(CHROMIUM_MISSING)?;
    let driver_said = version_output(&driver).context(CHROMIUM_MISSING)?;
    let browser_said = BROWSERS
        .iter()
        .find_map(|name| version_output(Path::new(name)).ok())
        .with_context(|| format!("no browser runs as any of {BROWSERS:?}"))
        .context(CHROMIUM_MISSING)?;
    let (driver_major, browser_major) = (major_version(&driver_said), major_version(&browser_said));
    ensure!(
        driver_major.is_some() && driver_major == browser_major,
        "{} is {driver_said:?} but the browser is {browser_said:?}. {CHROMIUM_MISSING}",
        driver.display()
    );

    let capabilities = root.join(WEBDRIVER_JSON);
    ensure!(
        capabilities.is_file(),
        "{} is missing: it holds the browser's options for the runner",
        capabilities.display()
    );
    Ok(())
}

/// The chromedriver to use: `$CHROMEDRIVER`, or the first `chromedriver` on the `PATH`.
fn chromedriver() -> Option<PathBuf> {
    match env::var_os("CHROMEDRIVER") {
        Some(path) if !path.is_empty() => Some(path.into()),
        _ => env::split_paths(&env::var_os("PATH")?)
            .map(|dir| dir.join("chromedriver"))
            .find(|path| path.is_file()),
    }
}

/// What `program --version` prints on its standard output, trimmed.
fn version_output(program: &Path) -> Result<String> {
    let output = Command::new(program)
        .arg("--version")
        .output()
        .with_context(|| format!("`{} --version` does not run", program.display()))?;
    ensure!(
        output.status.success(),
        "`{} --version` failed ({})",
        program.display(),
        output.status
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The version of `package` in the text of a `Cargo.lock` (its first entry of that name).
pub(crate) fn locked_version<'a>(lock: &'a str, package: &str) -> Option<&'a str> {
    let name = format!("name = \"{package}\"");
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == name {
            return lines
                .next()?
                .strip_prefix("version = \"")?
                .strip_suffix('"');
        }
    }
    None
}

/// The major version in a `--version` line: `ChromeDriver 156.0.8078.79 (…)` and
/// `Chromium 156.0.8078.79 built on Debian …` give 156.
fn major_version(said: &str) -> Option<u32> {
    said.split_whitespace().find_map(|word| {
        let (major, _) = word.split_once('.')?;
        major.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locked_version_is_the_one_of_the_named_package() {
        let lock = "[[package]]\nname = \"wasm-bindgen-test\"\nversion = \"0.3.79\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.129\"\n";
        assert_eq!(locked_version(lock, "wasm-bindgen"), Some("0.2.129"));
        assert_eq!(locked_version(lock, "wasm-bindgen-test"), Some("0.3.79"));
        assert_eq!(locked_version(lock, "js-sys"), None);
    }

    #[test]
    fn major_versions_are_read_from_what_chromium_and_chromedriver_print() {
        let driver = "ChromeDriver 156.0.8078.79 (a21ce95c24ce-refs/branch-heads/8078@{#1704})";
        let browser = "Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)";
        assert_eq!(major_version(driver), Some(156));
        assert_eq!(major_version(browser), Some(156));
        assert_eq!(major_version("Google Chrome 131.0.6778.85"), Some(131));
        assert_eq!(major_version("chromium: not found"), None);
    }

    #[test]
    fn the_step_follows_the_native_tests_and_quick_leaves_it_out() {
        use crate::Step;
        let position = |step| Step::ALL.iter().position(|s| *s == step);
        assert!(position(Step::BrowserCrypto) > position(Step::Test));
        assert!(Step::SLOW.contains(&Step::BrowserCrypto));
        assert_eq!(Step::BrowserCrypto.name(), "browser-crypto");
    }

    #[test]
    fn the_step_runs_every_test_binary_in_its_own_target_directory() {
        let root = Path::new("/w");
        let mut cmd = Command::new("cargo");
        crypto_tests(&mut cmd, root);
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(
            args,
            [
                "test",
                "-p",
                "tabella-crypto",
                "--target",
                WASM_TARGET,
                "--profile",
                PROFILE,
                "--tests",
                "--locked"
            ]
        );
        let env = |key: &str| {
            cmd.get_envs()
                .find(|(k, _)| *k == key)
                .and_then(|(_, v)| v)
                .map(|v| v.to_string_lossy().into_owned())
        };
        assert_eq!(
            env("CARGO_TARGET_DIR"),
            Some(root.join(TARGET_DIR).display().to_string())
        );
        assert_eq!(
            env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER").as_deref(),
            Some("wasm-bindgen-test-runner")
        );
        assert_eq!(
            env("WASM_BINDGEN_TEST_WEBDRIVER_JSON"),
            Some(root.join(WEBDRIVER_JSON).display().to_string())
        );
    }

    #[test]
    fn the_capabilities_file_keeps_the_browser_off_the_network() {
        let root = crate::workspace_root().expect("the workspace root");
        let text = std::fs::read_to_string(root.join(WEBDRIVER_JSON)).expect("webdriver.json");
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ] {
            assert!(text.contains(&format!("\"{arg}\"")), "{arg}");
        }
        assert!(text.contains("\"script\": 600000"), "the script timeout");
    }
}
