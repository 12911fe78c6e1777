//! The public credential list and its replacements (spec/credentials.md §7, CRED-LIST-1 to
//! CRED-LIST-3).
//!
//! A registrar draws every voter's code and derives its key offline (`tabella credentials
//! generate`); only the [`PublicCredentialList`] leaves its machine, and the election service
//! checks it with [`PublicCredentialList::validate`] before it becomes the list of eligible keys.
//! A lost or compromised credential is replaced before voting opens by a
//! [`CredentialReplacement`]: one key leaves the list, a fresh one enters, and the list's digest
//! changes from `previous_digest` to `digest`. The record keeps every replacement, so anyone can
//! replay them backwards from the final list to the list first uploaded
//! ([`replay_backwards`]).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{CredentialError, CredentialKey};
use crate::ballot::ElectionId;
use crate::group::hex32;

/// SHA-256 over the concatenated 32-byte credential keys, in the given (sorted) order
/// (CRED-LIST-1). `SHA-256("")` for an empty list.
pub fn credentials_digest<'a>(keys: impl IntoIterator<Item = &'a [u8; 32]>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for key in keys {
        hasher.update(key);
    }
    hasher.finalize().into()
}

/// Why a credential list or a replacement was refused. Positions are 1-based, in list order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialListError {
    /// The list or replacement is for another election.
    #[error("it is for election {found}, not for this election ({expected})")]
    WrongElection {
        /// This election.
        expected: ElectionId,
        /// The election it names.
        found: ElectionId,
    },
    /// The list has no key.
    #[error("the credential list is empty")]
    Empty,
    /// A key that does not decode strictly (credentials.md §4).
    #[error("credential key {position} is not valid: {reason}")]
    BadKey {
        /// Its position.
        position: u64,
        /// Why.
        reason: CredentialError,
    },
    /// The keys are not strictly ascending (sorted, each once).
    #[error("the credential keys are not strictly sorted: key {position} is not below key {}", .position + 1)]
    NotSorted {
        /// The first key of the first pair out of order (or repeated).
        position: u64,
    },
    /// The digest does not match the keys.
    #[error("the credential keys hash to {computed}, not to the digest {claimed} the list gives")]
    DigestMismatch {
        /// The digest recomputed from the keys (hex).
        computed: String,
        /// The digest given (hex).
        claimed: String,
    },
    /// A replacement does not start from the current list.
    #[error("the replacement starts from the list with digest {claimed}, but the current list has digest {current}")]
    NotCurrent {
        /// The current list's digest (hex).
        current: String,
        /// The replacement's `previous_digest` (hex).
        claimed: String,
    },
    /// The key a replacement removes is not on the list.
    #[error("the credential key to remove, {key}, is not on the list")]
    RemovedNotListed {
        /// The key (hex).
        key: String,
    },
    /// The key a replacement adds is already on the list.
    #[error("the credential key to add, {key}, is already on the list")]
    AddedAlreadyListed {
        /// The key (hex).
        key: String,
    },
}

/// `#[serde(with = "…")]` for a list of 32-byte keys as lowercase hex, decoded to bytes only
/// (the strict key decoding runs in [`PublicCredentialList::validate`], in parallel when the
/// crate's `parallel` feature is on: a million keys take seconds to decode).
mod hex_keys {
    use crate::group::text;

    pub(super) fn serialize<S: serde::Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|k| text::to_hex(k)))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<[u8; 32]>, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = Vec<[u8; 32]>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a list of credential keys as 64 lowercase hex digits each")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(s) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    keys.push(
                        text::from_hex("credential key", &s).map_err(serde::de::Error::custom)?,
                    );
                }
                Ok(keys)
            }
        }
        d.deserialize_seq(Keys)
    }
}

/// The public credential list a registrar writes (`credentials.json` of `tabella credentials
/// generate`) and the officials upload (`PUT /v1/election/credentials`): the election, every
/// credential key in strictly ascending byte order, and their digest. It holds no voter id and
/// no code (CRED-LIST-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicCredentialList {
    /// The election whose salt derived the keys.
    pub election_id: ElectionId,
    /// The keys, strictly ascending (as bytes; decoded by [`Self::validate`]).
    #[serde(with = "hex_keys")]
    pub credentials: Vec<[u8; 32]>,
    /// [`credentials_digest`] of the keys in this order.
    #[serde(with = "hex32")]
    pub digest: [u8; 32],
}

