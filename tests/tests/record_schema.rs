//! The election record's specification against the code (spec/record.md, spec/verification.md,
//! spec/record.schema.json):
//!
//! - every file of the example record in `spec/vectors/record/` (or of the record in the
//!   directory named by `TABELLA_RECORD`) validates against the schema definition its path
//!   names, each line of `ballots.jsonl` against `RecordEntry`;
//! - the schema says what the Rust types say: their serialization validates, and documents the
//!   types refuse (an unknown field, upper-case hex, a missing field…) the schema refuses too;
//! - every check of `tabella_crypto::record::Check::ALL` has its heading, with its exact title,
//!   in spec/verification.md;
//! - the record digest's worked example (spec/record.md §5) and the layout of the board's signed
//!   election parameters (§6) are the code's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tabella_crypto::ballot::{ElectionId, TrackingCode};
use tabella_crypto::board::SignedTreeHead;
use tabella_crypto::ceremony::{
    CeremonyParams, CheckMessage, DealerMessage, PartialDecryptionMessage, TallyRequest,
};
use tabella_crypto::record::{
    AnchoredCheckpoint, Anchors, Check, CredentialList, FallbackBallot, RecordEntry, RecordFile,
    RecordIndex, RejectedFallbackBallot, Results, SignedElectionParameters, BALLOTS, INDEX,
};

fn spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

/// The example record, `spec/vectors/record/`.
fn example_dir() -> PathBuf {
    spec().join("vectors/record")
}

/// The record under test: `TABELLA_RECORD` if set (say, a record written by `tabella demo`), else
/// the example record.
fn record_dir() -> PathBuf {
    std::env::var_os("TABELLA_RECORD")
        .map(PathBuf::from)
        .unwrap_or_else(example_dir)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read(path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn schema() -> Value {
    read_json(&spec().join("record.schema.json"))
}

/// A validator for one `$defs` entry of the schema: the schema itself with a `$ref` to it.
fn validator(def: &str) -> jsonschema::Validator {
    let mut schema = schema();
    assert!(
        schema["$defs"].get(def).is_some(),
        "the schema has no $defs/{def}"
    );
    schema["$ref"] = json!(format!("#/$defs/{def}"));
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("the schema does not compile for {def}: {e}"))
}

fn errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The schema's `x-tabella-files`: record path (with `N` for a trustee index) → definition.
fn files_map() -> BTreeMap<String, String> {
    let schema = schema();
    let map = schema["x-tabella-files"]
        .as_object()
        .expect("the schema has an x-tabella-files object");
    map.iter()
        .map(|(path, def)| {
            let def = def.as_str().expect("x-tabella-files maps paths to names");
            (path.clone(), def.to_string())
        })
        .collect()
}

/// `ceremony/dealer-12.json` → `ceremony/dealer-N.json`; other paths unchanged.
fn pattern_of(path: &str) -> String {
    for kind in ["dealer", "check", "partial"] {
        let prefix = format!("ceremony/{kind}-");
        if let Some(n) = path
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".json"))
        {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                return format!("{prefix}N.json");
            }
        }
    }
    path.to_string()
}

/// Every file under `dir`, as record paths, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        let entries = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()));
        for entry in entries {
            let entry = entry.expect("a directory entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().expect("a file type").is_dir() {
                stack.push((entry.path(), format!("{prefix}{name}/")));
            } else {
                out.push(format!("{prefix}{name}"));
            }
        }
    }
    out.sort();
    out
}

/// The lines of a JSON Lines file (spec/record.md §2): each ends in a line feed, none is empty.
fn json_lines(bytes: &[u8]) -> Vec<Value> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let text = std::str::from_utf8(bytes).expect("ballots.jsonl is UTF-8");
    let body = text
        .strip_suffix('\n')
        .expect("ballots.jsonl ends with a line feed");
    body.split('\n')
        .enumerate()
        .map(|(i, line)| {
            assert!(!line.is_empty(), "ballots.jsonl, line {}: empty", i + 1);
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("ballots.jsonl, line {}: not JSON: {e}", i + 1))
        })
        .collect()
}

