//! Ceremony messages: write-once JSON documents that trustees and officials exchange.
//!
//! The key and tally ceremonies run by exchanging named documents (`ceremony.json`,
//! `dealer-3.json`, `partial-2.json`, …), each signed by its author. This module is the transport
//! and nothing more: it never parses a document or checks a signature. Whoever needs that passes
//! a [`Validator`], which sees every new document and the store it is about to join.
//!
//! One interface, [`MessageStore`], has two implementations that behave the same way:
//! - [`DirStore`]: a directory of files, for ceremonies run offline (the directory travels on a
//!   USB stick between air-gapped laptops);
//! - [`HttpStore`]: a client of the ceremony service ([`server`]), which itself keeps the
//!   documents in a [`DirStore`].
//!
//! Every store is write-once: a name, once taken, keeps its bytes for ever. Posting the same bytes
//! again is harmless ([`Stored::AlreadyPresent`]); posting different bytes under a taken name is a
//! [`StoreError::Conflict`]. When several writers race for one name, exactly one wins.
//!
//! ```
//! use tabella_tally::messages::{DirStore, MessageStore, Stored};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = std::env::temp_dir().join(format!("tabella-doc-{}", std::process::id()));
//! let store = DirStore::open(&tmp)?;
//! assert_eq!(store.put("dealer-1.json", b"{}")?, Stored::Created);
//! assert_eq!(store.put("dealer-1.json", b"{}")?, Stored::AlreadyPresent);
//! assert!(store.put("dealer-1.json", b"[]").is_err()); // write-once
//! assert_eq!(store.list()?, vec!["dealer-1.json".to_string()]);
//! # std::fs::remove_dir_all(&tmp)?;
//! # Ok(())
//! # }
//! ```

mod dir;
mod http;
pub mod server;
mod validated;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use dir::DirStore;
pub use http::HttpStore;
pub use validated::ValidatingStore;

/// The longest message name, `.json` included: a 63-character stem and the extension.
pub const MAX_NAME_LEN: usize = 63 + ".json".len();

/// Checks that `name` is a message name: 1 to 63 lowercase ASCII letters, digits or hyphens, not
/// starting with a hyphen, followed by `.json` (`^[a-z0-9][a-z0-9-]{0,62}\.json$`).
///
/// Examples: `ceremony.json`, `dealer-3.json`, `check-12.json`, `tally-request.json`,
/// `partial-2.json`. The rule keeps names safe as file names on every file system (no separators,
/// no `..`, no case-only differences on case-insensitive systems) and as URL path segments.
pub fn validate_name(name: &str) -> Result<(), StoreError> {
    let invalid = || StoreError::InvalidName {
        name: name.to_string(),
    };
    let stem = name.strip_suffix(".json").ok_or_else(invalid)?;
    let bytes = stem.as_bytes();
    let lower_or_digit = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match bytes.split_first() {
        Some((first, rest))
            if bytes.len() <= 63
                && lower_or_digit(first)
                && rest.iter().all(|b| lower_or_digit(b) || *b == b'-') =>
        {
            Ok(())
        }
        _ => Err(invalid()),
    }
}

/// What a successful [`MessageStore::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The document is new: it now holds the name.
    Created,
    /// Exactly these bytes were already stored under the name: nothing changed (an idempotent
    /// re-post, e.g. after a lost answer).
    AlreadyPresent,
}

/// Why a message store operation failed. Every message is plain English a trustee can act on.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The name does not follow the message naming rule of [`validate_name`].
    #[error(
        "{name:?} is not a valid message name: use 1 to 63 lowercase letters, digits or hyphens \
         (not starting with a hyphen) followed by .json, e.g. dealer-3.json"
    )]
    InvalidName {
        /// The refused name.
        name: String,
    },

    /// A different document already holds this name. Messages are write-once.
    #[error(
        "a different document named {name} is already stored; messages are write-once, so it \
         cannot be replaced"
    )]
    Conflict {
        /// The name that is taken.
        name: String,
    },

    /// The validator refused the document.
    #[error("{name} was rejected: {reason}")]
    Rejected {
        /// The refused document's name.
        name: String,
        /// The validator's explanation.
        reason: String,
    },

    /// The name is reserved for officials and the admin token was missing or wrong.
    #[error("not allowed to post {name}: {message}")]
    Unauthorized {
        /// The document's name.
        name: String,
        /// What the service said.
        message: String,
    },

    /// The document is larger than the service accepts.
    #[error("{name} is too large ({size} bytes): {message}")]
    TooLarge {
        /// The document's name.
        name: String,
        /// The document's size in bytes.
        size: usize,
        /// What the service said, with its limit.
        message: String,
    },

    /// A file system operation failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "create", …).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// Another writer holds the lock of a name for too long (only on file systems without hard
    /// links, see [`DirStore`]).
    #[error(
        "another program has been writing {name} for too long (lock file {lock}); if nothing else \
         is writing to this directory, an earlier write was interrupted: delete the lock file and \
         try again"
    )]
    Locked {
        /// The document's name.
        name: String,
        /// The lock file.
        lock: PathBuf,
    },

    /// The ceremony service could not be reached, or the connection failed.
    #[error("could not reach the ceremony service at {url}: {detail}")]
    Http {
        /// The service's address.
        url: String,
        /// What went wrong, with its causes.
        detail: String,
    },

    /// The ceremony service answered with an error this client does not map to another variant.
    #[error("the ceremony service at {url} answered {status}: {message}")]
    Server {
        /// The service's address.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// What the service said.
        message: String,
    },

    /// Some documents did not appear in time ([`wait_for`]).
    #[error(
        "waited {:.1} s for {} in {store}, but they have not arrived yet",
        .waited.as_secs_f64(),
        .missing.join(", ")
    )]
    TimedOut {
        /// The names still missing, sorted.
        missing: Vec<String>,
        /// How long it waited.
        waited: Duration,
        /// The store's [`MessageStore::describe`].
        store: String,
    },

    /// The store was configured wrongly (e.g. both a directory and a URL, or a malformed URL).
    #[error("{0}")]
    Config(String),
}

