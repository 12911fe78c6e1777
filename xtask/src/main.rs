//! Tabella's build and test orchestration, run as `cargo xtask ...` (the alias lives in
//! `.cargo/config.toml`).
//!
//! - `cargo xtask demo [ARGS...]` runs a whole election on embedded defaults (`tabella demo`).
//! - `cargo xtask test` runs the whole suite, exactly as CI does through `.ci/run`.
//! - `cargo xtask booth [--out DIR]` builds the web ballot reproducibly (`booth.rs`).
//!
//! Every command runs from the workspace root and calls cargo through the `CARGO` environment
//! variable (set by `cargo run`), falling back to `cargo` on the `PATH`.

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

mod booth;
mod browser;
mod prereqs;

/// The wasm32 target the crypto crate and the web ballot build for.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The reference verifiers of the ballot and ceremony vectors (pure Python 3, standard library
/// only), each run over its stored vectors and then with `--self-test`.
const REFERENCE_VERIFIERS: [&str; 2] = [
    "spec/reference/verify_vectors.py",
    "spec/reference/verify_ceremony.py",
];

/// Where the demo step writes its election record, relative to the workspace root (an old one
/// is removed first).
const DEMO_RECORD: &str = "target/demo-record";

/// The registry contract's npm package (solc, Hardhat), relative to the workspace root.
const CONTRACTS_DIR: &str = "contracts";

/// What to say when the contracts step finds no Node.js.
const NODE_MISSING: &str =
    "Node.js 18 or later and npm are needed for the contract compiler and the local chain; on Debian: apt-get install nodejs npm";

/// What to say when the reference step finds no Python.
const PYTHON_MISSING: &str =
    "python3 is needed for the reference verifier; on Debian: apt-get install python3";

/// Tabella's build and test orchestration.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Build and run `tabella demo` in release mode: a whole election on embedded defaults.
    ///
    /// Every argument goes to `tabella demo`, e.g. `cargo xtask demo --voters 50 --seed 7`;
    /// `cargo xtask demo --help` shows the demo's own options.
    #[command(disable_help_flag = true)]
    Demo {
        /// Arguments for `tabella demo`.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<OsString>,
    },
    /// Run the whole suite as CI does, stopping at the first failing step.
    Test {
        /// Skip a step (repeat the option, or separate steps with commas).
        #[arg(long, value_enum, value_name = "STEP", value_delimiter = ',')]
        skip: Vec<Step>,
        /// Skip the slow steps (browser-crypto, bench, doc) for local iteration.
        #[arg(long)]
        quick: bool,
    },
    /// Build the web ballot reproducibly into a static bundle with its `booth.json` (default
    /// `target/booth/dist`), print its booth digest and sizes.
    Booth {
        /// Where to write the bundle (replaced if it is an earlier booth).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// One step of `cargo xtask test`, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Step {
    /// `cargo fmt --all -- --check`.
    Fmt,
    /// The registry contract: `npm ci` in `contracts/` when its packages are missing or older
    /// than the lock file, then `node contracts/scripts/compile.js --check` (the committed ABI and
    /// bytecode are what the pinned solc compiles, byte for byte).
    Contracts,
    /// `cargo clippy --workspace --all-targets --locked -- -D warnings`, then the same for the
    /// web ballot's library on wasm32 (`-p tabella-ballot-app --lib --target wasm32-unknown-unknown`).
    Clippy,
    /// `cargo xtask booth`: the web ballot's reproducible bundle in `target/booth/dist`, which
    /// the browser tests of the next step serve (and within the 1.5 MB compressed budget).
    Booth,
    /// `cargo test --workspace --locked`.
    Test,
    /// The independent Python verifiers of `spec/vectors/ballots.json` and of the ceremony
    /// vectors (`ceremony.json`, `ceremony-complaint.json`), each followed by its self-test.
    Reference,
    /// The crypto crate's unit and integration tests in headless Chromium: `cargo test -p
    /// tabella-crypto --target wasm32-unknown-unknown --profile browser-test --tests --locked`,
    /// run by wasm-bindgen-test-runner through chromedriver, in `target/wasm-tests` (see
    /// `browser.rs`; Chromium, chromedriver and the runner must be installed).
    BrowserCrypto,
    /// `cargo bench --workspace --locked --bench "*" --no-run`: the criterion benches compile
    /// (only the `[[bench]]` targets, not every library's test harness in the bench profile).
    Bench,
    /// `cargo doc --workspace --no-deps --locked` with warnings denied.
    Doc,
    /// The end-to-end run: `tabella demo --voters 1000 --no-serve` through the real HTTP
    /// service, with a 3-of-5 trustee key and two trustees absent at the tally, serving the
    /// booth step's bundle; its election record goes to `target/demo-record` and must pass
    /// every check of the verifier. It runs the `tabella` binary of the test step's build
    /// (`cargo test --no-run` says where), so nothing is compiled again.
    Demo,
}

