//! What `cargo xtask demo` and `cargo xtask test` install for themselves, and how: one list,
//! checked against `.ci/run` by `ci_run_installs_the_same_things`.
//!
//! Each [`Prerequisite`] is checked first and installed only when missing (or at another version),
//! with a line saying what is installed and why, so every run after the first installs nothing.
//! The installs are the ones `.ci/run` makes: rustup for components and targets, `cargo install
//! --locked` for pinned tools. Without rustup (a distribution's Rust, say) nothing can be added,
//! and the command says so before the build that would fail.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{display, run, WASM_TARGET};

/// Something a command needs installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prerequisite {
    /// A rustup component of the active toolchain.
    Component {
        /// Its name (`rustfmt`, `clippy`).
        name: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// A rustup target of the active toolchain.
    Target {
        /// The target triple.
        triple: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// A Python virtualenv at `dir` (relative to the workspace root) with the hash-pinned
    /// packages of `requirements`, made with `python3 -m venv` and `pip install
    /// --require-hashes`; remade when the requirements change (a copy of them is kept in the
    /// virtualenv as the stamp).
    PythonVenv {
        /// The virtualenv.
        dir: &'static str,
        /// The requirements file.
        requirements: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// The npm packages of `dir/package-lock.json`, installed with `npm ci` when
    /// `dir/node_modules` is missing or older than the lock file.
    NpmPackages {
        /// The package's directory, relative to the workspace root.
        dir: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// A tool installed with `cargo install --locked PACKAGE --version V`, where `V` is the
    /// version of the crate `version_of` in `Cargo.lock`; installed when one of its `binaries`
    /// does not say `<binary> V` to `--version`.
    CargoTool {
        /// The crates.io package.
        package: &'static str,
        /// The crate in `Cargo.lock` whose version it must have.
        version_of: &'static str,
        /// The binaries it installs, each of which must report that version.
        binaries: &'static [&'static str],
        /// Why it is needed.
        why: &'static str,
    },
}

/// The wasm32 target: the web ballot and the crypto crate's browser tests are WebAssembly.
const WASM: Prerequisite = Prerequisite::Target {
    triple: WASM_TARGET,
    why: "the web ballot is compiled to WebAssembly",
};

/// The wasm-bindgen CLI at the version of the `wasm-bindgen` crate (their ABI must match).
const WASM_BINDGEN_CLI: Prerequisite = Prerequisite::CargoTool {
    package: "wasm-bindgen-cli",
    version_of: "wasm-bindgen",
    binaries: &["wasm-bindgen", "wasm-bindgen-test-runner"],
    why: "it generates the web ballot's JavaScript bindings and runs the crypto crate's tests in \
          the browser, and must match the wasm-bindgen crate in Cargo.lock",
};

/// What `cargo xtask demo` needs beyond the Rust toolchain: it builds and serves the web ballot.
pub(crate) const DEMO: [Prerequisite; 2] = [WASM, WASM_BINDGEN_CLI];

/// Where the test virtualenv is, relative to the workspace root (the SMTP tests find its
/// Python there when `TABELLA_TEST_PYTHON` is not set).
pub(crate) const TEST_VENV: &str = "target/test-venv";

/// The test virtualenv: aiosmtpd, the real SMTP server the registrar's e-mail tests send to.
const TEST_PYTHON: Prerequisite = Prerequisite::PythonVenv {
    dir: TEST_VENV,
    requirements: "tests/smtp/requirements.txt",
    why: "the registrar's e-mail tests send to a real SMTP server (aiosmtpd) on loopback",
};

/// Where the browser tests' npm package is (axe-core, pinned in its lock file), relative to the
/// workspace root.
pub(crate) const BROWSER_PACKAGES: &str = "tests/browser";

/// axe-core, which the browser tests inject into every page to check its accessibility.
const AXE: Prerequisite = Prerequisite::NpmPackages {
    dir: BROWSER_PACKAGES,
    why: "the browser tests check every page with axe-core",
};

/// What the steps of `cargo xtask test` need: `fmt` rustfmt, `clippy` clippy and the wasm32
/// target, `booth` and `browser-crypto` the target and the wasm-bindgen CLI, `test` the test
/// virtualenv and axe-core.
pub(crate) fn for_steps(
    fmt: bool,
    clippy: bool,
    wasm: bool,
    bindgen: bool,
    tests: bool,
) -> Vec<Prerequisite> {
    let mut needed = Vec::new();
    if fmt {
        needed.push(Prerequisite::Component {
            name: "rustfmt",
            why: "the fmt step checks the formatting",
        });
    }
    if clippy {
        needed.push(Prerequisite::Component {
            name: "clippy",
            why: "the clippy step lints the workspace",
        });
    }
    if clippy || wasm || bindgen {
        needed.push(WASM);
    }
    if bindgen {
        needed.push(WASM_BINDGEN_CLI);
    }
    if tests {
        needed.push(TEST_PYTHON);
        needed.push(AXE);
    }
    needed
}

/// Every prerequisite xtask knows, for the comparison with `.ci/run`.
#[cfg(test)]
fn all() -> Vec<Prerequisite> {
    for_steps(true, true, true, true, true)
}

#[cfg(test)]
impl Prerequisite {
    /// The shell command `.ci/run` uses to install it (`$version` stands for the locked version).
    fn ci_command(&self) -> String {
        match self {
            Self::Component { name, .. } => format!("rustup component add {name}"),
            Self::Target { triple, .. } => format!("rustup target add {triple}"),
            Self::CargoTool { package, .. } => {
                format!("cargo install --locked {package} --version \"$version\"")
            }
            Self::PythonVenv { requirements, .. } => {
                format!("pip install --require-hashes -r {requirements}")
            }
            Self::NpmPackages { dir, .. } => format!("(cd {dir} && npm ci --no-audit --no-fund)"),
        }
    }
}

/// Installs whatever of `needed` is missing, saying what and why; nothing when all is there.
pub(crate) fn ensure(root: &Path, needed: &[Prerequisite]) -> Result<()> {
    let lock =
        || std::fs::read_to_string(root.join("Cargo.lock")).context("could not read Cargo.lock");
    let components = needed
        .iter()
        .any(|p| matches!(p, Prerequisite::Component { .. }));
    let targets = needed
        .iter()
        .any(|p| matches!(p, Prerequisite::Target { .. }));
    let installed_components = if components {
        rustup_list(&["component", "list", "--installed"])
    } else {
        Some(Vec::new())
    };
    let installed_targets = if targets {
        rustup_list(&["target", "list", "--installed"])
    } else {
        Some(Vec::new())
    };
    for prerequisite in needed {
        match *prerequisite {
            Prerequisite::Component { name, why } => {
                let Some(installed) = &installed_components else {
                    note_no_rustup(name);
                    continue;
                };
                // Listed with their target triple: `rustfmt-x86_64-unknown-linux-gnu`.
                if !installed
                    .iter()
                    .any(|line| line.starts_with(&format!("{name}-")))
                {
                    let mut cmd = Command::new("rustup");
                    cmd.args(["component", "add", name]);
                    install(&mut cmd, why)?;
                }
            }
            Prerequisite::Target { triple, why } => {
                let Some(installed) = &installed_targets else {
                    note_no_rustup(triple);
                    continue;
                };
                if !installed.iter().any(|t| t == triple) {
                    let mut cmd = Command::new("rustup");
                    cmd.args(["target", "add", triple]);
                    install(&mut cmd, why)?;
                }
            }
            Prerequisite::PythonVenv {
                dir,
                requirements,
                why,
            } => ensure_venv(root, dir, requirements, why)?,
            Prerequisite::NpmPackages { dir, why } => {
                let dir = root.join(dir);
                if crate::npm_packages_stale(&dir) {
                    crate::ensure_node()?;
                    let mut npm = Command::new("npm");
                    npm.current_dir(&dir)
                        .args(["ci", "--no-audit", "--no-fund"]);
                    install(&mut npm, why)?;
                }
            }
            Prerequisite::CargoTool {
                package,
                version_of,
                binaries,
                why,
            } => {
                let lock = lock()?;
                let version = crate::browser::locked_version(&lock, version_of)
                    .with_context(|| format!("Cargo.lock has no {version_of} package"))?;
                let reported: Vec<Option<String>> =
                    binaries.iter().map(|b| version_said(b)).collect();
                if tool_needs_install(binaries, &reported, version) {
                    let mut cmd = crate::cargo(root);
                    cmd.args(["install", "--locked", package, "--version", version]);
                    install(&mut cmd, why)?;
                    for binary in binaries {
                        if version_said(binary).as_deref() != Some(&format!("{binary} {version}")) {
                            bail!(
                                "`{}` ran, but `{binary} --version` still does not say {version}: \
                                 is cargo's bin directory ({}) on the PATH?",
                                display(&cmd),
                                cargo_bin_hint()
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The virtualenv `dir` with `requirements` installed, unless its stamp says they already are.
fn ensure_venv(root: &Path, dir: &str, requirements: &str, why: &str) -> Result<()> {
    let venv = root.join(dir);
    let wanted = std::fs::read(root.join(requirements))
        .with_context(|| format!("could not read {requirements}"))?;
    let stamp = venv.join("tabella-requirements.txt");
    let python = venv.join("bin").join("python");
    if python.is_file() && std::fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
        return Ok(());
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .with_context(|| format!("could not remove the stale {}", venv.display()))?;
    }
    let mut make = Command::new("python3");
    make.args(["-m", "venv"]).arg(&venv);
    install(&mut make, why)
        .context("python3 could not make a virtualenv; on Debian: apt-get install python3-venv")?;
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",
        "-r",
    ])
    .arg(root.join(requirements));
    install(&mut pip, why)?;
    std::fs::write(&stamp, &wanted).with_context(|| format!("could not write {}", stamp.display()))
}

/// Whether a tool must be (re)installed: some binary is missing or reports another version.
fn tool_needs_install(binaries: &[&str], reported: &[Option<String>], version: &str) -> bool {
    binaries
        .iter()
        .zip(reported)
        .any(|(binary, said)| said.as_deref() != Some(format!("{binary} {version}").as_str()))
}

fn install(cmd: &mut Command, why: &str) -> Result<()> {
    println!("==> installing: {} ({why})", display(cmd));
    run(cmd)
}

fn note_no_rustup(what: &str) {
    println!("note: rustup not found, so {what} cannot be installed here; assuming it is there");
}

/// What `BINARY --version` prints (trimmed), or `None` when it does not run.
fn version_said(binary: &str) -> Option<String> {
    let output = Command::new(binary).arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Where `cargo install` puts binaries, for the error when they are not found afterwards.
fn cargo_bin_hint() -> String {
    std::env::var_os("CARGO_HOME")
        .map(|home| Path::new(&home).join("bin").display().to_string())
        .unwrap_or_else(|| "~/.cargo/bin".to_owned())
}

/// The lines `rustup ARGS` prints, or `None` when rustup cannot run.
///
/// Run from xtask, rustup acts on the toolchain that runs xtask: its proxy sets
/// `RUSTUP_TOOLCHAIN` for the child processes.
fn rustup_list(args: &[&str]) -> Option<Vec<String>> {
    let output = Command::new("rustup").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| line.trim().to_owned())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.ci/run`, which CI runs on a fresh machine.
    fn ci_run() -> String {
        let root = crate::workspace_root().expect("workspace root");
        std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run is readable")
    }

    /// The install commands of `.ci/run` (rustup, cargo install and npm ci lines, but the
    /// contracts' own), trimmed.
    fn ci_installs(script: &str) -> Vec<String> {
        script
            .lines()
            .map(str::trim)
            .filter(|line| {
                line.starts_with("rustup component add")
                    || line.starts_with("rustup target add")
                    || line.starts_with("cargo install")
                    || (line.starts_with("(cd ")
                        && line.contains("npm ci")
                        && !line.starts_with("(cd contracts"))
            })
            .map(str::to_owned)
            .collect()
    }

    /// Issue 15: the demo's prerequisite step installs what `.ci/run` installs, the same way,
    /// and `.ci/run` installs nothing with rustup or cargo that xtask does not know of.
    #[test]
    fn ci_run_installs_the_same_things() {
        let script = ci_run();
        let ci = ci_installs(&script);
        // .ci/run adds the components in one command.
        let expanded: Vec<String> = ci
            .iter()
            .flat_map(|line| match line.strip_prefix("rustup component add ") {
                Some(names) => names
                    .split_whitespace()
                    .map(|n| format!("rustup component add {n}"))
                    .collect(),
                None => vec![line.clone()],
            })
            .collect();
        for prerequisite in DEMO.iter().chain([&AXE]) {
            let command = prerequisite.ci_command();
            assert!(
                expanded.contains(&command),
                "xtask installs {prerequisite:?}, but .ci/run has no `{command}` (it has {ci:?})"
            );
        }
        let known: Vec<String> = all().iter().map(Prerequisite::ci_command).collect();
        for line in &expanded {
            assert!(
                known.contains(line),
                ".ci/run installs `{line}`, which xtask does not: add it to prereqs.rs"
            );
        }
        // Both read the tool's version from the same crate of Cargo.lock.
        assert!(
            script.contains(r#"$0 == "name = \"wasm-bindgen\"""#),
            ".ci/run no longer reads the wasm-bindgen version from Cargo.lock"
        );
        assert!(matches!(
            WASM_BINDGEN_CLI,
            Prerequisite::CargoTool {
                version_of: "wasm-bindgen",
                ..
            }
        ));
    }

    #[test]
    fn every_test_step_prerequisite_includes_the_demos_when_the_booth_is_built() {
        let booth = for_steps(false, false, true, true, false);
        for prerequisite in DEMO {
            assert!(booth.contains(&prerequisite), "{prerequisite:?}");
        }
        assert!(for_steps(false, false, false, false, false).is_empty());
        assert_eq!(
            for_steps(false, false, false, false, true),
            [TEST_PYTHON, AXE]
        );
        assert_eq!(
            for_steps(true, false, false, false, false),
            [Prerequisite::Component {
                name: "rustfmt",
                why: "the fmt step checks the formatting"
            }]
        );
    }

    #[test]
    fn a_tool_is_installed_only_when_a_binary_is_missing_or_another_version() {
        let bins = ["wasm-bindgen", "wasm-bindgen-test-runner"];
        let said = |a: Option<&str>, b: Option<&str>| [a.map(str::to_owned), b.map(str::to_owned)];
        let both = said(
            Some("wasm-bindgen 0.2.129"),
            Some("wasm-bindgen-test-runner 0.2.129"),
        );
        assert!(!tool_needs_install(&bins, &both, "0.2.129"));
        assert!(tool_needs_install(&bins, &both, "0.2.130"));
        let missing = said(Some("wasm-bindgen 0.2.129"), None);
        assert!(tool_needs_install(&bins, &missing, "0.2.129"));
        assert!(tool_needs_install(&bins, &said(None, None), "0.2.129"));
    }
}
