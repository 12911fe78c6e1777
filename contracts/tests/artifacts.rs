//! The committed artifacts are what the pinned compiler makes of the committed source, byte for
//! byte, and the `sol!` bindings (generated from the same source) agree with the committed ABI.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use tabella_contracts::bindings::TabellaRegistry::{
    TabellaRegistryCalls, TabellaRegistryErrors, TabellaRegistryEvents,
};

const ARTIFACTS: [&str; 4] = [
    "TabellaRegistry.abi.json",
    "TabellaRegistry.bin",
    "TabellaRegistry.runtime.bin",
    "TabellaRegistry.gas.json",
];

/// Recompiles with `node scripts/compile.js --out DIR` and compares. A missing `node` or
/// `node_modules` is a failure, not a skip: CI must run this.
#[test]
fn recompiling_reproduces_the_committed_artifacts_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let how = "run npm ci in contracts/ (with Node.js installed) to install the pinned compiler";
    match Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!("`node --version` failed ({}); {how}", output.status),
        Err(e) => panic!("cannot run node ({e}); {how}"),
    }
    assert!(
        root.join("node_modules/solc/package.json").is_file(),
        "contracts/node_modules/solc is missing; {how}"
    );
    let out = tempfile::tempdir().expect("temporary directory");
    let output = Command::new("node")
        .arg("scripts/compile.js")
        .arg("--out")
        .arg(out.path())
        .current_dir(root)
        .output()
        .expect("run node scripts/compile.js");
    assert!(
        output.status.success(),
        "node scripts/compile.js failed: {}\n{how}",
        String::from_utf8_lossy(&output.stderr)
    );
    for name in ARTIFACTS {
        let committed = std::fs::read(root.join("artifacts").join(name))
            .unwrap_or_else(|e| panic!("read artifacts/{name}: {e}"));
        let fresh = std::fs::read(out.path().join(name))
            .unwrap_or_else(|e| panic!("the compiler wrote no {name}: {e}"));
        assert!(
            committed == fresh,
            "artifacts/{name} differs from what the pinned solc compiles from \
             solidity/TabellaRegistry.sol; run `node scripts/compile.js` in contracts/ and \
             commit the artifacts"
        );
    }
}

/// `name(type,...)` of an ABI entry, tuples spelled out.
fn canonical_type(param: &serde_json::Value) -> String {
    let ty = param["type"].as_str().expect("type");
    match ty.strip_prefix("tuple") {
        Some(suffix) => {
            let inner: Vec<String> = param["components"]
                .as_array()
                .expect("components")
                .iter()
                .map(canonical_type)
                .collect();
            format!("({}){suffix}", inner.join(","))
        }
        None => ty.to_owned(),
    }
}

fn abi_signatures(kind: &str) -> BTreeSet<String> {
    let abi: serde_json::Value =
        serde_json::from_str(tabella_contracts::REGISTRY_ABI).expect("ABI JSON");
    abi.as_array()
        .expect("ABI array")
        .iter()
        .filter(|entry| entry["type"] == kind)
        .map(|entry| {
            let inputs: Vec<String> = entry["inputs"]
                .as_array()
                .expect("inputs")
                .iter()
                .map(canonical_type)
                .collect();
            format!(
                "{}({})",
                entry["name"].as_str().expect("name"),
                inputs.join(",")
            )
        })
        .collect()
}

fn set(signatures: &[&str]) -> BTreeSet<String> {
    signatures.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn bindings_agree_with_the_committed_abi() {
    assert_eq!(
        set(TabellaRegistryCalls::SIGNATURES),
        abi_signatures("function"),
        "functions"
    );
    assert_eq!(
        set(TabellaRegistryEvents::SIGNATURES),
        abi_signatures("event"),
        "events"
    );
    assert_eq!(
        set(TabellaRegistryErrors::SIGNATURES),
        abi_signatures("error"),
        "errors"
    );
}

#[test]
fn the_embedded_bytecode_is_the_committed_artifact() {
    let code = tabella_contracts::registry_bytecode().expect("hex");
    let runtime = tabella_contracts::registry_runtime_bytecode().expect("hex");
    assert!(!code.is_empty() && !runtime.is_empty());
    // The creation code ends with the runtime code's metadata (CBOR, solc version 0.8.37).
    let metadata_len = usize::from(u16::from_be_bytes([
        runtime[runtime.len() - 2],
        runtime[runtime.len() - 1],
    ]));
    let tail = &runtime[runtime.len() - 2 - metadata_len..];
    assert!(code.ends_with(tail));
    assert!(
        runtime.windows(3).any(|w| w == [0x00, 0x08, 0x25]),
        "solc 0.8.37 in the metadata"
    );
}
