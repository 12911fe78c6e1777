//! The web ballot in real headless Chromium, driven through WebDriver (`src/browser.rs` starts
//! Debian's chromedriver), against the real service serving the real booth bundle
//! (`cargo xtask booth` builds it into `target/booth/dist`; `TABELLA_BOOTH_DIR` names another).
//!
//! One demo election runs with the booth served; while voting is open, a person's steps are
//! played in the browser:
//! - a mistyped credential code and a code that is not on the voter list get clear errors;
//! - a voter challenges an encryption (Benaloh): the browser checks the opening, and the ballot
//!   is on the board as spoiled, never counted;
//! - the voter starts again and casts: the tracking code the booth shows is on the board, and
//!   the receipt the booth checked is the board's;
//! - the tracker confirms the ballot's inclusion under the signed tree head and says, in words,
//!   what became of each ballot: the cast one will count, the challenged one never counts, an
//!   unknown code is not on the board; then the same voting code casts again (outside the
//!   browser) and the tracker says the first ballot was replaced, when, and whom to contact; a
//!   mistyped code afterwards clears the old result; back in the booth with that code, the
//!   review says, before casting, that a new ballot would replace the earlier one;
//! - the tracker remembers the board it saw and checks that each new board extends it; a
//!   planted head of another history (signed with the board's key) raises the alarm;
//! - the footer shows the digest of the booth served, published in the election's manifest.
//!
//! Then the demo closes and tallies (the replacing ballot counted with the simulated ones), the
//! tracker says the replacement was counted and the first ballot still replaced, the booth
//! says voting has closed before asking for anything, and the observer page fetches the
//! record, runs the verifier in WebAssembly and shows every check passed and the published
//! totals.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use tabella_crypto::api::{BoardEntry, EntryStatus};
use tabella_crypto::ballot::ElectionContext;
use tabella_crypto::board::EntryKind;
use tabella_crypto::board::{BoardSigningKey, SignedTreeHead, TreeHead};
use tabella_crypto::booth::{BoothManifest, BOOTH_MANIFEST};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::record::Results;
use tabella_tally::client::ElectionClient;
use tabella_tally::demo::{
    self, BoothBallots, ContestSet, DemoHooks, DemoOptions, Finished, VotingOpen,
};
use tabella_tally::service::{self, BOARD_KEY_FILE};
use tabella_tests::browser::{self, ChromeDriver};

/// How long one step in the page may take (the first page load compiles the WebAssembly).
const STEP: Duration = Duration::from_secs(60);

/// The built booth: `TABELLA_BOOTH_DIR`, else `target/booth/dist` of the workspace.
fn booth_dir() -> PathBuf {
    match std::env::var_os("TABELLA_BOOTH_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/booth/dist"),
    }
}

/// `None` after a note that `why` something is missing, unless CI (or
/// `TABELLA_REQUIRE_BROWSER=1`) requires `what`: then the test fails.
fn missing<T>(why: &str, what: &str, note: &str) -> Option<T> {
    if let Some(required) = tabella_tests::process::required(browser::REQUIRE_ENV) {
        panic!("{why} ({required} requires {what})");
    }
    eprintln!("{note}: {why}");
    None
}

/// axe-core's script (`tests/browser`, pinned in its lock file; `cargo xtask test` and `.ci/run`
/// install it with `npm ci`), read once. `None` (with a note) when it is not installed and the
/// browser tests may run without the accessibility checks.
fn axe_source() -> Option<&'static str> {
    static AXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js");
        match std::fs::read_to_string(&path) {
            Ok(source) => Some(source),
            Err(err) => {
                let why = format!(
                    "axe-core is not installed at {} ({err}): run `npm ci` in tests/browser",
                    path.display()
                );
                missing(
                    &why,
                    "the accessibility checks",
                    "NOTE: no accessibility checks",
                )
            }
        }
    })
    .as_deref()
}

/// The widths every page is checked at: a desktop and a 375-pixel phone.
const WIDTHS: [(u32, u32); 2] = [(1280, 1000), (375, 812)];

