//! [`ValidatingStore`]: a store that runs a [`Validator`] on every new document.

use std::sync::{Arc, Mutex, PoisonError};

use super::{validate_name, MessageStore, StoreError, Stored, Validator};

/// A [`MessageStore`] that checks every new document with a [`Validator`] before storing it in
/// the inner store.
///
/// The ceremony service puts through one of these, and an offline ceremony can wrap its
/// [`DirStore`](super::DirStore) the same way, so both refuse the same documents.
///
/// A put first looks for the name: identical bytes are [`Stored::AlreadyPresent`] and different
/// bytes a [`StoreError::Conflict`], without calling the validator. Only a new document is
/// validated; a refusal is [`StoreError::Rejected`] and stores nothing. Puts through one
/// `ValidatingStore` are serialised, so the validator always sees the documents accepted before
/// and none is accepted while it runs. (Writers in other processes are only held back by the
/// inner store's write-once rule.)
pub struct ValidatingStore {
    inner: Arc<dyn MessageStore>,
    validator: Validator,
    /// Serialises validate-then-put. Guards no data, so a poisoned lock is simply reused.
    puts: Mutex<()>,
}

impl ValidatingStore {
    /// Wraps `inner`, checking new documents with `validator`.
    pub fn new(inner: Arc<dyn MessageStore>, validator: Validator) -> Self {
        Self {
            inner,
            validator,
            puts: Mutex::new(()),
        }
    }

    /// The store the documents are kept in.
    pub fn inner(&self) -> &Arc<dyn MessageStore> {
        &self.inner
    }
}

impl std::fmt::Debug for ValidatingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatingStore")
            .field("inner", &self.inner.describe())
            .finish_non_exhaustive()
    }
}

impl MessageStore for ValidatingStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(name)
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<Stored, StoreError> {
        validate_name(name)?;
        let _serialised = self.puts.lock().unwrap_or_else(PoisonError::into_inner);
        if self.inner.get(name)?.is_some() {
            // Taken: the inner store tells a re-post (made durable) from a conflict.
            return self.inner.put(name, bytes);
        }
        (self.validator)(name, bytes, self.inner.as_ref()).map_err(|reason| {
            StoreError::Rejected {
                name: name.to_string(),
                reason,
            }
        })?;
        self.inner.put(name, bytes)
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        self.inner.list()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