impl Step {
    const ALL: [Step; 10] = [
        Step::Fmt,
        Step::Contracts,
        Step::Clippy,
        Step::Booth,
        Step::Test,
        Step::Reference,
        Step::BrowserCrypto,
        Step::Bench,
        Step::Doc,
        Step::Demo,
    ];

    /// The steps `--quick` leaves out.
    const SLOW: [Step; 3] = [Step::BrowserCrypto, Step::Bench, Step::Doc];

    fn name(self) -> &'static str {
        match self {
            Step::Fmt => "fmt",
            Step::Contracts => "contracts",
            Step::Clippy => "clippy",
            Step::Booth => "booth",
            Step::Test => "test",
            Step::Reference => "reference",
            Step::BrowserCrypto => "browser-crypto",
            Step::Bench => "bench",
            Step::Doc => "doc",
            Step::Demo => "demo",
        }
    }

    /// The commands of this step, run in order: one cargo invocation, except for `reference`.
    fn commands(self, root: &Path) -> Vec<Command> {
        let mut cmd = cargo(root);
        match self {
            Step::Reference => return reference_commands(root),
            // Built in process by `run`.
            Step::Booth => return Vec::new(),
            Step::Contracts => return contracts_commands(root),
            Step::Fmt => cmd.args(["fmt", "--all", "--", "--check"]),
            Step::Clippy => return clippy_commands(root),
            Step::Test => cmd.args(["test", "--workspace", "--locked"]),
            Step::BrowserCrypto => browser::crypto_tests(&mut cmd, root),
            Step::Bench => cmd.args([
                "bench",
                "--workspace",
                "--locked",
                "--bench",
                "*",
                "--no-run",
            ]),
            Step::Doc => {
                let mut flags = env::var("RUSTDOCFLAGS").unwrap_or_default();
                if !flags.is_empty() {
                    flags.push(' ');
                }
                flags.push_str("-D warnings");
                cmd.env("RUSTDOCFLAGS", flags)
                    .args(["doc", "--workspace", "--no-deps", "--locked"])
            }
            // The build, then `run` starts the binary it names (`demo_command`).
            Step::Demo => cmd.args(TEST_BUILD),
        };
        vec![cmd]
    }

    /// Runs the step's commands in order, stopping at the first failure.
    fn run(self, root: &Path) -> Result<()> {
        if self == Step::Reference {
            ensure_python3()?;
        }
        if self == Step::Contracts {
            ensure_node()?;
        }
        if self == Step::BrowserCrypto {
            browser::ensure_tools(root)?;
        }
        if self == Step::Booth {
            return booth::booth(root, None);
        }
        if self == Step::Demo {
            remove_old_record(&root.join(DEMO_RECORD))?;
            let [mut build] = <[Command; 1]>::try_from(self.commands(root))
                .map_err(|_| anyhow::anyhow!("the demo step has one build command"))?;
            let tabella = built_tabella(&mut build)?;
            return run(&mut demo_command(root, &tabella));
        }
        for mut cmd in self.commands(root) {
            run(&mut cmd)?;
        }
        Ok(())
    }
}

/// The test step's build, as the demo step repeats it to learn where the `tabella` binary is:
/// nothing is compiled again after the test step, and the demo runs the binary the tests ran
/// (test profile: the dependencies optimised, as in a release build).
const TEST_BUILD: [&str; 6] = [
    "test",
    "--workspace",
    "--locked",
    "--no-run",
    "--message-format",
    "json-render-diagnostics",
];