impl PublicCredentialList {
    /// The list of `keys` (in any order) for `election_id`: sorted, with its digest. Two equal
    /// keys are kept, so that [`Self::validate`] refuses the list.
    pub fn new(election_id: ElectionId, keys: impl IntoIterator<Item = CredentialKey>) -> Self {
        let mut credentials: Vec<[u8; 32]> = keys.into_iter().map(|k| k.to_bytes()).collect();
        credentials.sort_unstable();
        let digest = credentials_digest(&credentials);
        Self {
            election_id,
            credentials,
            digest,
        }
    }

    /// CRED-LIST-1, in this order, the first failure reported: the election; at least one key;
    /// strictly ascending; every key decodes strictly (credentials.md §4: canonical, not of small
    /// order); the digest. Returns the decoded keys.
    pub fn validate(
        &self,
        election: &ElectionId,
    ) -> Result<Vec<CredentialKey>, CredentialListError> {
        if self.election_id != *election {
            return Err(CredentialListError::WrongElection {
                expected: *election,
                found: self.election_id,
            });
        }
        if self.credentials.is_empty() {
            return Err(CredentialListError::Empty);
        }
        if let Some(i) = self.credentials.windows(2).position(|w| w[0] >= w[1]) {
            return Err(CredentialListError::NotSorted {
                position: i as u64 + 1,
            });
        }
        let keys = decode_all(&self.credentials)?;
        let computed = credentials_digest(&self.credentials);
        if computed != self.digest {
            return Err(CredentialListError::DigestMismatch {
                computed: hex::encode(computed),
                claimed: hex::encode(self.digest),
            });
        }
        Ok(keys)
    }
}

/// Decodes every key strictly, in parallel with the `parallel` feature; the first bad key (by
/// position) is reported.
fn decode_all(keys: &[[u8; 32]]) -> Result<Vec<CredentialKey>, CredentialListError> {
    let decode = |(i, k): (usize, &[u8; 32])| {
        CredentialKey::from_bytes(k).map_err(|reason| CredentialListError::BadKey {
            position: i as u64 + 1,
            reason,
        })
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        keys.par_iter().enumerate().map(decode).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        keys.iter().enumerate().map(decode).collect()
    }
}

/// One credential replaced before voting opens (CRED-LIST-2): `removed` leaves the list,
/// `added` enters it, and the list's digest goes from `previous_digest` to `digest`. The
/// registrar writes it (`tabella credentials replace`); the officials upload it (`POST
/// /v1/election/credentials/replacements`); the record keeps it (`credentials.json`'s
/// `replacements`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialReplacement {
    /// The election.
    pub election_id: ElectionId,
    /// The key that leaves the list.
    pub removed: CredentialKey,
    /// The key that enters it.
    pub added: CredentialKey,
    /// The list's digest before.
    #[serde(with = "hex32")]
    pub previous_digest: [u8; 32],
    /// The list's digest after.
    #[serde(with = "hex32")]
    pub digest: [u8; 32],
}

impl CredentialReplacement {
    /// The replacement of `removed` by `added` in the sorted list `keys` of `election_id`,
    /// computed and checked against the list.
    pub fn new(
        election_id: ElectionId,
        keys: &[[u8; 32]],
        removed: CredentialKey,
        added: CredentialKey,
    ) -> Result<Self, CredentialListError> {
        let previous_digest = credentials_digest(keys);
        let mut after = keys.to_vec();
        let mut replacement = Self {
            election_id,
            removed,
            added,
            previous_digest,
            digest: [0; 32],
        };
        replacement.swap_keys(&mut after)?;
        replacement.digest = credentials_digest(&after);
        Ok(replacement)
    }

    /// CRED-LIST-2: applies the replacement to the sorted list `keys` of `election`, in this
    /// order: the election; `previous_digest` is the list's digest; `removed` is on it;
    /// `added` is not; the new list's digest is `digest`. On any failure `keys` is unchanged.
    pub fn apply(
        &self,
        election: &ElectionId,
        keys: &mut Vec<[u8; 32]>,
    ) -> Result<(), CredentialListError> {
        if self.election_id != *election {
            return Err(CredentialListError::WrongElection {
                expected: *election,
                found: self.election_id,
            });
        }
        let current = credentials_digest(keys.iter());
        if current != self.previous_digest {
            return Err(CredentialListError::NotCurrent {
                current: hex::encode(current),
                claimed: hex::encode(self.previous_digest),
            });
        }
        let mut after = keys.clone();
        self.swap_keys(&mut after)?;
        let computed = credentials_digest(&after);
        if computed != self.digest {
            return Err(CredentialListError::DigestMismatch {
                computed: hex::encode(computed),
                claimed: hex::encode(self.digest),
            });
        }
        *keys = after;
        Ok(())
    }

