//! `cargo xtask booth [--out DIR]`: the web ballot's reproducible build (spec/booth.md).
//!
//! 1. Checks that the `wasm-bindgen` CLI is the exact version of the `wasm-bindgen` crate in
//!    `Cargo.lock` (their ABI must match).
//! 2. Builds `tabella-ballot-app` for `wasm32-unknown-unknown` in the `booth` profile, in its own
//!    target directory (`target/booth/cargo`), with the workspace root and `CARGO_HOME` remapped
//!    out of the binary: two clones in different directories build the same bytes.
//! 3. Runs `wasm-bindgen --target web` into `DIR/app`, copies `index.html`, `app/boot.js`,
//!    `app/worker.js` (the Web Worker that encrypts) and `app/style.css`, and writes `booth.json` ([`BoothManifest`] over every other file).
//! 4. Checks that no file carries this machine's build paths (the remapping held), prints the
//!    booth digest and the sizes, and fails if the gzip-compressed bundle exceeds
//!    [`MAX_GZIP_BYTES`].

use std::env;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use tabella_crypto::booth::{BoothManifest, BOOTH_INDEX, BOOTH_MANIFEST};

use crate::{cargo, display, run, WASM_TARGET};

/// The crate built into the booth.
const APP_PACKAGE: &str = "tabella-ballot-app";
/// Its library's file name in the target directory.
const APP_WASM: &str = "tabella_ballot_app.wasm";
/// The app's sources, relative to the workspace root.
const APP_DIR: &str = "ballot-app";
/// The cargo profile of the booth (root `Cargo.toml`).
const PROFILE: &str = "booth";
/// The booth's own target directory, relative to the workspace root.
const TARGET_DIR: &str = "target/booth/cargo";
/// Where the bundle goes by default, relative to the workspace root.
pub(crate) const DEFAULT_OUT: &str = "target/booth/dist";
/// wasm-bindgen's `--out-name`: `app/tabella-booth.js` and `app/tabella-booth_bg.wasm`.
const OUT_NAME: &str = "tabella-booth";
/// The largest gzip-compressed bundle allowed (issue 7: 1.5 MB).
pub(crate) const MAX_GZIP_BYTES: u64 = 1_500_000;
/// The files copied from `ballot-app/`: (source, path in the bundle).
const STATIC_FILES: [(&str, &str); 4] = [
    ("index.html", BOOTH_INDEX),
    ("boot.js", "app/boot.js"),
    ("worker.js", "app/worker.js"),
    ("style.css", "app/style.css"),
];
/// What to do when the CLI is missing or another version.
fn install_hint(version: &str) -> String {
    format!("install it with `cargo install --locked wasm-bindgen-cli --version {version}`")
}

/// `cargo xtask booth`.
pub(crate) fn booth(root: &Path, out: Option<&Path>) -> Result<()> {
    let out = match out {
        Some(dir) if dir.is_absolute() => dir.to_path_buf(),
        Some(dir) => env::current_dir()
            .context("the current directory")?
            .join(dir),
        None => root.join(DEFAULT_OUT),
    };
    let version = locked_wasm_bindgen(
        &fs::read_to_string(root.join("Cargo.lock")).context("could not read Cargo.lock")?,
    )?;
    check_wasm_bindgen_cli(&version)?;

    let mut build = booth_build(root)?;
    println!("==> {}", display(&build));
    run(&mut build)?;
    let wasm = root
        .join(TARGET_DIR)
        .join(WASM_TARGET)
        .join(PROFILE)
        .join(APP_WASM);

    prepare_out_dir(&out)?;
    let app = out.join("app");
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            OUT_NAME,
            "--out-dir",
        ])
        .arg(&app)
        .arg(&wasm);
    println!("==> {}", display(&bindgen));
    run(&mut bindgen)?;
    for (source, path) in STATIC_FILES {
        let from = root.join(APP_DIR).join(source);
        fs::copy(&from, out.join(path))
            .with_context(|| format!("could not copy {} into the booth", from.display()))?;
    }

    let files = bundle_files(&out)?;
    let leaks = build_paths_in(&files, root, &cargo_home()?);
    ensure!(
        leaks.is_empty(),
        "the booth is not reproducible: it carries this machine's build paths ({}); \
         were the --remap-path-prefix flags overridden?",
        leaks.join("; ")
    );
    let manifest = BoothManifest::from_files(
        files
            .iter()
            .map(|(path, bytes)| (path.as_str(), bytes.as_slice())),
    )
    .context("the booth's file list")?;
    let mut json = serde_json::to_vec_pretty(&manifest).context("booth.json")?;
    json.push(b'\n');
    fs::write(out.join(BOOTH_MANIFEST), &json).context("could not write booth.json")?;

    let sizes = Sizes::of(&files, &json)?;
    println!();
    println!("booth: {}", out.display());
    println!("booth digest: {}", manifest.digest());
    println!(
        "wasm:   {:>9} bytes raw, {:>9} bytes gzip",
        sizes.wasm_raw, sizes.wasm_gzip
    );
    println!(
        "bundle: {:>9} bytes raw, {:>9} bytes gzip ({} files; limit {MAX_GZIP_BYTES} gzip)",
        sizes.total_raw,
        sizes.total_gzip,
        files.len() + 1
    );
    ensure!(
        sizes.total_gzip <= MAX_GZIP_BYTES,
        "the gzip-compressed booth is {} bytes, over the {MAX_GZIP_BYTES}-byte limit",
        sizes.total_gzip
    );
    Ok(())
}