/// Runs `build` (cargo with JSON messages) and returns the `tabella` binary it built.
fn built_tabella(build: &mut Command) -> Result<PathBuf> {
    println!("==> {}", display(build));
    let output = build
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{}`", display(build)))?;
    if !output.status.success() {
        bail!("`{}` failed ({})", display(build), output.status);
    }
    let messages = String::from_utf8_lossy(&output.stdout);
    tabella_executable(&messages).with_context(|| {
        format!(
            "`{}` did not say where it built the tabella binary",
            display(build)
        )
    })
}

/// The `tabella` binary's path in cargo's JSON messages (one per line).
fn tabella_executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        // The binary itself, not its unit tests (also a `bin` target, with `profile.test`).
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "tabella")
        .filter(|m| m["profile"]["test"] == false)
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// The demo step's run: 1,000 voters through HTTP with `--no-serve`, a 3-of-5 key and two
/// trustees absent, serving the booth the booth step built, its record in [`DEMO_RECORD`].
fn demo_command(root: &Path, tabella: &Path) -> Command {
    let mut cmd = Command::new(tabella);
    cmd.current_dir(root).args([
        "demo",
        "--booth",
        booth::DEFAULT_OUT,
        "--record",
        DEMO_RECORD,
        "--no-serve",
        "--voters",
        "1000",
        "--trustees",
        "5",
        "--threshold",
        "3",
        "--absent",
        "2",
    ]);
    cmd
}

/// The clippy step: the whole workspace natively, then the web ballot for wasm32, where its
/// pages and browser glue are (natively only its pure logic builds).
fn clippy_commands(root: &Path) -> Vec<Command> {
    let targets: [&[&str]; 2] = [
        &["--workspace", "--all-targets"],
        &["-p", "tabella-ballot-app", "--lib", "--target", WASM_TARGET],
    ];
    targets
        .into_iter()
        .map(|selection| {
            let mut cmd = cargo(root);
            cmd.arg("clippy")
                .args(selection)
                .args(["--locked", "--", "-D", "warnings"]);
            cmd
        })
        .collect()
}

/// The reference step: each verifier over its stored vectors, then its self-test (every changed
/// ballot or ceremony message must be rejected), from the workspace root.
fn reference_commands(root: &Path) -> Vec<Command> {
    REFERENCE_VERIFIERS
        .into_iter()
        .flat_map(|verifier| {
            [&[][..], &["--self-test"][..]]
                .into_iter()
                .map(move |extra| {
                    let mut cmd = Command::new("python3");
                    cmd.current_dir(root).arg(verifier).args(extra);
                    cmd
                })
        })
        .collect()
}

/// The contracts step: `npm ci` in `contracts/` when needed (see [`npm_packages_stale`]), then
/// the byte-for-byte check of the committed artifacts.
fn contracts_commands(root: &Path) -> Vec<Command> {
    let dir = root.join(CONTRACTS_DIR);
    let mut commands = Vec::new();
    if npm_packages_stale(&dir) {
        let mut npm = Command::new("npm");
        npm.current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund"]);
        commands.push(npm);
    }
    let mut check = Command::new("node");
    check
        .current_dir(&dir)
        .args(["scripts/compile.js", "--check"]);
    commands.push(check);
    commands
}

/// Whether `contracts/node_modules` is missing or older than `contracts/package-lock.json`
/// (npm records what it installed in `node_modules/.package-lock.json`).
pub(crate) fn npm_packages_stale(dir: &Path) -> bool {
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (
        modified(dir.join("node_modules/.package-lock.json")),
        modified(dir.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

/// Fails with [`NODE_MISSING`] unless `node` and `npm` run.
pub(crate) fn ensure_node() -> Result<()> {
    for program in ["node", "npm"] {
        match Command::new(program).arg("--version").output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => bail!(
                "{NODE_MISSING} (`{program} --version` failed: {})",
                output.status
            ),
            Err(error) => bail!("{NODE_MISSING} (`{program}`: {error})"),
        }
    }
    Ok(())
}

/// Removes the record an earlier demo step left at `dir`, so the demo can write a fresh one.
fn remove_old_record(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error).with_context(|| {
            format!(
                "could not remove the old demo record {}: remove it by hand",
                dir.display()
            )
        }),
    }
}

/// Fails with [`PYTHON_MISSING`] unless `python3` runs.
fn ensure_python3() -> Result<()> {
    match Command::new("python3").arg("--version").output() {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => bail!(
            "{PYTHON_MISSING} (`python3 --version` failed: {})",
            output.status
        ),
        Err(error) => bail!("{PYTHON_MISSING} ({error})"),
    }
}

/// The outcome of one step, for the summary.
enum Outcome {
    Passed(Duration),
    Failed(Duration),
    Skipped,
    NotRun,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Passed(d) => write!(f, "ok       {}", secs(*d)),
            Outcome::Failed(d) => write!(f, "FAILED   {}", secs(*d)),
            Outcome::Skipped => f.write_str("skipped"),
            Outcome::NotRun => f.write_str("not run"),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = workspace_root().and_then(|root| match cli.task {
        Task::Demo { args } => demo(&root, &args),
        Task::Test { skip, quick } => test(&root, &skip, quick).map(|()| ExitCode::SUCCESS),
        Task::Booth { out } => prereqs::ensure(&root, &prereqs::DEMO)
            .and_then(|()| booth::booth(&root, out.as_deref()))
            .map(|()| ExitCode::SUCCESS),
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask demo`: exits as the demo does. The demo (or cargo, when the build fails) has
/// already explained any failure, so nothing is added to it.
fn demo(root: &Path, args: &[OsString]) -> Result<ExitCode> {
    let mut cmd = cargo(root);
    cmd.args(demo_args());
    // The demo serves the web ballot, built first, unless told which one (or asked for help);
    // building it needs the wasm32 target and the wasm-bindgen CLI, installed when missing.
    let given = |flag: &str| args.iter().any(|a| a == flag);
    if !given("--booth") && !given("--help") && !given("-h") {
        prereqs::ensure(root, &prereqs::DEMO)?;
        booth::booth(root, None)?;
        cmd.args(["--booth", booth::DEFAULT_OUT]);
    }
    cmd.args(args);
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", display(&cmd)))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => u8::try_from(code).map_or(ExitCode::FAILURE, ExitCode::from),
        None => bail!("`{}` was stopped ({status})", display(&cmd)),
    })
}