    /// Removes `removed` from and inserts `added` into the sorted list.
    fn swap_keys(&self, keys: &mut Vec<[u8; 32]>) -> Result<(), CredentialListError> {
        let (removed, added) = (self.removed.to_bytes(), self.added.to_bytes());
        let at =
            keys.binary_search(&removed)
                .map_err(|_| CredentialListError::RemovedNotListed {
                    key: self.removed.to_string(),
                })?;
        keys.remove(at);
        match keys.binary_search(&added) {
            Ok(_) => Err(CredentialListError::AddedAlreadyListed {
                key: self.added.to_string(),
            }),
            Err(at) => {
                keys.insert(at, added);
                Ok(())
            }
        }
    }
}

/// CRED-LIST-3, for the verifier: replays `replacements` (in the order they were made) backwards
/// from the final sorted list `keys` and returns the digest of the list first uploaded. Each
/// replacement must end at the list it is undone from (its `digest`), be for `election`, have
/// `added` on that list and `removed` off it, and start at its `previous_digest`. On failure,
/// the 1-based number of the replacement and why.
pub fn replay_backwards(
    election: &ElectionId,
    keys: &[[u8; 32]],
    replacements: &[CredentialReplacement],
) -> Result<[u8; 32], (usize, CredentialListError)> {
    let mut list = keys.to_vec();
    for (number, r) in replacements.iter().enumerate().rev() {
        let fail = |e| (number + 1, e);
        if r.election_id != *election {
            return Err(fail(CredentialListError::WrongElection {
                expected: *election,
                found: r.election_id,
            }));
        }
        let current = credentials_digest(&list);
        if current != r.digest {
            return Err(fail(CredentialListError::DigestMismatch {
                computed: hex::encode(current),
                claimed: hex::encode(r.digest),
            }));
        }
        // Undo: the inverse replacement, `added` out and `removed` back in.
        let inverse = CredentialReplacement {
            election_id: r.election_id,
            removed: r.added,
            added: r.removed,
            previous_digest: r.digest,
            digest: r.previous_digest,
        };
        inverse.swap_keys(&mut list).map_err(fail)?;
        let before = credentials_digest(&list);
        if before != r.previous_digest {
            return Err(fail(CredentialListError::DigestMismatch {
                computed: hex::encode(before),
                claimed: hex::encode(r.previous_digest),
            }));
        }
    }
    Ok(credentials_digest(&list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::CredentialSecret;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn keys(n: usize, seed: u64) -> Vec<CredentialKey> {
        let rng = &mut ChaCha20Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let mut seed = [0u8; 32];
                rand_core::RngCore::fill_bytes(rng, &mut seed);
                CredentialSecret::insecure_from_seed(&seed).public()
            })
            .collect()
    }

    const ELECTION: ElectionId = ElectionId([7; 32]);

    #[test]
    fn a_list_validates_and_round_trips_through_json() {
        let list = PublicCredentialList::new(ELECTION, keys(5, 1));
        let decoded = list.validate(&ELECTION).unwrap();
        assert_eq!(decoded.len(), 5);
        let json = serde_json::to_string(&list).unwrap();
        let back: PublicCredentialList = serde_json::from_str(&json).unwrap();
        assert_eq!(back, list);
        assert!(json.contains(&hex::encode(list.digest)));
    }

    /// CRED-LIST-1: each rule, in order, with the position it names.
    #[test]
    fn each_list_rule_refuses_its_violation() {
        let good = PublicCredentialList::new(ELECTION, keys(4, 2));
        let check = |f: &dyn Fn(&mut PublicCredentialList)| {
            let mut l = good.clone();
            f(&mut l);
            l.validate(&ELECTION).unwrap_err()
        };
        assert!(matches!(
            check(&|l| l.election_id = ElectionId([8; 32])),
            CredentialListError::WrongElection { .. }
        ));
        assert_eq!(
            check(&|l| l.credentials.clear()),
            CredentialListError::Empty
        );
        assert_eq!(
            check(&|l| l.credentials.swap(1, 2)),
            CredentialListError::NotSorted { position: 2 }
        );
        assert_eq!(
            check(&|l| l.credentials[3] = l.credentials[2]),
            CredentialListError::NotSorted { position: 3 }
        );
        // The identity (a small-order key), kept in order by making it the first key.
        let err = check(&|l| {
            let mut identity = [0u8; 32];
            identity[0] = 1;
            l.credentials[0] = identity;
        });
        assert!(
            matches!(
                err,
                CredentialListError::BadKey {
                    position: 1,
                    reason: CredentialError::WeakKey
                }
            ),
            "{err}"
        );
        assert!(matches!(
            check(&|l| l.digest[0] ^= 1),
            CredentialListError::DigestMismatch { .. }
        ));
        let text = check(&|l| l.credentials.swap(0, 1)).to_string();
        assert!(text.contains("key 1 is not below key 2"), "{text}");
    }

    #[test]
    fn a_list_with_an_uppercase_or_short_key_does_not_parse() {
        let list = PublicCredentialList::new(ELECTION, keys(2, 3));
        let json = serde_json::to_string(&list).unwrap();
        let upper = json.replace(
            &hex::encode(list.credentials[0]),
            &hex::encode_upper(list.credentials[0]),
        );
        assert!(serde_json::from_str::<PublicCredentialList>(&upper).is_err());
        let short = json.replace(&hex::encode(list.credentials[0]), "abcd");
        assert!(serde_json::from_str::<PublicCredentialList>(&short).is_err());
        let extra = json.replacen('{', "{\"voter_ids\":[],", 1);
        assert!(serde_json::from_str::<PublicCredentialList>(&extra).is_err());
    }

    /// CRED-LIST-2 and CRED-LIST-3: a replacement applies once, to the list it starts from, and
    /// the verifier's backward replay recovers the first list's digest.
    #[test]
    fn replacements_apply_in_order_and_replay_backwards_to_the_first_list() {
        let all = keys(6, 4);
        let first = PublicCredentialList::new(ELECTION, all[..4].iter().copied());
        let mut list = first.credentials.clone();
        let r1 = CredentialReplacement::new(ELECTION, &list, all[1], all[4]).unwrap();
        r1.apply(&ELECTION, &mut list).unwrap();
        assert_eq!(credentials_digest(&list), r1.digest);
        assert_ne!(r1.digest, r1.previous_digest);
        // Applied again: it no longer starts from the current list.
        assert!(matches!(
            r1.apply(&ELECTION, &mut list.clone()),
            Err(CredentialListError::NotCurrent { .. })
        ));
        let r2 = CredentialReplacement::new(ELECTION, &list, all[4], all[5]).unwrap();
        r2.apply(&ELECTION, &mut list).unwrap();
        let replayed = replay_backwards(&ELECTION, &list, &[r1.clone(), r2.clone()]).unwrap();
        assert_eq!(replayed, first.digest);

        // Out of order, or a changed digest, fails at the replacement concerned.
        assert_eq!(
            replay_backwards(&ELECTION, &list, &[r2.clone(), r1.clone()])
                .unwrap_err()
                .0,
            2
        );
        let mut bad = r1.clone();
        bad.previous_digest[0] ^= 1;
        assert_eq!(
            replay_backwards(&ELECTION, &list, &[bad, r2.clone()])
                .unwrap_err()
                .0,
            1
        );
    }

    #[test]
    fn a_replacement_must_remove_a_listed_key_and_add_a_new_one() {
        let all = keys(4, 5);
        let list = PublicCredentialList::new(ELECTION, all[..3].iter().copied()).credentials;
        assert!(matches!(
            CredentialReplacement::new(ELECTION, &list, all[3], all[0]),
            Err(CredentialListError::RemovedNotListed { .. })
        ));
        assert!(matches!(
            CredentialReplacement::new(ELECTION, &list, all[0], all[1]),
            Err(CredentialListError::AddedAlreadyListed { .. })
        ));
        let mut r = CredentialReplacement::new(ELECTION, &list, all[0], all[3]).unwrap();
        r.digest[5] ^= 1;
        let mut keys = list.clone();
        assert!(matches!(
            r.apply(&ELECTION, &mut keys),
            Err(CredentialListError::DigestMismatch { .. })
        ));
        assert_eq!(keys, list, "a refused replacement changes nothing");
        assert!(matches!(
            r.apply(&ElectionId([9; 32]), &mut keys),
            Err(CredentialListError::WrongElection { .. })
        ));
    }
}