/// Runs axe-core (WCAG 2 A and AA rules, and best practices) on the page as it is, at a desktop
/// width and at 375 px, and fails on any violation, naming each rule and element.
async fn accessible(client: &Client, what: &str) {
    let Some(source) = axe_source() else {
        return;
    };
    let loaded = client
        .execute("return typeof window.axe === 'object';", vec![])
        .await
        .expect("the page answers");
    if loaded.as_bool() != Some(true) {
        client
            .execute(&format!("{source}\nreturn true;"), vec![])
            .await
            .expect("axe-core loads in the page");
    }
    for (width, height) in WIDTHS {
        client
            .set_window_size(width, height)
            .await
            .expect("the window can be resized");
        let found = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.map(n => n.target.join(' ')) }))))
                   .catch(e => done([{ id: 'axe-error', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        let violations = found.as_array().cloned().unwrap_or_default();
        assert!(
            violations.is_empty(),
            "accessibility of {what} at {width} px: {}",
            serde_json::to_string_pretty(&violations).unwrap_or_default()
        );
    }
    client
        .set_window_size(WIDTHS[0].0, WIDTHS[0].1)
        .await
        .expect("the window can be resized");
}

/// The booth, or `None` (with a note) when it is not built and the browser tests may skip.
fn booth_or_skip(test: &str) -> Option<(PathBuf, BoothManifest)> {
    let dir = booth_dir();
    match std::fs::read(dir.join(BOOTH_MANIFEST)) {
        Ok(bytes) => Some((
            dir,
            BoothManifest::from_json(&bytes).expect("the built booth's booth.json is valid"),
        )),
        Err(err) => {
            let why = format!(
                "no built booth at {} ({err}): run `cargo xtask booth` first",
                dir.display()
            );
            missing(&why, "the browser tests to run", &format!("SKIPPED {test}"))
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

async fn session(driver: &ChromeDriver) -> Client {
    connect(driver, driver.capabilities()).await
}

/// A session whose downloads are saved into `downloads`.
async fn session_downloading_to(driver: &ChromeDriver, downloads: &Path) -> Client {
    connect(driver, driver.capabilities_downloading_to(Some(downloads))).await
}

async fn connect(
    driver: &ChromeDriver,
    capabilities: serde_json::Map<String, serde_json::Value>,
) -> Client {
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver.url())
        .await
        .expect("a Chromium session through chromedriver")
}

/// The element `css`, once it is in the page.
async fn find(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|err| panic!("the page shows {css} ({err})"))
}

async fn click(client: &Client, css: &str) {
    find(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|err| panic!("{css} can be clicked ({err})"));
}

async fn text(client: &Client, css: &str) -> String {
    find(client, css)
        .await
        .text()
        .await
        .unwrap_or_else(|err| panic!("{css} has text ({err})"))
        .trim()
        .to_owned()
}

async fn attr(client: &Client, css: &str, name: &str) -> Option<String> {
    find(client, css)
        .await
        .attr(name)
        .await
        .unwrap_or_else(|err| panic!("{css}[{name}] can be read ({err})"))
}

/// Types `value` into the input `css`, replacing what it held.
async fn fill(client: &Client, css: &str, value: &str) {
    let input = find(client, css).await;
    input
        .clear()
        .await
        .unwrap_or_else(|err| panic!("{css} can be cleared ({err})"));
    input
        .send_keys(value)
        .await
        .unwrap_or_else(|err| panic!("{css} takes keys ({err})"));
}

/// The id of the element that has the keyboard focus.
async fn active_id(client: &Client) -> Option<String> {
    client
        .execute(
            "return document.activeElement && document.activeElement.id;",
            vec![],
        )
        .await
        .expect("the focus can be read")
        .as_str()
        .map(str::to_owned)
}

/// Waits until the element `id` has the keyboard focus.
async fn wait_for_focus(client: &Client, id: &str) {
    let deadline = tokio::time::Instant::now() + STEP;
    while active_id(client).await.as_deref() != Some(id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the focus never reaches #{id} (it is on {:?})",
            active_id(client).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether nothing in the page matches `css` now.
async fn absent(client: &Client, css: &str) -> bool {
    client
        .find_all(Locator::Css(css))
        .await
        .expect("a query")
        .is_empty()
}

/// The text of `css` once it says something (it may start empty and fill in).
async fn text_when_said(client: &Client, css: &str) -> String {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let said = text(client, css).await;
        if !said.is_empty() {
            return said;
        }
        assert!(tokio::time::Instant::now() < deadline, "{css} says nothing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts recording the tasks that hold the page (the Long Tasks API).
async fn observe_long_tasks(client: &Client) {
    client
        .execute(
            "window.tabellaLongTasks = [];
             new PerformanceObserver(list => list.getEntries()
                 .forEach(e => window.tabellaLongTasks.push(Math.round(e.duration))))
               .observe({ type: 'longtask' });",
            vec![],
        )
        .await
        .expect("the Long Tasks API is observed");
}

/// The durations (ms) of the long tasks recorded since [`observe_long_tasks`].
async fn long_tasks(client: &Client) -> Vec<u64> {
    serde_json::from_value(
        client
            .execute("return window.tabellaLongTasks;", vec![])
            .await
            .expect("the long tasks"),
    )
    .expect("a list of durations")
}

/// Loads the booth and returns how long after navigation its code field was in the page.
async fn first_interactive(client: &Client, url: &str) -> f64 {
    client
        .goto(&format!("{url}/booth"))
        .await
        .expect("the booth loads");
    loop {
        let value = client
            .execute(
                "return document.querySelector('#credential-code') ? performance.now() : null",
                vec![],
            )
            .await
            .expect("a script runs");
        if let Some(ms) = value.as_f64() {
            return ms;
        }
    }
}

/// Runs the `/bench` page `runs` times and returns its result element.
async fn bench(client: &Client, url: &str, runs: u32) -> Element {
    client
        .goto(&format!("{url}/bench?runs={runs}"))
        .await
        .expect("the bench page loads");
    client
        .wait()
        .at_most(Duration::from_secs(600))
        .for_element(Locator::Css("#bench-result[data-median-ms]"))
        .await
        .expect("the bench finishes")
}

/// Waits until the alert `#error` says something, and returns it.
async fn error_text(client: &Client) -> String {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        if let Ok(el) = client.find(Locator::Css("#error")).await {
            if let Ok(text) = el.text().await {
                if !text.trim().is_empty() {
                    return text.trim().to_owned();
                }
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no error shown in #error"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The choices the booth test makes: `(contest, selection, value)`, for the demo manifest.
const CAST: &[(&str, &str, u64)] = &[
    ("mayor", "ada", 1),
    ("council", "north", 1),
    ("council", "east", 1),
    ("budget", "schools", 4),
    ("budget", "transit", 1),
    ("projects", "library", 3),
    ("projects", "pool", 5),
];

/// The choices of the challenged encryption: different from the cast ones, so a spoiled ballot
/// that counted would show in the totals.
const CHALLENGED: &[(&str, &str, u64)] = &[
    ("mayor", "grace", 1),
    ("council", "west", 1),
    ("budget", "parks", 5),
    ("projects", "bikes", 2),
];

/// Makes `choices` in the booth's contest form.
async fn choose(client: &Client, choices: &[(&str, &str, u64)]) {
    for (contest, selection, value) in choices {
        let css = format!("#sel-{contest}-{selection}");
        let input = find(client, &css).await;
        let kind = input
            .attr("type")
            .await
            .expect("an input's type")
            .unwrap_or_default();
        if kind == "number" {
            fill(client, &css, &value.to_string()).await;
        } else {
            let checked = input.prop("checked").await.expect("checked").as_deref() == Some("true");
            if !checked {
                input.click().await.expect("the choice can be clicked");
            }
        }
    }
}

/// Clears the choices of `choices` (unchecks boxes, zeroes points) so the next ones stand alone.
async fn unchoose(client: &Client, choices: &[(&str, &str, u64)]) {
    for (contest, selection, _) in choices {
        let css = format!("#sel-{contest}-{selection}");
        let input = find(client, &css).await;
        let kind = input.attr("type").await.expect("type");
        if kind.as_deref() == Some("number") {
            fill(client, &css, "0").await;
        } else if kind.as_deref() == Some("checkbox")
            && input.prop("checked").await.expect("checked").as_deref() == Some("true")
        {
            input.click().await.expect("the box can be cleared");
        }
    }
}

/// The manifest-shaped choices of `choices` (zeros elsewhere).
fn as_vectors(
    manifest: &tabella_crypto::manifest::Manifest,
    choices: &[(&str, &str, u64)],
) -> Vec<Vec<u64>> {
    manifest
        .contests
        .iter()
        .map(|contest| {
            contest
                .selections
                .iter()
                .map(|s| {
                    choices
                        .iter()
                        .filter(|(c, sel, _)| *c == contest.id && *sel == s.id)
                        .map(|(_, _, v)| *v)
                        .sum()
                })
                .collect()
        })
        .collect()
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What the browser steps saw while voting was open.
#[derive(Default)]
struct Seen {
    cast_code: String,
    cast_index: u64,
    spoiled_code: String,
    spoiled_index: u64,
    /// The ballot cast again with the same voting code, which replaced the booth's.
    replacing_code: String,
    replacing_index: u64,
    /// The last ballot of that code, cast with the keyboard only: it counts.
    last_code: String,
    last_index: u64,
    /// The challenged ballot's file, as the booth offered it for download.
    challenge_file: String,
}

/// Casts `choices` again with the voting code `code`, as a second device would (through the
/// service's HTTP API, not the browser): the booth's ballot is then replaced.
fn cast_again(url: &str, code: &str, choices: &[Vec<u64>]) -> (String, u64) {
    let board = ElectionClient::new(url, None).expect("a client");
    let p = board
        .election_parameters()
        .expect("the signed parameters")
        .parameters;
    let ctx = ElectionContext::new(p.election_id, p.manifest, p.joint_key).expect("a context");
    let code = CredentialCode::parse(code).expect("the demo's code");
    let credential = CredentialSecret::derive(&code, &p.election_id.0);
    let (ballot, _) = ctx
        .encrypt_ballot(choices, &credential, &mut rand::rngs::OsRng)
        .expect("a ballot");
    let (receipt, _) = board.cast(ballot.to_bytes()).expect("the ballot is cast");
    (receipt.tracking_code.to_string(), receipt.index)
}

struct BrowserVoter<'a> {
    driver: &'a ChromeDriver,
    /// The demo's data directory (its board key).
    data_dir: PathBuf,
    booth: BoothManifest,
    runtime: tokio::runtime::Runtime,
    seen: Seen,
    observed: bool,
}

impl DemoHooks for BrowserVoter<'_> {
    fn voting_open(&mut self, open: &VotingOpen<'_>) -> anyhow::Result<BoothBallots> {
        let code = open
            .spare_codes
            .first()
            .expect("the demo keeps a credential code for the booth")
            .code
            .clone();
        let booth_digest = self.booth.digest().to_hex();
        let url = open.url.to_owned();
        let choices = as_vectors(open.manifest, CAST);
        let token = open.admin_token.to_owned();
        let downloads = tempfile::tempdir()?;
        let seen = self.runtime.block_on(async {
            let client = session_downloading_to(self.driver, downloads.path()).await;
            start_page_and_glossary(&client, &url).await;
            let mut seen = vote(&client, &url, &code, &booth_digest, downloads.path()).await;
            let said = track(&client, &url, &seen.cast_code, "will-count").await;
            assert!(said.contains("will be counted"), "{said}");
            let said = track(&client, &url, &seen.spoiled_code, "challenged").await;
            assert!(said.contains("never counted"), "{said}");
            recheck_challenge(&client, &seen).await;
            not_on_the_board(&client).await;

            // The same voting code casts again elsewhere: the booth's ballot is replaced.
            // (On its own thread: the blocking client runs its own runtime.)
            let (replacing, index) = std::thread::scope(|s| {
                s.spawn(|| cast_again(&url, &code, &choices))
                    .join()
                    .expect("the second cast")
            });
            let said = track(&client, &url, &seen.cast_code, "replaced").await;
            let checks = text(&client, "#track-checks").await;
            assert!(
                checks.contains("it has only added ballots since"),
                "the tracker checks the board grew from what this browser saw: {checks}"
            );
            for words in [
                "will not be counted",
                "replaced it on",
                "If this was not you, contact the demonstration's officials, at the terminal that runs it",
            ] {
                assert!(said.contains(words), "{words:?} in {said}");
            }
            let said = track(&client, &url, &replacing, "will-count").await;
            assert!(said.contains("will be counted"), "{said}");
            // A mistyped code then: the error, and no old result beside it.
            fill(&client, "#tracking-input", "not a code").await;
            click(&client, "#track-button").await;
            assert!(error_text(&client).await.contains("64 characters"));
            assert!(
                absent(&client, "#track-result").await,
                "an old result stays on screen next to a new error"
            );
            let (last, last_index) = vote_again_by_keyboard(&client, &url, &code).await;
            track(&client, &url, &replacing, "replaced").await;
            results_not_yet(&client, &url).await;
            officials_while_open(&client, &url, &token).await;
            client.close().await.expect("the session closes");
            seen.replacing_code = replacing;
            seen.replacing_index = index;
            seen.last_code = last;
            seen.last_index = last_index;
            seen
        });
        // The board holds both ballots as the booth reported them.
        let board = ElectionClient::new(open.url, None)?;
        let entry = |index: u64| -> BoardEntry {
            board
                .entries(index, 1)
                .expect("the board answers")
                .entries
                .into_iter()
                .next()
                .expect("the entry exists")
        };
        let cast = entry(seen.cast_index);
        assert_eq!(cast.tracking_code.to_string(), seen.cast_code);
        assert_eq!(cast.kind, EntryKind::Cast);
        let spoiled = entry(seen.spoiled_index);
        assert_eq!(spoiled.tracking_code.to_string(), seen.spoiled_code);
        assert_eq!(spoiled.kind, EntryKind::Spoiled);
        assert_eq!(spoiled.status, EntryStatus::Spoiled);
        assert!(
            spoiled.opening.is_some(),
            "a spoiled ballot is published with its opening"
        );
        assert_ne!(cast.tracking_code, spoiled.tracking_code);
        assert_eq!(cast.status, EntryStatus::Superseded);
        let replacing = entry(seen.replacing_index);
        assert_eq!(replacing.status, EntryStatus::Superseded);
        assert_eq!(replacing.credential, cast.credential);
        let last = entry(seen.last_index);
        assert_eq!(last.tracking_code.to_string(), seen.last_code);
        assert_eq!(last.status, EntryStatus::Counted);
        assert_eq!(last.credential, cast.credential);
        self.seen = seen;
        Ok(BoothBallots::Known(vec![choices]))
    }

    fn finished(&mut self, done: &Finished<'_>) -> anyhow::Result<()> {
        let url = done.url.to_owned();
        let results = done.results.clone();
        let seen = &self.seen;
        let token = done.admin_token.to_owned();
        let board_key = service::load_or_create_board_key(&self.data_dir.join(BOARD_KEY_FILE))?;
        // The final head, fixed at the close.
        let head = ElectionClient::new(done.url, None)?.head()?;
        self.runtime.block_on(async {
            let client = session(self.driver).await;
            // After the tally: the keyboard's ballot counted, the others as before.
            let said = track(&client, &url, &seen.last_code, "counted").await;
            assert!(said.contains("was counted"), "{said}");
            track(&client, &url, &seen.cast_code, "replaced").await;
            track(&client, &url, &seen.replacing_code, "replaced").await;
            track(&client, &url, &seen.spoiled_code, "challenged").await;
            voting_is_closed(&client, &url).await;
            results_page(&client, &url, &results).await;
            officials_after_the_tally(&client, &url, &token, &results).await;
            two_histories(&client, &url, &board_key, &head, &seen.last_code).await;
            observe(&client, &url, &results).await;
            client.close().await.expect("the session closes");
        });
        // The challenged ballot stayed spoiled and uncounted to the end.
        let board = ElectionClient::new(done.url, None)?;
        let page = board.entries(self.seen.spoiled_index, 1)?;
        assert_eq!(page.entries[0].status, EntryStatus::Spoiled);
        let page = board.entries(self.seen.cast_index, 1)?;
        assert_eq!(page.entries[0].status, EntryStatus::Superseded);
        let page = board.entries(self.seen.replacing_index, 1)?;
        assert_eq!(page.entries[0].status, EntryStatus::Superseded);
        let page = board.entries(self.seen.last_index, 1)?;
        assert_eq!(page.entries[0].status, EntryStatus::Counted);
        self.observed = true;
        Ok(())
    }
}

/// The file `name` once the browser has saved it into `downloads`.
async fn downloaded(downloads: &Path, name: &str) -> String {
    let path = downloads.join(name);
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        // Chromium writes `NAME.crdownload` and renames it when done.
        if let Ok(text) = std::fs::read_to_string(&path) {
            if !text.is_empty() {
                return text;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} is never downloaded into {}",
            downloads.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The booth: wrong codes, a challenge, a cast. Returns what the booth showed.
async fn vote(
    client: &Client,
    url: &str,
    code: &str,
    booth_digest: &str,
    downloads: &Path,
) -> Seen {
    client
        .goto(&format!("{url}/booth"))
        .await
        .expect("the booth loads");

    // A mistyped code: one character changed, so the check character no longer fits.
    let mut typo: Vec<char> = code.chars().collect();
    let first = typo
        .iter()
        .position(|c| c.is_ascii_alphanumeric())
        .expect("a code character");
    typo[first] = if typo[first] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    fill(client, "#credential-code", &typo).await;
    click(client, "#credential-submit").await;
    let message = error_text(client).await;
    assert!(
        message.to_lowercase().contains("code") && !message.contains('{'),
        "a mistyped code is explained in words: {message:?}"
    );
    accessible(client, "the booth's code step, with an error").await;

    // A well-formed code of someone else's election: not on this voter list.
    let stranger = CredentialCode::generate(&mut rand::rngs::OsRng);
    fill(client, "#credential-code", stranger.expose_secret()).await;
    click(client, "#credential-submit").await;
    let message = loop {
        let message = error_text(client).await;
        if message.to_lowercase().contains("list") {
            break message;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        !message.contains('{'),
        "a code not on the list is explained in words: {message:?}"
    );

    // From here on, no task may hold the page for more than 200 ms (the Long Tasks API): the
    // code's stretching and the encryption run in the booth's Web Worker.
    observe_long_tasks(client).await;

    // The voter's own code.
    fill(client, "#credential-code", code).await;
    click(client, "#credential-submit").await;
    find(client, "#contest-mayor").await;
    let rule = text(client, "#contest-council .contest-rule").await;
    assert!(
        rule.contains('3'),
        "the approval contest states its limit: {rule:?}"
    );
    accessible(client, "the booth's choices").await;

    // Review with nothing chosen: the error summary lists every contest that needs attention,
    // takes the focus, and each line moves to its contest.
    click(client, "#review-button").await;
    find(client, "#error-summary").await;
    // The focus moves there once the browser has drawn it.
    wait_for_focus(client, "error-summary").await;
    let problems = client
        .find_all(Locator::Css("#error-summary li a"))
        .await
        .expect("the summary's links");
    assert!(!problems.is_empty());
    let first = problems[0].text().await.expect("a link's words");
    assert!(first.starts_with("Mayor"), "{first}");
    accessible(client, "the error summary").await;
    problems[0].click().await.expect("the link follows");
    wait_for_focus(client, "sel-mayor-ada").await;

    // Challenge one encryption.
    choose(client, CHALLENGED).await;
    // Every problem fixed: the summary is gone.
    assert!(
        absent(client, "#error-summary").await,
        "the error summary stays after every problem is fixed"
    );
    click(client, "#review-button").await;
    find(client, "#review").await;
    accessible(client, "the booth's review").await;
    // "Change" goes back to that contest; Back and Forward move between the steps with the
    // choices kept.
    click(client, "#change-council").await;
    wait_for_focus(client, "sel-council-north").await;
    click(client, "#review-button").await;
    find(client, "#review").await;
    client.back().await.expect("Back");
    find(client, "#choices-heading").await;
    let grace = find(client, "#sel-mayor-grace").await;
    assert_eq!(
        grace.prop("checked").await.expect("checked").as_deref(),
        Some("true"),
        "Back keeps the choices"
    );
    client.forward().await.expect("Forward");
    find(client, "#review").await;
    click(client, "#encrypt-button").await;
    // Shown grouped in fours for reading.
    let shown = text(client, "#tracking-code").await;
    assert_eq!(shown.split(' ').count(), 16, "{shown}");
    let spoiled_code = shown.replace(' ', "");
    assert!(is_hex64(&spoiled_code), "a tracking code: {spoiled_code:?}");
    accessible(client, "the encrypted ballot (cast or challenge)").await;
    click(client, "#challenge-button").await;
    find(client, "#spoiled-check[data-ok='true']").await;
    assert_eq!(
        text(client, "#spoiled-tracking-code")
            .await
            .replace(' ', ""),
        spoiled_code
    );
    let revealed = text(client, "#spoiled-choices").await;
    assert!(
        revealed.contains("Grace"),
        "the revealed choices name Grace: {revealed:?}"
    );
    let randomness = text(client, "#spoiled-randomness").await;
    assert!(
        randomness.len() >= 64,
        "the randomness is revealed: {randomness:?}"
    );
    let spoiled_index: u64 = text(client, "#spoiled-index")
        .await
        .parse()
        .expect("the spoiled ballot's board index");
    accessible(client, "the challenged ballot, opened").await;
    // The opened ballot, downloaded as a file to check on another device.
    let name = attr(client, "#spoiled-download", "download")
        .await
        .expect("the challenged ballot can be downloaded");
    click(client, "#spoiled-download").await;
    let challenge_file = downloaded(downloads, &name).await;
    assert!(challenge_file.contains("\"opening\""), "{challenge_file}");

    // Start again and cast.
    click(client, "#start-again").await;
    find(client, "#contest-mayor").await;
    unchoose(client, CHALLENGED).await;
    choose(client, CAST).await;
    click(client, "#review-button").await;
    find(client, "#review").await;
    // A challenged ballot never counts, so this one replaces nothing.
    assert!(
        absent(client, "#replaces-earlier").await,
        "the review warns of an earlier ballot that does not exist"
    );
    click(client, "#encrypt-button").await;
    let cast_code = text(client, "#tracking-code").await.replace(' ', "");
    assert!(is_hex64(&cast_code));
    assert_ne!(
        cast_code, spoiled_code,
        "a new encryption, a new tracking code"
    );
    let ms: f64 = text(client, "#encrypt-ms")
        .await
        .parse()
        .expect("a duration in ms");
    assert!(ms > 0.0);
    let long = long_tasks(client).await;
    assert!(
        long.iter().all(|&d| d <= 200),
        "the page froze while the code was checked or the ballot encrypted: long tasks of {long:?} ms"
    );
    eprintln!("long tasks during code checking and two encryptions: {long:?} ms");
    click(client, "#cast-button").await;
    find(client, "#receipt").await;
    let shown = text(client, "#receipt-tracking-code").await;
    assert_eq!(shown.split(' ').count(), 16, "grouped for reading: {shown}");
    assert_eq!(shown.replace(' ', ""), cast_code);
    let cast_index: u64 = text(client, "#receipt-index")
        .await
        .parse()
        .expect("the cast ballot's board index");
    let download = attr(client, "#receipt-download", "download").await;
    assert!(download.is_some(), "the receipt can be downloaded");
    let words = attr(client, "#receipt-download-text", "download").await;
    assert!(
        words.is_some_and(|f| f.ends_with(".txt")),
        "the receipt in words can be downloaded"
    );
    find(client, "#receipt-print").await;
    click(client, "#receipt-copy").await;
    let said = text_when_said(client, "#receipt-copied").await;
    // Headless Chromium may refuse the clipboard to a page: the words say so either way.
    assert!(
        said.contains("copied") || said.contains("did not let"),
        "{said}"
    );
    accessible(client, "the receipt").await;

    // The footer: the served booth, published in the manifest.
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let shown = text(client, "#booth-digest").await;
        if shown == booth_digest {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the footer shows the booth digest {booth_digest}, not {shown:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        attr(client, "#booth-digest-status", "data-published")
            .await
            .as_deref(),
        Some("true")
    );
    Seen {
        cast_code,
        cast_index,
        spoiled_code,
        spoiled_index,
        challenge_file,
        ..Seen::default()
    }
}

/// Tracks `tracking_code` on the tracker page: every check passes, the verdict is `verdict`
/// (`#track-result[data-verdict]`), and the result repeats the code, grouped. Returns the
/// verdict's words.
async fn track(client: &Client, url: &str, tracking_code: &str, verdict: &str) -> String {
    client
        .goto(&format!("{url}/tracker"))
        .await
        .expect("the tracker loads");
    fill(client, "#tracking-input", tracking_code).await;
    click(client, "#track-button").await;
    let result = find(client, "#track-result[data-status]").await;
    let status = result.attr("data-status").await.expect("status");
    assert_eq!(
        status.as_deref(),
        Some("included"),
        "{:?}",
        result.text().await
    );
    assert_eq!(
        result
            .attr("data-verdict")
            .await
            .expect("verdict")
            .as_deref(),
        Some(verdict),
        "{:?}",
        result.text().await
    );
    let shown = text(client, "#track-code").await;
    assert_eq!(shown.replace(' ', ""), tracking_code);
    assert_eq!(shown.split(' ').count(), 16, "grouped for reading: {shown}");
    let checks = client
        .find_all(Locator::Css("#track-checks li"))
        .await
        .expect("the list of checks");
    assert!(!checks.is_empty(), "the tracker says what it checked");
    for check in checks {
        let ok = check.attr("data-ok").await.expect("data-ok");
        let said = check.text().await.unwrap_or_default();
        assert_eq!(ok.as_deref(), Some("true"), "tracker check failed: {said}");
    }
    accessible(client, &format!("the tracker's {verdict} result")).await;
    text(client, "#track-verdict").await
}

/// The voter comes back with the same code: before casting, the review says the new ballot
/// replaces the earlier one. Nothing is cast.
/// Then, with the keyboard only (keys sent to the page; no click), the voter casts it.
/// Returns the new ballot's tracking code and board index.
async fn vote_again_by_keyboard(client: &Client, url: &str, code: &str) -> (String, u64) {
    client
        .goto(&format!("{url}/booth"))
        .await
        .expect("the booth loads");
    let enter = Key::Enter.to_string();
    let field = find(client, "#credential-code").await;
    field.send_keys(code).await.expect("the code is typed");
    field
        .send_keys(&enter)
        .await
        .expect("Enter submits the code");
    find(client, "#contest-mayor").await;
    for (contest, selection, value) in CAST {
        let input = find(client, &format!("#sel-{contest}-{selection}")).await;
        let kind = input
            .attr("type")
            .await
            .expect("a type")
            .unwrap_or_default();
        let keys = if kind == "number" {
            // Delete the 0 the field holds, then type the points.
            format!(
                "{}{}{}",
                Key::End,
                Key::Backspace.to_string().repeat(3),
                value
            )
        } else {
            " ".to_owned()
        };
        input
            .send_keys(&keys)
            .await
            .expect("the choice is made by key");
    }
    let enter = enter.as_str();
    let press = |css: &'static str| async move {
        find(client, css)
            .await
            .send_keys(enter)
            .await
            .unwrap_or_else(|e| panic!("Enter on {css} ({e})"));
    };
    press("#review-button").await;
    let said = text(client, "#replaces-earlier").await;
    assert!(
        said.contains("You have already voted with this code")
            && said.contains("replaces your earlier one"),
        "{said}"
    );
    press("#encrypt-button").await;
    let tracking_code = text(client, "#tracking-code").await.replace(' ', "");
    press("#cast-button").await;
    find(client, "#receipt").await;
    assert_eq!(
        text(client, "#receipt-tracking-code")
            .await
            .replace(' ', ""),
        tracking_code
    );
    let index = text(client, "#receipt-index")
        .await
        .parse()
        .expect("the board index");
    (tracking_code, index)
}

/// The board shows this browser a board that does not extend one it showed before: here a
/// head of the same size with another root, signed with the board's own key (as a board that
/// forks its history would), planted as the head the tracker kept. The tracker says so loudly,
/// with both signed heads, and gives no verdict.
async fn two_histories(
    client: &Client,
    url: &str,
    key: &BoardSigningKey,
    head: &SignedTreeHead,
    tracking_code: &str,
) {
    client
        .goto(&format!("{url}/tracker"))
        .await
        .expect("the tracker loads");
    let forged = key.sign_tree_head(TreeHead {
        root: [0x66; 32],
        ..head.head
    });
    let name = format!("tabella/board-head/{}", head.head.election.to_hex());
    client
        .execute(
            "localStorage.setItem(arguments[0], arguments[1]);",
            vec![
                serde_json::json!(name),
                serde_json::json!(serde_json::to_string(&forged).expect("JSON")),
            ],
        )
        .await
        .expect("the forged head is planted");
    fill(client, "#tracking-input", tracking_code).await;
    click(client, "#track-button").await;
    find(client, "#track-result[data-status='error']").await;
    assert_eq!(
        attr(client, "#track-result", "data-verdict")
            .await
            .as_deref(),
        Some("none")
    );
    let alarm = text(client, "#history-alarm").await;
    assert!(alarm.contains("two different histories"), "{alarm}");
    accessible(client, "the tracker's alarm").await;
    let kept = text(client, "#history-kept").await;
    assert!(kept.contains(&"66".repeat(32)), "{kept}");
    let now = text(client, "#history-now").await;
    assert!(now.contains(&hex::encode(head.head.root)), "{now}");
    client
        .execute("localStorage.clear();", vec![])
        .await
        .expect("the storage is cleared");
}

/// Once voting is closed, the booth says so before the voter fills anything in.
async fn voting_is_closed(client: &Client, url: &str) {
    client
        .goto(&format!("{url}/booth"))
        .await
        .expect("the booth loads");
    find(client, "#booth-unavailable").await;
    let said = error_text(client).await;
    assert!(said.contains("Voting has closed"), "{said}");
    accessible(client, "the booth after voting closed").await;
    assert!(
        absent(client, "#credential-code").await,
        "the booth asks for a code after voting closed"
    );
}

/// The challenged ballot's file, re-checked on the tracker (as on another device): it checks
/// out, names the contests' choices and says the board shows it as challenged; the same file
/// with other choices claimed is refused.
async fn recheck_challenge(client: &Client, seen: &Seen) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let upload = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("the file is written");
        path.display().to_string()
    };
    let honest = upload("challenged.json", &seen.challenge_file);
    // Already on the tracker page (the last `track`).
    find(client, "#challenge-file")
        .await
        .send_keys(&honest)
        .await
        .expect("the file is chosen");
    find(client, "#challenge-result[data-ok='true']").await;
    assert_eq!(
        text(client, "#challenge-code").await.replace(' ', ""),
        seen.spoiled_code
    );
    let choices = text(client, "#challenge-choices").await;
    assert!(
        choices.contains("Mayor (choose one): Grace Hopper"),
        "{choices}"
    );
    let board = text(client, "#challenge-board").await;
    assert!(board.contains("shows it as challenged"), "{board}");
    accessible(client, "the tracker's challenged-ballot check").await;

    let mut lie: serde_json::Value =
        serde_json::from_str(&seen.challenge_file).expect("the file is JSON");
    let mayor = &mut lie["opening"]["choices"][0];
    let grace = mayor.as_array().cloned().unwrap_or_default();
    *mayor = serde_json::json!(grace.iter().rev().cloned().collect::<Vec<_>>());
    let lying = upload("lying.json", &lie.to_string());
    client
        .goto(&format!(
            "{}/tracker",
            client
                .current_url()
                .await
                .expect("a URL")
                .origin()
                .ascii_serialization()
        ))
        .await
        .expect("the tracker loads");
    find(client, "#challenge-file")
        .await
        .send_keys(&lying)
        .await
        .expect("the file is chosen");
    find(client, "#challenge-result[data-ok='false']").await;
    let said = text(client, "#challenge-result").await;
    assert!(said.contains("does NOT match"), "{said}");
}

/// An unknown tracking code is reported as not on the board, the code repeated.
async fn not_on_the_board(client: &Client) {
    let unknown = "ab".repeat(32);
    fill(client, "#tracking-input", &unknown).await;
    click(client, "#track-button").await;
    find(client, "#track-result[data-status='not-found']").await;
    assert_eq!(text(client, "#track-code").await.replace(' ', ""), unknown);
    assert!(text(client, "#track-verdict")
        .await
        .contains("No ballot with this tracking code is on the board"));
}

/// The officials' dashboard while voting is open: closing is styled and worded as a step that
/// cannot be undone, Escape cancels it (nothing closes), and the disabled steps say why.
async fn officials_while_open(client: &Client, url: &str, token: &str) {
    client
        .goto(&format!("{url}/officials"))
        .await
        .expect("the dashboard loads");
    fill(client, "#admin-token", token).await;
    click(client, "#dashboard-load").await;
    assert_eq!(text(client, "#election-state").await, "open");
    assert_eq!(
        attr(client, "#close-election", "class").await.as_deref(),
        Some("warning")
    );
    assert_eq!(
        text(client, "#open-election-why").await,
        "Voting is already open."
    );
    assert_eq!(
        text(client, "#tally-election-why").await,
        "Close voting first."
    );
    assert_eq!(text(client, "#close-election-why").await, "");
    find(client, "#turnout-table").await;
    accessible(client, "the officials' dashboard").await;
    click(client, "#close-election").await;
    let heading = text(client, "#confirm-heading").await;
    assert!(heading.contains("cannot be undone"), "{heading}");
    accessible(client, "the officials' question before closing").await;
    find(client, "#confirm-action.warning").await;
    // Escape cancels: the question goes, and voting stays open.
    // The question takes the focus (its heading) as it opens; the key goes there.
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let focused = client
            .execute(
                "return document.activeElement && document.activeElement.id;",
                vec![],
            )
            .await
            .expect("the focus can be read");
        if focused.as_str() == Some("confirm-heading") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the question does not take the focus"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let escape = char::from(Key::Escape);
    client
        .perform_actions(
            KeyActions::new("keyboard".to_owned())
                .then(KeyAction::Down { value: escape })
                .then(KeyAction::Up { value: escape }),
        )
        .await
        .expect("Escape is pressed");
    let deadline = tokio::time::Instant::now() + STEP;
    while !absent(client, "#confirm").await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Escape does not cancel"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    click(client, "#dashboard-load").await;
    assert_eq!(text(client, "#election-state").await, "open");
}

/// The dashboard after the tally: the results, and the steps that are over say why.
async fn officials_after_the_tally(client: &Client, url: &str, token: &str, results: &Results) {
    client
        .goto(&format!("{url}/officials"))
        .await
        .expect("the dashboard loads");
    fill(client, "#admin-token", token).await;
    click(client, "#dashboard-load").await;
    assert_eq!(text(client, "#election-state").await, "tallied");
    assert_eq!(
        text(client, "#close-election-why").await,
        "Voting is already closed."
    );
    assert_eq!(
        text(client, "#tally-election-why").await,
        "The results are already published."
    );
    find(client, "#dashboard-results").await;
    for contest in &results.contests {
        for selection in &contest.selections {
            let css = format!(
                "#dashboard-results #result-{}-table tr[data-selection='{}'] td.total",
                contest.id, selection.id
            );
            assert_eq!(text(client, &css).await, selection.total.to_string());
        }
    }
    let ceremony = text(client, "#ceremony-progress").await;
    assert!(
        ceremony.contains("Trustees who helped decrypt the results"),
        "{ceremony}"
    );
    accessible(client, "the officials' dashboard after the tally").await;
}

/// The start page says what the election is, when voting closes, how many questions, whom to
/// contact and what happens to the voter's data, and starts the booth; the glossary explains
/// the words that must stay.
async fn start_page_and_glossary(client: &Client, url: &str) {
    client.goto(url).await.expect("the start page loads");
    assert_eq!(
        text(client, "#start-heading").await,
        "Tabella demonstration election"
    );
    let closes = text(client, "#start-closes").await;
    assert!(closes.starts_with("Voting closes on "), "{closes}");
    let questions = text(client, "#start-questions").await;
    assert!(
        questions.starts_with("There are 4 questions"),
        "{questions}"
    );
    let contact = text(client, "#start-contact").await;
    assert!(
        contact.contains("contact the demonstration's officials"),
        "{contact}"
    );
    assert!(text(client, "#start-data")
        .await
        .contains("encrypted on this device"));
    assert_eq!(
        attr(client, "#start-now", "href").await.as_deref(),
        Some("/booth")
    );
    accessible(client, "the start page").await;
    client
        .goto(&format!("{url}/glossary"))
        .await
        .expect("the glossary loads");
    for term in [
        "tracking-code",
        "challenge",
        "voting-code",
        "booth-fingerprint",
    ] {
        find(client, &format!("#glossary dt#{term}")).await;
    }
    accessible(client, "the glossary").await;
}

/// While voting is open, the results page says when the results come.
async fn results_not_yet(client: &Client, url: &str) {
    client
        .goto(&format!("{url}/results"))
        .await
        .expect("the results page loads");
    let said = text(client, "#results-not-yet").await;
    assert!(said.contains("Voting is open"), "{said}");
    accessible(client, "the results page before the count").await;
    client
        .goto(&format!("{url}/observer"))
        .await
        .expect("the observer page loads");
    let said = text_when_said(client, "#observer-record-state").await;
    assert!(
        said.starts_with("There is no election record to verify yet: voting is open."),
        "{said}"
    );
}

/// Once tallied, anyone reads the results: per contest a chart on its own scale, a table with
/// every total, and who leads.
async fn results_page(client: &Client, url: &str, results: &Results) {
    client
        .goto(&format!("{url}/results"))
        .await
        .expect("the results page loads");
    find(client, "#results").await;
    assert_eq!(
        text(client, "#results-ballots").await,
        format!("{} ballots were counted.", results.ballots_counted)
    );
    let charts = client
        .find_all(Locator::Css("svg.results-chart"))
        .await
        .expect("the charts");
    assert_eq!(
        charts.len(),
        results.contests.len(),
        "one chart per contest"
    );
    for contest in &results.contests {
        for selection in &contest.selections {
            let css = format!(
                "#result-{}-table tr[data-selection='{}'] td.total",
                contest.id, selection.id
            );
            assert_eq!(
                text(client, &css).await,
                selection.total.to_string(),
                "{}/{} on the results page",
                contest.id,
                selection.id
            );
        }
        let leading = text(client, &format!("#result-{} .leading", contest.id)).await;
        let top = contest
            .selections
            .iter()
            .map(|s| s.total)
            .max()
            .unwrap_or(0);
        let leaders: Vec<&str> = contest
            .selections
            .iter()
            .filter(|s| s.total == top)
            .map(|s| s.label.as_str())
            .collect();
        assert!(
            leaders.iter().all(|l| leading.contains(l)),
            "{}: {leading:?} names {leaders:?}",
            contest.id
        );
    }
    let mayor = text(client, "#result-mayor .leading").await;
    assert!(
        mayor.starts_with("Winner: ") || mayor.starts_with("Tie for the most votes"),
        "a plurality contest has a winner: {mayor}"
    );
    accessible(client, "the results page").await;
}

/// The observer verifies the record in WebAssembly and shows the published totals.
async fn observe(client: &Client, url: &str, results: &Results) {
    client
        .goto(&format!("{url}/observer"))
        .await
        .expect("the observer page loads");
    let said = text(client, "#observer-record-state").await;
    assert!(said.contains("ready to verify"), "{said}");
    click(client, "#observer-fetch").await;
    let verdict = client
        .wait()
        .at_most(Duration::from_secs(300))
        .for_element(Locator::Css("#observer-verdict[data-passed]"))
        .await
        .expect("the verifier finishes in the browser");
    let rows = client
        .find_all(Locator::Css("#checks-table tr[data-check]"))
        .await
        .expect("the checks table");
    let mut outcomes = Vec::new();
    for row in &rows {
        let check = row
            .attr("data-check")
            .await
            .expect("check")
            .unwrap_or_default();
        let outcome = row
            .attr("data-outcome")
            .await
            .expect("outcome")
            .unwrap_or_default();
        outcomes.push((check, outcome));
    }
    assert_eq!(
        verdict
            .attr("data-passed")
            .await
            .expect("verdict")
            .as_deref(),
        Some("true"),
        "every check passes in the browser: {outcomes:?}"
    );
    assert!(
        outcomes.len() >= 22,
        "every numbered check is listed: {outcomes:?}"
    );
    for (check, outcome) in &outcomes {
        assert_ne!(outcome, "failed", "{check} failed in the browser");
    }
    // Each check is explained in one plain sentence.
    let meanings = client
        .find_all(Locator::Css("#checks-table td.meaning"))
        .await
        .expect("the explanations");
    assert_eq!(meanings.len(), rows.len());
    let v13 = text(client, "#checks-table tr[data-check='V13'] td.meaning").await;
    assert_eq!(v13, "Only the last ballot of each voting code is counted.");
    let booth = outcomes.iter().find(|(c, _)| c == "V22");
    assert_eq!(
        booth.map(|(_, o)| o.as_str()),
        Some("passed"),
        "the observer compares the served booth with the published digest"
    );
    find(client, "svg#totals-chart").await;
    accessible(client, "the observer page, verified").await;
    for contest in &results.contests {
        for selection in &contest.selections {
            let css = format!(
                "#totals-table tr[data-contest='{}'][data-selection='{}'] td.total",
                contest.id, selection.id
            );
            let shown = text(client, &css).await;
            assert_eq!(
                shown.replace(',', ""),
                selection.total.to_string(),
                "{}/{} total in the observer page",
                contest.id,
                selection.id
            );
        }
    }
}

#[test]
fn a_voter_votes_challenges_tracks_and_observes_in_the_browser() {
    let test = "a_voter_votes_challenges_tracks_and_observes_in_the_browser";
    let Some((booth, manifest)) = booth_or_skip(test) else {
        return;
    };
    let Some(driver) = browser::driver_or_skip(test) else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("tabella-browser-")
        .tempdir()
        .expect("a temporary directory");
    let opts = DemoOptions {
        voters: 12,
        seed: Some(7),
        contests: ContestSet::All,
        trustees: 3,
        threshold: 2,
        absent: 1,
        no_serve: true,
        record: Some(dir.path().join("record")),
        // Kept, so that the test can sign a forged board head with the board's own key.
        data_dir: Some(dir.path().join("data")),
        booth: Some(booth),
        ..DemoOptions::default()
    };
    let mut voter = BrowserVoter {
        driver,
        data_dir: dir.path().join("data"),
        booth: manifest,
        runtime: runtime(),
        seen: Seen::default(),
        observed: false,
    };
    demo::run_with(&opts, &mut voter)
        .expect("the demo election, with a voter in the browser, completes and verifies");
    assert!(voter.observed, "the observer step ran");
}

/// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// The booth on a slow phone: Chromium's CPU slowed 4× (DevTools' "4× slowdown") and a
/// 375-pixel screen. Prints how soon the first page is interactive, P10 encrypt + prove, how
/// long the voting code takes to check (Argon2id in the Web Worker), and the longest task that
/// held the page meanwhile.
async fn throttled(driver: &ChromeDriver, url: &str, code: &str) {
    let slow = |client: Client| async move {
        client
            .issue_cmd(Cdp {
                cmd: "Emulation.setCPUThrottlingRate",
                params: serde_json::json!({ "rate": 4 }),
            })
            .await
            .expect("the CPU is throttled");
        client
            .set_window_size(375, 812)
            .await
            .expect("a phone's width");
        client
    };
    let mut interactive = Vec::new();
    for _ in 0..3 {
        let client = slow(session(driver).await).await;
        interactive.push(first_interactive(&client, url).await);
        client.close().await.expect("the session closes");
    }
    interactive.sort_by(f64::total_cmp);
    let client = slow(session(driver).await).await;
    let median = bench(&client, url, 10)
        .await
        .attr("data-median-ms")
        .await
        .expect("a figure")
        .unwrap_or_default();
    client
        .goto(&format!("{url}/booth"))
        .await
        .expect("the booth loads");
    observe_long_tasks(&client).await;
    fill(&client, "#credential-code", code).await;
    let started = std::time::Instant::now();
    click(&client, "#credential-submit").await;
    client
        .wait()
        .at_most(Duration::from_secs(300))
        .for_element(Locator::Css("#contest-mayor"))
        .await
        .expect("the code is checked");
    let checked = started.elapsed();
    let long = long_tasks(&client).await;
    client.close().await.expect("the session closes");
    println!(
        "4x CPU slowdown, 375 px: first page interactive {interactive:.0?} ms (3 cold loads); P10 encrypt + prove median {median} ms (10 runs); voting code checked in {} ms (Argon2id in the worker); long tasks meanwhile {long:?} ms",
        checked.as_millis()
    );
}

/// Times the booth in Chromium, for the figures in ballot-app/README.md: how soon the first page
/// is interactive (the credential field is in the page, timed from navigation start with a
/// fresh browser profile each time, so nothing is cached), and P10 encrypt + prove (one plurality
/// contest of 10 options) on the `/bench` page of the real bundle.
///
/// `cargo test -p tabella-tests --test browser -- --ignored --nocapture`
#[test]
#[ignore = "prints timing figures; run with --ignored --nocapture"]
fn booth_timings_in_chromium() {
    let test = "booth_timings_in_chromium";
    let Some((booth, _)) = booth_or_skip(test) else {
        return;
    };
    let Some(driver) = browser::driver_or_skip(test) else {
        return;
    };
    struct Timer<'a> {
        driver: &'a ChromeDriver,
        runtime: tokio::runtime::Runtime,
    }
    impl DemoHooks for Timer<'_> {
        fn voting_open(&mut self, open: &VotingOpen<'_>) -> anyhow::Result<BoothBallots> {
            let url = open.url.to_owned();
            self.runtime.block_on(async {
                let mut interactive = Vec::new();
                for _ in 0..7 {
                    let client = session(self.driver).await;
                    interactive.push(first_interactive(&client, &url).await);
                    client.close().await.expect("the session closes");
                }
                let client = session(self.driver).await;
                let result = bench(&client, &url, 30).await;
                let mut figures = Vec::new();
                for name in ["data-runs", "data-min-ms", "data-median-ms", "data-p90-ms"] {
                    let value = result.attr(name).await.expect("a figure").unwrap_or_default();
                    figures.push(format!("{name}={value}"));
                }
                client.close().await.expect("the session closes");
                interactive.sort_by(f64::total_cmp);
                println!(
                    "first page interactive (ms, 7 cold loads, sorted): {interactive:.0?}; median {:.0}",
                    interactive[interactive.len() / 2]
                );
                println!("P10 encrypt + prove in Chromium: {}", figures.join(" "));
                throttled(self.driver, &url, &open.spare_codes[0].code).await;
            });
            Ok(BoothBallots::Known(Vec::new()))
        }
    }
    let dir = tempfile::Builder::new()
        .prefix("tabella-browser-")
        .tempdir()
        .expect("a temporary directory");
    let opts = DemoOptions {
        voters: 4,
        contests: ContestSet::All,
        trustees: 1,
        threshold: 1,
        no_serve: true,
        no_chain: true,
        record: Some(dir.path().join("record")),
        booth: Some(booth),
        ..DemoOptions::default()
    };
    let mut timer = Timer {
        driver,
        runtime: runtime(),
    };
    demo::run_with(&opts, &mut timer).expect("the demo election completes");
}