/// `cargo xtask test`.
fn test(root: &Path, skip: &[Step], quick: bool) -> Result<()> {
    let skipped = |step: &Step| skip.contains(step) || (quick && Step::SLOW.contains(step));
    let steps: Vec<Step> = Step::ALL.into_iter().filter(|s| !skipped(s)).collect();
    if steps.is_empty() {
        bail!("every step is skipped: nothing to run");
    }
    let needs = |step| steps.contains(&step);
    prereqs::ensure(
        root,
        &prereqs::for_steps(
            needs(Step::Fmt),
            needs(Step::Clippy),
            needs(Step::Booth) || needs(Step::BrowserCrypto),
            needs(Step::Booth) || needs(Step::BrowserCrypto) || needs(Step::Demo),
            needs(Step::Test),
        ),
    )?;

    let mut outcomes: Vec<(Step, Outcome)> = Step::ALL
        .into_iter()
        .map(|s| {
            (
                s,
                if skipped(&s) {
                    Outcome::Skipped
                } else {
                    Outcome::NotRun
                },
            )
        })
        .collect();
    let suite_start = Instant::now();
    let mut failure = None;
    for (index, step) in steps.iter().enumerate() {
        let line = step
            .commands(root)
            .iter()
            .map(display)
            .collect::<Vec<_>>()
            .join(" && ");
        println!();
        println!(
            "==> [{}/{}] {}: {line}",
            index + 1,
            steps.len(),
            step.name()
        );
        let start = Instant::now();
        let result = step.run(root);
        let elapsed = start.elapsed();
        let outcome = outcomes
            .iter_mut()
            .find(|(s, _)| s == step)
            .map(|(_, outcome)| outcome);
        match result {
            Ok(()) => {
                println!("==> {} passed in {}", step.name(), secs(elapsed));
                if let Some(outcome) = outcome {
                    *outcome = Outcome::Passed(elapsed);
                }
            }
            Err(error) => {
                if let Some(outcome) = outcome {
                    *outcome = Outcome::Failed(elapsed);
                }
                failure = Some((*step, error));
                break;
            }
        }
    }

    println!();
    println!("summary ({} in all):", secs(suite_start.elapsed()));
    for (step, outcome) in &outcomes {
        println!("  {:<14} {outcome}", step.name());
    }
    match failure {
        None => {
            println!("all steps passed");
            Ok(())
        }
        Some((step, error)) => Err(error.context(format!("step `{}` failed", step.name()))),
    }
}

/// The arguments of `cargo` that build and run `tabella demo` in release mode (`cargo xtask demo`).
fn demo_args() -> [&'static str; 9] {
    [
        "run",
        "--release",
        "--locked",
        "-p",
        "tabella-tally",
        "--bin",
        "tabella",
        "--",
        "demo",
    ]
}

/// A cargo command run from the workspace root: `$CARGO`, or `cargo` on the `PATH`.
fn cargo(root: &Path) -> Command {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root);
    cmd
}

/// Runs `cmd` with inherited standard streams; an error unless it exits with success.
fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", display(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", display(cmd));
    }
    Ok(())
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .context("xtask's manifest directory has no parent")
}

/// `cmd` as a shell-like line, for headers and errors (program name without its directory).
fn display(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or(cmd.get_program())
        .to_string_lossy()
        .into_owned();
    let mut line: Vec<String> = cmd
        .get_envs()
        .filter_map(|(key, value)| {
            value.map(|v| format!("{}={:?}", key.to_string_lossy(), v.to_string_lossy()))
        })
        .collect();
    line.push(program);
    line.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    line.join(" ")
}