/// The `cargo build` of the booth's WebAssembly.
fn booth_build(root: &Path) -> Result<Command> {
    let cargo_home = cargo_home()?;
    let mut flags = Vec::new();
    for (from, to) in [(root, "/tabella"), (cargo_home.as_path(), "/cargo")] {
        let from = from.to_str().context("a path that is not UTF-8")?;
        ensure!(
            !from.chars().any(char::is_whitespace),
            "{from} has a space in it; the booth build passes it in a space-separated flag list: build from a path without spaces"
        );
        flags.push(format!("--remap-path-prefix={from}={to}"));
    }
    let mut cmd = cargo(root);
    cmd.env("CARGO_TARGET_DIR", root.join(TARGET_DIR))
        .env(
            format!(
                "CARGO_TARGET_{}_RUSTFLAGS",
                WASM_TARGET.to_uppercase().replace('-', "_")
            ),
            flags.join(" "),
        )
        // These take precedence over the target's flags: the booth's flags must be exactly ours.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args([
            "build",
            "--locked",
            "-p",
            APP_PACKAGE,
            "--lib",
            "--target",
            WASM_TARGET,
            "--profile",
            PROFILE,
        ]);
    Ok(cmd)
}

/// `CARGO_HOME`, or `~/.cargo`.
fn cargo_home() -> Result<PathBuf> {
    if let Some(home) = env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".cargo"))
        .context("neither CARGO_HOME nor HOME is set")
}

/// The version of the `wasm-bindgen` crate in `Cargo.lock`.
fn locked_wasm_bindgen(lock: &str) -> Result<String> {
    crate::browser::locked_version(lock, "wasm-bindgen")
        .map(str::to_owned)
        .context("Cargo.lock has no wasm-bindgen package: the web ballot depends on it")
}

/// Fails unless `wasm-bindgen --version` says `version`.
fn check_wasm_bindgen_cli(version: &str) -> Result<()> {
    let output = match Command::new("wasm-bindgen").arg("--version").output() {
        Ok(output) => output,
        Err(error) => bail!(
            "the wasm-bindgen CLI does not run ({error}): {}",
            install_hint(version)
        ),
    };
    let said = String::from_utf8_lossy(&output.stdout);
    let found = said.split_whitespace().nth(1).unwrap_or_default();
    ensure!(
        output.status.success() && found == version,
        "the wasm-bindgen CLI is {:?}, but Cargo.lock has the wasm-bindgen crate {version}: {}",
        said.trim(),
        install_hint(version)
    );
    Ok(())
}

/// Makes `out` an empty directory: a new one, or an earlier booth (it has `booth.json`)
/// removed. Anything else is left alone.
fn prepare_out_dir(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = fs::read_dir(out)
            .with_context(|| format!("could not read {}", out.display()))?
            .next()
            .is_none();
        ensure!(
            empty || out.join(BOOTH_MANIFEST).is_file(),
            "{} exists and is not an earlier booth (no {BOOTH_MANIFEST}): choose another --out",
            out.display()
        );
        fs::remove_dir_all(out)
            .with_context(|| format!("could not remove the old booth {}", out.display()))?;
    }
    fs::create_dir_all(out.join("app"))
        .with_context(|| format!("could not create {}", out.display()))
}

