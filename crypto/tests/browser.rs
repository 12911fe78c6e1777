//! The crate's tests also run in headless Chromium (`cargo xtask test`, step browser-crypto), but
//! only those that opt in: on wasm32, a plain `#[test]` compiles and is silently never run. This
//! native test keeps every test file opted in.
//!
//! A file with tests imports wasm-bindgen-test's attribute as `test` on wasm32 (which covers the
//! `#[test]` inside `proptest!` too), and each integration test file also configures its binary
//! to run in the browser; the unit tests' binary is configured once in `src/lib.rs`. A nested
//! test module that glob-imports its parent needs the import itself: without it, wasm32 builds
//! fail on an ambiguous `test`.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::{Path, PathBuf};

const IMPORT: &str = "use wasm_bindgen_test::wasm_bindgen_test as test;";
const CONFIGURE: &str = "wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);";

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).expect("a readable source file")
}

#[test]
fn every_test_file_also_runs_in_the_browser() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    for path in rust_files(&crate_dir.join("src"))
        .into_iter()
        .chain(rust_files(&crate_dir.join("tests")))
    {
        let text = read(&path);
        if text.contains("#[test]") && !text.contains(IMPORT) {
            missing.push(path.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "these files have tests that would not run in the browser; add\n\
         #[cfg(all(target_arch = \"wasm32\", target_os = \"unknown\"))]\n{IMPORT}\n\
         to their test modules: {missing:#?}"
    );
}

#[test]
fn every_test_binary_runs_in_the_browser() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(read(&crate_dir.join("src/lib.rs")).contains(CONFIGURE));
    let missing: Vec<String> = rust_files(&crate_dir.join("tests"))
        .into_iter()
        .filter(|path| {
            let text = read(path);
            text.contains("#[test]") && !text.contains(CONFIGURE)
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "these test binaries would run in Node.js, not the browser; add {CONFIGURE}: {missing:#?}"
    );
}