/// Parses `value` as `T` (as the verifier does) and checks that `T`'s own serialization
/// validates against `def` too.
fn round_trip<T: DeserializeOwned + Serialize>(def: &str, value: &Value) {
    let parsed: T = serde_json::from_value(value.clone()).unwrap_or_else(|e| {
        panic!("the Rust type of {def} refuses a document the schema accepts: {e}")
    });
    let again = serde_json::to_value(&parsed).expect("serializes");
    let problems = errors(&validator(def), &again);
    assert!(
        problems.is_empty(),
        "the Rust serialization of {def} does not validate: {problems:#?}"
    );
}

/// Parses with the Rust type the schema definition `def` describes.
fn round_trip_as(def: &str, value: &Value) {
    match def {
        "RecordIndex" => round_trip::<RecordIndex>(def, value),
        "SignedElectionParameters" => round_trip::<SignedElectionParameters>(def, value),
        "CredentialList" => round_trip::<CredentialList>(def, value),
        "CeremonyParams" => round_trip::<CeremonyParams>(def, value),
        "DealerMessage" => round_trip::<DealerMessage>(def, value),
        "CheckMessage" => round_trip::<CheckMessage>(def, value),
        "RecordEntry" => round_trip::<RecordEntry>(def, value),
        "SignedTreeHead" => round_trip::<SignedTreeHead>(def, value),
        "TallyRequest" => round_trip::<TallyRequest>(def, value),
        "PartialDecryptionMessage" => round_trip::<PartialDecryptionMessage>(def, value),
        "Results" => round_trip::<Results>(def, value),
        "Anchors" => round_trip::<Anchors>(def, value),
        other => panic!("no Rust type for {other}"),
    }
}

/// Whether the Rust type of `def` accepts `value`.
fn rust_accepts(def: &str, value: &Value) -> bool {
    fn parses<T: DeserializeOwned>(value: &Value) -> bool {
        serde_json::from_value::<T>(value.clone()).is_ok()
    }
    match def {
        "RecordIndex" => parses::<RecordIndex>(value),
        "SignedElectionParameters" => parses::<SignedElectionParameters>(value),
        "CredentialList" => parses::<CredentialList>(value),
        "CeremonyParams" => parses::<CeremonyParams>(value),
        "DealerMessage" => parses::<DealerMessage>(value),
        "CheckMessage" => parses::<CheckMessage>(value),
        "RecordEntry" => parses::<RecordEntry>(value),
        "SignedTreeHead" => parses::<SignedTreeHead>(value),
        "TallyRequest" => parses::<TallyRequest>(value),
        "PartialDecryptionMessage" => parses::<PartialDecryptionMessage>(value),
        "Results" => parses::<Results>(value),
        "Anchors" => parses::<Anchors>(value),
        other => panic!("no Rust type listed for {other}"),
    }
}

/// Every document of the record under test with its definition (the first line of
/// `ballots.jsonl` of each kind only).
fn documents() -> Vec<(String, String, Value)> {
    let dir = record_dir();
    let map = files_map();
    let mut out = Vec::new();
    for path in files_under(&dir) {
        let Some(def) = map.get(&pattern_of(&path)) else {
            continue;
        };
        let bytes = read(&dir.join(&path));
        if path == BALLOTS {
            let mut kinds = Vec::new();
            for entry in json_lines(&bytes) {
                let kind = entry["kind"].clone();
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                    out.push((format!("{path} ({})", entry["kind"]), def.clone(), entry));
                }
            }
        } else {
            let value = serde_json::from_slice(&bytes).expect("JSON");
            out.push((path, def.clone(), value));
        }
    }
    if !out.iter().any(|(_, def, _)| def == "Anchors") {
        let value = serde_json::to_value(example_anchors()).expect("serializes");
        out.push((
            "an example anchors.json".to_string(),
            "Anchors".to_string(),
            value,
        ));
    }
    out
}