/// A place where ceremony messages are exchanged: write-once named documents.
///
/// Implementations are safe to share between threads, and `put` is atomic: a reader sees either
/// no document or the whole of it, and when writers race for a name exactly one wins.
pub trait MessageStore: Send + Sync {
    /// The document named `name`, or `None` when there is none yet.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores `bytes` under `name` unless the name is taken.
    ///
    /// Returns [`Stored::AlreadyPresent`] when exactly these bytes are already there, and
    /// [`StoreError::Conflict`] when different bytes are.
    fn put(&self, name: &str, bytes: &[u8]) -> Result<Stored, StoreError>;

    /// The names of all stored documents, sorted.
    fn list(&self) -> Result<Vec<String>, StoreError>;

    /// Where the documents are, for messages: `directory /path` or `service http://…`.
    fn describe(&self) -> String;
}

impl<S: MessageStore + ?Sized> MessageStore for Arc<S> {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(name)
    }
    fn put(&self, name: &str, bytes: &[u8]) -> Result<Stored, StoreError> {
        (**self).put(name, bytes)
    }
    fn list(&self) -> Result<Vec<String>, StoreError> {
        (**self).list()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<S: MessageStore + ?Sized> MessageStore for Box<S> {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(name)
    }
    fn put(&self, name: &str, bytes: &[u8]) -> Result<Stored, StoreError> {
        (**self).put(name, bytes)
    }
    fn list(&self) -> Result<Vec<String>, StoreError> {
        (**self).list()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Checks a new document before it is stored: `(name, bytes, store)`, where `store` holds the
/// documents already accepted (so a dealer's message can be checked against `ceremony.json`).
/// Returns a plain-English reason on refusal.
///
/// It is called only for names that are still free, never for an idempotent re-post.
pub type Validator =
    Arc<dyn Fn(&str, &[u8], &dyn MessageStore) -> Result<(), String> + Send + Sync>;

/// A [`Validator`] that accepts every document.
pub fn accept_all() -> Validator {
    Arc::new(|_, _, _| Ok(()))
}

/// Opens the store a command works with: a directory (`dir`) or a ceremony service (`url`, with
/// the officials' admin `token` when posting admin documents). Exactly one of `dir` and `url` must
/// be given; `token` is ignored for a directory.
pub fn open_store(
    dir: Option<&Path>,
    url: Option<&str>,
    token: Option<String>,
) -> Result<Box<dyn MessageStore>, StoreError> {
    match (dir, url) {
        (Some(dir), None) => Ok(Box::new(DirStore::open(dir)?)),
        (None, Some(url)) => Ok(Box::new(HttpStore::new(url, token)?)),
        (Some(_), Some(_)) => Err(StoreError::Config(
            "give either a message directory or a ceremony service URL, not both".to_string(),
        )),
        (None, None) => Err(StoreError::Config(
            "give a message directory or a ceremony service URL".to_string(),
        )),
    }
}

/// Waits until every one of `names` is in `store`, checking every `poll_interval`.
///
/// Returns [`StoreError::TimedOut`] with the names still missing after `timeout`. A service that
/// cannot be reached on the first check is an error at once (most likely a wrong URL); once it
/// has answered, a brief outage is tolerated until `timeout`.
pub fn wait_for(
    store: &dyn MessageStore,
    names: &[&str],
    timeout: Duration,
    poll_interval: Duration,
) -> Result<(), StoreError> {
    for name in names {
        validate_name(name)?;
    }
    let start = Instant::now();
    let mut missing: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    missing.sort();
    missing.dedup();
    let mut first = true;
    loop {
        match store.list() {
            Ok(present) => {
                missing.retain(|name| present.binary_search(name).is_err());
                if missing.is_empty() {
                    return Ok(());
                }
            }
            Err(StoreError::Http { .. }) if !first => {}
            Err(error) => return Err(error),
        }
        first = false;
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(StoreError::TimedOut {
                missing,
                waited,
                store: store.describe(),
            });
        }
        std::thread::sleep(poll_interval.min(timeout - waited));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_name_accepts_ceremony_names() {
        for name in [
            "ceremony.json",
            "dealer-3.json",
            "check-12.json",
            "tally-request.json",
            "partial-2.json",
            "0.json",
            "a-.json",
            &format!("{}.json", "a".repeat(63)),
        ] {
            assert!(validate_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn validate_name_refuses_unsafe_or_malformed_names() {
        for name in [
            "",
            ".json",
            "../x.json",
            "a/b.json",
            "a\\b.json",
            "A.json",
            "x.txt",
            "x.JSON",
            "x.json.tmp",
            "-x.json",
            ".x.json",
            "x y.json",
            "x_y.json",
            "é.json",
            "x.json\0",
            &format!("{}.json", "a".repeat(64)),
        ] {
            assert!(
                matches!(validate_name(name), Err(StoreError::InvalidName { .. })),
                "{name:?}"
            );
        }
    }

    #[test]
    fn open_store_needs_exactly_one_location() {
        assert!(matches!(
            open_store(None, None, None),
            Err(StoreError::Config(_))
        ));
        assert!(matches!(
            open_store(Some(Path::new("x")), Some("http://127.0.0.1:1"), None),
            Err(StoreError::Config(_))
        ));
    }
}