/// A duration as seconds with one decimal.
fn secs(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn demo_forwards_hyphenated_arguments() {
        let cli = Cli::try_parse_from(["xtask", "demo", "--voters", "5", "--help"])
            .expect("demo arguments parse");
        let Task::Demo { args } = cli.task else {
            panic!("expected the demo task");
        };
        assert_eq!(args, ["--voters", "5", "--help"]);
    }

    #[test]
    fn skip_accepts_repeats_and_commas() {
        let cli = Cli::try_parse_from(["xtask", "test", "--skip", "bench,doc", "--skip", "demo"])
            .expect("skip list parses");
        let Task::Test { skip, quick } = cli.task else {
            panic!("expected the test task");
        };
        assert_eq!(skip, [Step::Bench, Step::Doc, Step::Demo]);
        assert!(!quick);
    }

    #[test]
    fn reference_step_runs_after_test_and_quick_keeps_it() {
        let position = |step| Step::ALL.iter().position(|s| *s == step);
        assert_eq!(
            position(Step::Reference),
            position(Step::Test).map(|i| i + 1)
        );
        assert_eq!(
            position(Step::BrowserCrypto),
            position(Step::Reference).map(|i| i + 1)
        );
        assert!(!Step::SLOW.contains(&Step::Reference));
        assert_eq!(
            command_lines(Step::Reference),
            [
                "python3 spec/reference/verify_vectors.py",
                "python3 spec/reference/verify_vectors.py --self-test",
                "python3 spec/reference/verify_ceremony.py",
                "python3 spec/reference/verify_ceremony.py --self-test",
            ]
        );
    }

    /// The step's commands as lines.
    fn command_lines(step: Step) -> Vec<String> {
        step.commands(Path::new(".")).iter().map(display).collect()
    }

    #[test]
    fn clippy_checks_the_workspace_and_the_web_ballot_on_wasm32() {
        assert_eq!(
            command_lines(Step::Clippy),
            [
                "cargo clippy --workspace --all-targets --locked -- -D warnings".to_owned(),
                format!(
                    "cargo clippy -p tabella-ballot-app --lib --target {WASM_TARGET} --locked -- -D warnings"
                ),
            ]
        );
    }

    #[test]
    fn demo_step_runs_the_test_builds_tabella_and_writes_its_record_under_target() {
        assert_eq!(
            command_lines(Step::Demo),
            ["cargo test --workspace --locked --no-run --message-format json-render-diagnostics"]
        );
        let messages = [
            r#"{"reason":"compiler-artifact","target":{"name":"tabella","kind":["lib"]},"executable":null}"#,
            "not json",
            r#"{"reason":"compiler-artifact","target":{"name":"tabella","kind":["test"]},"profile":{"test":true},"executable":"/t/deps/tabella-1"}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"tabella","kind":["bin"]},"profile":{"test":true},"executable":"/t/deps/tabella-2"}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"tabella","kind":["bin"]},"profile":{"test":false},"executable":"/t/debug/tabella"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(
            tabella_executable(&messages),
            Some(PathBuf::from("/t/debug/tabella"))
        );
        assert_eq!(tabella_executable(&messages[..messages.len() / 2]), None);
        let line = display(&demo_command(Path::new("."), Path::new("/t/debug/tabella")));
        assert!(
            line.starts_with(&format!(
                "tabella demo --booth {} --record {DEMO_RECORD} --no-serve",
                booth::DEFAULT_OUT
            )),
            "{line}"
        );
        assert!(DEMO_RECORD.starts_with("target/"));
        // The booth is built before the tests that serve it, and before the demo.
        let position = |step| Step::ALL.iter().position(|s| *s == step);
        assert!(position(Step::Booth) < position(Step::Test));
        assert!(position(Step::Booth) < position(Step::Demo));
    }

    #[test]
    fn removing_an_old_demo_record_is_fine_when_there_is_none() {
        let dir = env::temp_dir().join(format!("xtask-no-demo-record-{}", std::process::id()));
        remove_old_record(&dir).expect("nothing to remove");
        std::fs::create_dir_all(dir.join("ceremony")).expect("a directory");
        std::fs::write(dir.join("record.json"), "{}").expect("a file");
        remove_old_record(&dir).expect("removed");
        assert!(!dir.exists());
    }

    #[test]
    fn step_names_match_their_command_line_values() {
        for step in Step::ALL {
            let value = step.to_possible_value().expect("no step is hidden");
            assert_eq!(value.get_name(), step.name());
        }
    }
}