/// An `anchors.json` with every field (the example record has none).
fn example_anchors() -> Anchors {
    let tx = |b: u8| format!("0x{}", hex::encode([b; 32]));
    Anchors {
        chain_id: 31337,
        contract: format!("0x{}", hex::encode([0xab; 20])),
        election_transaction: tx(1),
        checkpoints: vec![
            AnchoredCheckpoint {
                size: 0,
                root: tabella_crypto::board::EMPTY_ROOT,
                transaction: tx(2),
            },
            AnchoredCheckpoint {
                size: 5,
                root: [0xc7; 32],
                transaction: tx(3),
            },
        ],
        fallback: vec![FallbackBallot {
            transaction: tx(4),
            chain_index: 0,
            index: 3,
            tracking_code: TrackingCode([0xd9; 32]),
        }],
        rejected: vec![RejectedFallbackBallot {
            transaction: tx(6),
            chain_index: 1,
            tracking_code: TrackingCode([0xda; 32]),
            reason: "the ballot's proofs do not verify".to_string(),
        }],
        result_transaction: Some(tx(5)),
    }
}

/// The JSON pointers of every object in `value`.
fn objects(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            out.push(at.clone());
            for (k, v) in map {
                objects(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                objects(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_object_is_closed_and_requires_what_the_types_require() {
    // Mutation by mutation over every object of every document: an unknown field is refused by
    // both the schema and the type; a field removed is refused by the schema exactly when the
    // type refuses it (optional fields: `opening`, `result_transaction`), except that the schema
    // also requires a spoiled entry's opening (V8).
    let mut mutations = 0;
    for (path, def, document) in documents() {
        let v = validator(&def);
        let mut pointers = Vec::new();
        objects(&document, String::new(), &mut pointers);
        for pointer in pointers {
            let mut bad = document.clone();
            let object = bad
                .pointer_mut(&pointer)
                .and_then(Value::as_object_mut)
                .expect("an object");
            object.insert("unexpected".to_string(), json!(0));
            assert!(
                !v.is_valid(&bad),
                "{path}: $defs/{def} accepts an unknown field at {pointer:?}"
            );
            assert!(
                !rust_accepts(&def, &bad),
                "{path}: the type accepts an unknown field at {pointer:?}"
            );
            let keys: Vec<String> = document
                .pointer(&pointer)
                .and_then(Value::as_object)
                .expect("an object")
                .keys()
                .cloned()
                .collect();
            for key in keys {
                let mut bad = document.clone();
                if let Some(object) = bad.pointer_mut(&pointer).and_then(Value::as_object_mut) {
                    object.remove(&key);
                }
                let schema = v.is_valid(&bad);
                let rust = rust_accepts(&def, &bad);
                let field = format!("{pointer}/{key}");
                if def == "RecordEntry" && field == "/opening" {
                    assert!(!schema, "{path}: a spoiled entry without an opening passes");
                    assert!(rust, "{path}: the type requires the opening");
                } else {
                    assert_eq!(
                        schema, rust,
                        "{path}: without {field:?}, the schema says {schema} and the type {rust}"
                    );
                }
                mutations += 1;
            }
            mutations += 1;
        }
        // Every long lowercase hex string is refused in upper case.
        let mut strings = Vec::new();
        collect_hex(&document, String::new(), &mut strings);
        for pointer in strings {
            let mut bad = document.clone();
            if let Some(s) = bad.pointer_mut(&pointer) {
                upper(s);
            }
            assert!(
                !v.is_valid(&bad),
                "{path}: $defs/{def} accepts upper-case hex at {pointer:?}"
            );
            mutations += 1;
        }
    }
    assert!(mutations > 100, "only {mutations} mutations tried");
}

/// The JSON pointers of every string of at least 64 lowercase hex digits with a letter in it.
fn collect_hex(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            let s = s.strip_prefix("0x").unwrap_or(s);
            if s.len() >= 64
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && s.bytes().any(|b| b.is_ascii_lowercase())
            {
                out.push(at);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                collect_hex(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_hex(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("spec/record.schema.json is not a valid schema: {e}");
    }
    // Every document type of spec/record.md §3 has its definition, and every object refuses
    // unknown fields, as the Rust types do (deny_unknown_fields).
    let map = files_map();
    for def in map.values() {
        validator(def);
    }
    fn closed(path: &str, value: &Value) {
        match value {
            Value::Object(map) => {
                if map.get("type") == Some(&json!("object")) {
                    assert_eq!(
                        map.get("additionalProperties"),
                        Some(&json!(false)),
                        "{path} is an object type that accepts unknown fields"
                    );
                }
                for (k, v) in map {
                    closed(&format!("{path}/{k}"), v);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    closed(&format!("{path}/{i}"), v);
                }
            }
            _ => {}
        }
    }
    closed("#", &schema);
}

#[test]
fn every_file_of_the_example_record_matches_the_schema() {
    let dir = record_dir();
    assert!(
        dir.join(INDEX).is_file(),
        "{} holds no election record (no {INDEX})",
        dir.display()
    );
    let map = files_map();
    let mut validators: BTreeMap<String, jsonschema::Validator> = BTreeMap::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for path in files_under(&dir) {
        let pattern = pattern_of(&path);
        let def = map.get(&pattern).unwrap_or_else(|| {
            panic!("{path} is not a file of an election record (spec/record.md §3)")
        });
        let validator = validators
            .entry(def.clone())
            .or_insert_with(|| validator(def));
        let bytes = read(&dir.join(&path));
        let documents = if path == BALLOTS {
            json_lines(&bytes)
        } else {
            vec![serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))]
        };
        for (i, document) in documents.iter().enumerate() {
            let problems = errors(validator, document);
            assert!(
                problems.is_empty(),
                "{path} (document {}) does not match $defs/{def}: {problems:#?}",
                i + 1
            );
            round_trip_as(def, document);
        }
        *seen.entry(pattern).or_default() += documents.len();
    }
    for required in [
        "record.json",
        "election.json",
        "credentials.json",
        "ceremony/ceremony.json",
        "ceremony/dealer-N.json",
        "ceremony/check-N.json",
        "ballots.jsonl",
        "tree-head.json",
        "results.json",
    ] {
        assert!(
            seen.contains_key(required),
            "the record has no {required}; it holds {seen:?}"
        );
    }
    assert!(seen["ballots.jsonl"] > 0, "the example board is empty");
}

#[test]
fn the_example_board_has_cast_and_spoiled_entries() {
    // So that both branches of $defs/RecordEntry (and SpoiledBallot) are exercised above.
    let dir = example_dir();
    let entries = json_lines(&read(&dir.join(BALLOTS)));
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(
        kinds.contains(&"cast"),
        "no cast entry in {}",
        dir.display()
    );
    assert!(
        kinds.contains(&"spoiled"),
        "no spoiled entry in {}",
        dir.display()
    );
}

#[test]
fn the_rust_serialization_of_anchors_matches_the_schema() {
    // The example record has no anchors.json: check the type's serialization instead.
    let mut anchors = example_anchors();
    let v = validator("Anchors");
    for _ in 0..2 {
        let value = serde_json::to_value(&anchors).expect("serializes");
        let problems = errors(&v, &value);
        assert!(problems.is_empty(), "{value:#}: {problems:#?}");
        round_trip_as("Anchors", &value);
        anchors.result_transaction = None;
    }
    let mut value = serde_json::to_value(&anchors).expect("serializes");
    value["contract"] = json!(format!("0x{}", hex::encode_upper([0xab; 20])));
    assert!(!v.is_valid(&value), "an upper-case contract address passes");
    // The refused fallback ballots are optional, but a refusal must say why, and a fallback
    // ballot must say where it is on chain.
    let document = serde_json::to_value(&anchors).expect("serializes");
    let mut without = document.clone();
    without.as_object_mut().map(|o| o.remove("rejected"));
    assert!(
        v.is_valid(&without),
        "anchors.json without `rejected` is refused"
    );
    schema_refuses("Anchors", &document, "a refusal without a reason", |d| {
        d["rejected"][0]["reason"] = json!("")
    });
    schema_refuses(
        "Anchors",
        &document,
        "a fallback ballot without its chain index",
        |d| {
            d["fallback"][0]
                .as_object_mut()
                .map(|o| o.remove("chain_index"));
        },
    );
}

/// Applies `change` to a copy of `document` and asserts that the schema refuses the result.
fn schema_refuses(
    def: &str,
    document: &Value,
    what: &str,
    change: impl FnOnce(&mut Value),
) -> Value {
    let mut bad = document.clone();
    change(&mut bad);
    assert_ne!(&bad, document, "{what}: the change changed nothing");
    assert!(
        !validator(def).is_valid(&bad),
        "$defs/{def} accepts a document with {what}"
    );
    bad
}

/// [`schema_refuses`], and the Rust type refuses the result too.
fn assert_refused(def: &str, document: &Value, what: &str, change: impl FnOnce(&mut Value)) {
    let bad = schema_refuses(def, document, what, change);
    assert!(
        !rust_accepts(def, &bad),
        "the Rust type of {def} accepts a document with {what}: schema and code disagree"
    );
}

fn upper(value: &mut Value) {
    let s = value.as_str().expect("a string").to_ascii_uppercase();
    *value = json!(s);
}

fn remove(value: &mut Value, key: &str) {
    value
        .as_object_mut()
        .expect("an object")
        .remove(key)
        .unwrap_or_else(|| panic!("no field {key}"));
}

#[test]
fn the_schema_refuses_what_the_types_refuse() {
    let dir = example_dir();
    let index = read_json(&dir.join(INDEX));
    let election = read_json(&dir.join("election.json"));
    let credentials = read_json(&dir.join("credentials.json"));
    let head = read_json(&dir.join("tree-head.json"));
    let results = read_json(&dir.join("results.json"));
    let dealer = read_json(&dir.join("ceremony/dealer-1.json"));
    let entries = json_lines(&read(&dir.join(BALLOTS)));
    let cast = entries
        .iter()
        .find(|e| e["kind"] == json!("cast"))
        .expect("a cast entry");
    let spoiled = entries
        .iter()
        .find(|e| e["kind"] == json!("spoiled"))
        .expect("a spoiled entry");

    // Unknown fields, at the top and nested.
    assert_refused("RecordIndex", &index, "an unknown field", |d| {
        d["signature"] = json!("00")
    });
    assert_refused("RecordIndex", &index, "an unknown field in a file", |d| {
        d["files"][0]["mode"] = json!(420)
    });
    assert_refused(
        "SignedElectionParameters",
        &election,
        "an unknown parameter",
        |d| d["parameters"]["deadline"] = json!(1),
    );
    assert_refused(
        "SignedElectionParameters",
        &election,
        "an unknown field in a contest style",
        |d| d["parameters"]["manifest"]["contests"][0]["style"]["max"] = json!(1),
    );
    assert_refused(
        "RecordEntry",
        cast,
        "an unknown field in a tree head",
        |d| d["receipt"]["tree_head"]["head"]["epoch"] = json!(0),
    );
    assert_refused("RecordEntry", cast, "a reception time", |d| {
        d["received_at"] = json!(1_767_225_600_000u64)
    });
    assert_refused("Results", &results, "an unknown field in a total", |d| {
        d["contests"][0]["selections"][0]["share"] = json!(0.5)
    });

    // Upper-case hex.
    assert_refused("RecordIndex", &index, "an upper-case digest", |d| {
        upper(&mut d["files"][0]["sha256"])
    });
    assert_refused("RecordIndex", &index, "an upper-case election id", |d| {
        upper(&mut d["election_id"])
    });
    assert_refused(
        "SignedElectionParameters",
        &election,
        "an upper-case board key",
        |d| upper(&mut d["parameters"]["board_key"]),
    );
    assert_refused(
        "CredentialList",
        &credentials,
        "an upper-case digest",
        |d| upper(&mut d["digest"]),
    );
    assert_refused("SignedTreeHead", &head, "an upper-case root", |d| {
        upper(&mut d["head"]["root"])
    });
    assert_refused("RecordEntry", cast, "an upper-case tracking code", |d| {
        upper(&mut d["tracking_code"])
    });

    // Wrong lengths and encodings.
    assert_refused("RecordIndex", &index, "a short digest", |d| {
        let s = d["files"][0]["sha256"].as_str().expect("hex").to_string();
        d["files"][0]["sha256"] = json!(s[..62].to_string());
    });
    assert_refused("RecordIndex", &index, "a 0x-prefixed digest", |d| {
        let s = d["files"][0]["sha256"].as_str().expect("hex").to_string();
        d["files"][0]["sha256"] = json!(format!("0x{}", &s[2..]));
    });
    // The ballot is a string to the type and decoded by V8; the sealed share's length is V6's.
    schema_refuses("RecordEntry", cast, "unpadded base64", |d| {
        let s = d["ballot"].as_str().expect("base64").to_string();
        assert!(s.ends_with('='), "the example ballot's base64 is padded");
        d["ballot"] = json!(s.trim_end_matches('='));
    });
    schema_refuses("RecordEntry", cast, "base64 with a line break", |d| {
        let s = d["ballot"].as_str().expect("base64").to_string();
        d["ballot"] = json!(format!("{}\n{}", &s[..76], &s[76..]));
    });
    schema_refuses("DealerMessage", &dealer, "a short sealed share", |d| {
        let s = d["shares"][0]["sealed"].as_str().expect("hex").to_string();
        d["shares"][0]["sealed"] = json!(s[..94].to_string());
    });
    assert_refused("RecordEntry", cast, "a negative index", |d| {
        d["index"] = json!(-1)
    });
    assert_refused("RecordEntry", cast, "an index beyond u64", |d| {
        d["index"] = json!(18_446_744_073_709_551_616.0)
    });
    assert_refused("RecordEntry", cast, "an unknown kind", |d| {
        d["kind"] = json!("Cast")
    });

    // Missing fields.
    assert_refused("SignedElectionParameters", &election, "no signature", |d| {
        remove(d, "signature")
    });
    assert_refused("SignedElectionParameters", &election, "no board key", |d| {
        remove(&mut d["parameters"], "board_key")
    });
    assert_refused("RecordIndex", &index, "no file size", |d| {
        remove(&mut d["files"][0], "size")
    });
    assert_refused("RecordEntry", cast, "no receipt", |d| remove(d, "receipt"));
    assert_refused("RecordEntry", spoiled, "no nonces in the opening", |d| {
        remove(&mut d["opening"], "nonces")
    });
    assert_refused("Results", &results, "no board root", |d| {
        remove(d, "board_root")
    });

    // Beyond the Rust types: the entry shapes V8 refuses (spec/verification.md), which the
    // schema refuses too.
    let v = validator("RecordEntry");
    let mut bad = cast.clone();
    bad["opening"] = spoiled["opening"].clone();
    assert!(!v.is_valid(&bad), "a cast entry with an opening passes");
    let mut bad = spoiled.clone();
    remove(&mut bad, "opening");
    assert!(
        !v.is_valid(&bad),
        "a spoiled entry without an opening passes"
    );
    let mut bad = cast.clone();
    bad["status"] = json!("spoiled");
    assert!(!v.is_valid(&bad), "a cast entry marked spoiled passes");
    let mut bad = spoiled.clone();
    bad["status"] = json!("counted");
    assert!(!v.is_valid(&bad), "a spoiled entry marked counted passes");
    let mut bad = index.clone();
    bad["files"][0]["path"] = json!("../outside.json");
    assert!(
        !validator("RecordIndex").is_valid(&bad),
        "a path outside the record passes"
    );
}

#[test]
fn every_check_has_its_heading_in_verification_md() {
    let path = spec().join("verification.md");
    let text = String::from_utf8(read(&path)).expect("UTF-8");
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    // The id as a word: "V1" but not "V10".
    let names = |heading: &str, id: &str| {
        heading.match_indices(id).any(|(at, _)| {
            let before = heading[..at].chars().next_back();
            let after = heading[at + id.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric())
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        })
    };
    let mut previous = 0;
    for check in Check::ALL {
        let id = check.id();
        let found: Vec<(usize, &&str)> = headings
            .iter()
            .enumerate()
            .filter(|(_, h)| names(h, &id) && h.contains(check.title()))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "spec/verification.md needs exactly one heading with {id} and its title {:?}",
            check.title()
        );
        assert!(
            found[0].0 >= previous,
            "{id}'s heading is out of order in spec/verification.md"
        );
        previous = found[0].0;
    }
    // And no heading for a check the code does not have.
    let beyond = format!("V{}", Check::ALL.len() + 1);
    assert!(
        !headings.iter().any(|h| names(h, &beyond)),
        "spec/verification.md has a heading for {beyond}, which the verifier does not run"
    );
}

#[test]
fn the_record_digest_worked_example_is_the_codes() {
    // spec/record.md §5.
    let describe = |path: &str, bytes: &[u8]| RecordFile::describe(path, bytes);
    let index = RecordIndex {
        format: "tabella-record/1".to_string(),
        election_id: ElectionId([0x11; 32]),
        files: vec![
            describe("ballots.jsonl", b""),
            describe("election.json", b"{}\n"),
        ],
    };
    let digest = hex::encode(index.digest());
    assert_eq!(
        digest,
        "77dce5fb04ecc4224f8e2ca5a0aa49ce99c2ec70d16949127251a1d78e863a3f"
    );
    let text = String::from_utf8(read(&spec().join("record.md"))).expect("UTF-8");
    assert!(
        text.contains(&digest),
        "spec/record.md §5 does not give the digest"
    );
    // The JSON text is not what is hashed: another formatting of the same index has the same
    // digest.
    let compact: RecordIndex =
        serde_json::from_str(&serde_json::to_string(&index).expect("serializes")).expect("reads");
    assert_eq!(compact.digest(), index.digest());
}

#[test]
fn the_signed_election_parameters_have_the_specified_layout() {
    // spec/record.md §6, byte for byte, on the example record's election.json.
    let election: SignedElectionParameters =
        serde_json::from_value(read_json(&record_dir().join("election.json")))
            .expect("election.json reads");
    let p = &election.parameters;
    let domain = b"tabella/v1/election-parameters";
    let mut expected = Vec::new();
    expected.extend_from_slice(&(domain.len() as u64).to_le_bytes());
    expected.extend_from_slice(domain);
    expected.extend_from_slice(&p.protocol.to_le_bytes());
    expected.extend_from_slice(&p.election_id.0);
    expected.extend_from_slice(&p.manifest_hash.0);
    expected.extend_from_slice(&p.board_key.to_bytes());
    expected.extend_from_slice(&p.ceremony_id.0);
    expected.extend_from_slice(&p.trustees.to_le_bytes());
    expected.extend_from_slice(&p.threshold.to_le_bytes());
    expected.extend_from_slice(&p.joint_key.to_bytes());
    expected.extend_from_slice(&p.credentials.to_le_bytes());
    expected.extend_from_slice(&p.credentials_digest);
    assert_eq!(expected.len(), 254);
    assert_eq!(p.signing_message(), expected);
    assert!(
        election.signature_holds(),
        "the example's board signature does not verify"
    );
}

/// MANIFEST-3c: the demo's translated manifest matches `$defs/Manifest`; the schema refuses a
/// tag that is not a language tag and a field a translation does not have.
#[test]
fn translated_manifests_match_the_schema() {
    let manifest = tabella_tally::demo::manifest(tabella_tally::demo::ContestSet::All)
        .expect("the demo manifest");
    let document = serde_json::to_value(&manifest).expect("JSON");
    assert!(document["translations"]["ar"].is_object());
    let problems: Vec<String> = validator("Manifest")
        .iter_errors(&document)
        .map(|e| e.to_string())
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    schema_refuses("Manifest", &document, "a region in lower case", |d| {
        let fr = d["translations"]["fr"].clone();
        d["translations"]["fr-fr"] = fr;
    });
    schema_refuses(
        "Manifest",
        &document,
        "an unknown field in a translation",
        |d| {
            d["translations"]["de"]["dir"] = json!("ltr");
        },
    );
}
