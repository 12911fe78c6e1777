//! The ceremony messages of the election, kept in the database's write-once documents table and
//! served through the ceremony message routes (`/v1/ceremony/messages`).
//!
//! The same table holds three documents of the service's own, which the ceremony routes neither
//! list, nor serve, nor accept: the signed election parameters ([`PARAMETERS`]), the board's
//! final tree head ([`TREE_HEAD`]) and the results ([`RESULTS`]).

use std::sync::{Arc, RwLock};

use tabella_crypto::ceremony::CeremonyParams;

use super::db::{Db, DbError, DocumentPut};
use super::Election;
use crate::ceremony::{CEREMONY, TALLY_REQUEST};
use crate::messages::{MessageStore, StoreError, Stored, Validator};

/// The results document: a service document, not a ceremony message.
pub const RESULTS: &str = "results.json";

/// The signed election parameters, stored when voting opens: a service document, not a
/// ceremony message.
pub const PARAMETERS: &str = "election.json";

/// The board's final signed tree head, fixed when voting closes (the record's
/// `tree-head.json`): a service document, not a ceremony message.
pub const TREE_HEAD: &str = "tree-head.json";

/// Whether `name` is one of the service's own documents, which the ceremony routes never list,
/// serve or accept.
pub(super) fn is_service_document(name: &str) -> bool {
    name == RESULTS || name == PARAMETERS || name == TREE_HEAD
}

/// The documents table as a [`MessageStore`] (blocking: call it from blocking threads only, as
/// the ceremony routes and the service's `spawn_blocking` sections do).
pub struct DbStore {
    db: Db,
    runtime: tokio::runtime::Handle,
}

impl DbStore {
    /// The store over `db`, running its queries on `runtime`.
    pub fn new(db: Db, runtime: tokio::runtime::Handle) -> Self {
        Self { db, runtime }
    }
}

fn io(error: DbError) -> StoreError {
    StoreError::Io {
        action: "use",
        path: "the election database".into(),
        source: std::io::Error::other(error.to_string()),
    }
}

impl MessageStore for DbStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if is_service_document(name) {
            return Ok(None);
        }
        self.runtime.block_on(self.db.document(name)).map_err(io)
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<Stored, StoreError> {
        match self
            .runtime
            .block_on(self.db.put_document(name, bytes))
            .map_err(io)?
        {
            DocumentPut::Created => Ok(Stored::Created),
            DocumentPut::AlreadyPresent => Ok(Stored::AlreadyPresent),
            DocumentPut::Conflict => Err(StoreError::Conflict {
                name: name.to_string(),
            }),
        }
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let mut names = self
            .runtime
            .block_on(self.db.document_names())
            .map_err(io)?;
        names.retain(|n| !is_service_document(n));
        Ok(names)
    }

    fn describe(&self) -> String {
        format!("the election database ({})", self.db.backend().name())
    }
}

/// The ceremony validator of the election service: the ceremony service's checks, plus
/// `ceremony.json` must be for this service's election, and the documents the service writes
/// itself cannot be posted.
pub fn validator(election: Arc<RwLock<Option<Arc<Election>>>>) -> Validator {
    let base = crate::ceremony::validator();
    Arc::new(move |name: &str, bytes: &[u8], store: &dyn MessageStore| {
        if name == TALLY_REQUEST || name == RESULTS {
            return Err(format!(
                "{name} is written by the election service itself, from the board, when voting \
                 closes"
            ));
        }
        if name == PARAMETERS {
            return Err(format!(
                "{name} is written by the election service itself when voting opens"
            ));
        }
        if name == TREE_HEAD {
            return Err(format!(
                "{name} is written by the election service itself when voting closes"
            ));
        }
        if name == CEREMONY {
            let expected = election
                .read()
                .ok()
                .and_then(|e| e.as_ref().map(|e| e.id))
                .ok_or_else(|| {
                    "create the election first (`tabella election create`): the ceremony \
                     belongs to it"
                        .to_string()
                })?;
            let params: CeremonyParams = serde_json::from_slice(bytes)
                .map_err(|e| format!("{name} is not a valid message: {e}"))?;
            if params.election_id != expected {
                return Err(format!(
                    "this ceremony is for election {}, but this service runs election {expected}",
                    params.election_id
                ));
            }
        }
        base(name, bytes, store)
    })
}