/// Every file under `out` but `booth.json`, by path relative to `out` (with `/`), sorted.
fn bundle_files(out: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut dirs = vec![out.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            fs::read_dir(&dir).with_context(|| format!("could not read {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(out)
                .context("a file outside the booth")?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if relative == BOOTH_MANIFEST {
                continue;
            }
            let bytes =
                fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
            files.push((relative, bytes));
        }
    }
    files.sort();
    Ok(files)
}

/// Where `files` carry the paths of this build's sources, which would make the bundle's bytes
/// depend on the directory it was built in: the workspace's crates under `root`, and the
/// registry's sources under `cargo_home` (panic locations name their files). Each as "FILE
/// has PATH". The build remaps both, so a clean bundle has none.
fn build_paths_in(files: &[(String, Vec<u8>)], root: &Path, cargo_home: &Path) -> Vec<String> {
    let mut needles: Vec<String> = ["crypto", APP_DIR]
        .into_iter()
        .map(|member| format!("{}/{member}/src/", root.display()))
        .collect();
    needles.push(format!("{}/registry/src/", cargo_home.display()));
    let mut leaks = Vec::new();
    for (path, bytes) in files {
        for needle in &needles {
            if bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
            {
                leaks.push(format!("{path} has {needle}"));
            }
        }
    }
    leaks
}

/// The bundle's sizes.
#[derive(Debug, PartialEq, Eq)]
struct Sizes {
    wasm_raw: u64,
    wasm_gzip: u64,
    total_raw: u64,
    total_gzip: u64,
}

impl Sizes {
    /// The sizes of `files` and `booth.json`, each file compressed on its own (as a server
    /// sends them).
    fn of(files: &[(String, Vec<u8>)], booth_json: &[u8]) -> Result<Self> {
        let mut sizes = Sizes {
            wasm_raw: 0,
            wasm_gzip: 0,
            total_raw: 0,
            total_gzip: 0,
        };
        let all = files
            .iter()
            .map(|(path, bytes)| (path.as_str(), bytes.as_slice()))
            .chain([(BOOTH_MANIFEST, booth_json)]);
        for (path, bytes) in all {
            let raw = bytes.len() as u64;
            let gzip = gzip_len(bytes)?;
            if path.ends_with(".wasm") {
                sizes.wasm_raw += raw;
                sizes.wasm_gzip += gzip;
            }
            sizes.total_raw += raw;
            sizes.total_gzip += gzip;
        }
        Ok(sizes)
    }
}

/// The length of `bytes` gzip-compressed at the best level.
fn gzip_len(bytes: &[u8]) -> Result<u64> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locked_wasm_bindgen_version_is_read_from_the_lock_file() {
        let lock = "[[package]]\nname = \"wasm-bindgen-futures\"\nversion = \"0.4.79\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.129\"\n";
        assert_eq!(locked_wasm_bindgen(lock).expect("found"), "0.2.129");
        assert!(locked_wasm_bindgen("[[package]]\nname = \"serde\"\n").is_err());
    }

    #[test]
    fn the_build_remaps_the_workspace_and_cargo_home_and_ignores_outside_flags() {
        let cmd = booth_build(Path::new("/work/main")).expect("a command");
        let line = display(&cmd);
        assert!(
            line.contains("--remap-path-prefix=/work/main=/tabella"),
            "{line}"
        );
        assert!(line.contains("=/cargo"), "{line}");
        assert!(line.contains("--profile booth"), "{line}");
        assert!(line.contains("--locked"), "{line}");
        let removed: Vec<_> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert!(removed.contains(&"RUSTFLAGS".to_owned()), "{removed:?}");
        assert!(booth_build(Path::new("/work/my booth")).is_err());
    }

    #[test]
    fn build_paths_left_in_the_bundle_are_found_and_remapped_ones_are_not() {
        let (root, home) = (Path::new("/home/me/tabella"), Path::new("/home/me/.cargo"));
        let clean = vec![
            (
                "index.html".to_owned(),
                b"<script src=/app/boot.js>".to_vec(),
            ),
            (
                "app/x.wasm".to_owned(),
                b"\0asm /tabella/crypto/src/ballot.rs /cargo/registry/src/index/x/lib.rs".to_vec(),
            ),
        ];
        assert!(build_paths_in(&clean, root, home).is_empty());
        let leaky = vec![(
            "app/x.wasm".to_owned(),
            b"\0asm /home/me/tabella/ballot-app/src/lib.rs /home/me/.cargo/registry/src/x.rs"
                .to_vec(),
        )];
        assert_eq!(
            build_paths_in(&leaky, root, home),
            [
                "app/x.wasm has /home/me/tabella/ballot-app/src/",
                "app/x.wasm has /home/me/.cargo/registry/src/"
            ]
        );
    }

    #[test]
    fn out_dir_is_only_replaced_when_it_is_an_earlier_booth() {
        let base = env::temp_dir().join(format!("xtask-booth-out-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).expect("a directory");
        fs::write(base.join("precious.txt"), "keep").expect("a file");
        assert!(prepare_out_dir(&base).is_err());
        assert!(base.join("precious.txt").exists());
        fs::write(base.join(BOOTH_MANIFEST), "{}").expect("a file");
        prepare_out_dir(&base).expect("an earlier booth is replaced");
        assert!(base.join("app").is_dir());
        assert!(!base.join("precious.txt").exists());
        fs::write(base.join("app/x.js"), "x").expect("a file");
        fs::write(base.join(BOOTH_INDEX), "<!doctype html>").expect("a file");
        let files = bundle_files(&base).expect("the files");
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["app/x.js", BOOTH_INDEX]);
        let sizes = Sizes::of(&files, b"{}").expect("sizes");
        assert_eq!(sizes.total_raw, 1 + 15 + 2);
        assert_eq!(sizes.wasm_raw, 0);
        fs::remove_dir_all(&base).expect("clean up");
    }
}
