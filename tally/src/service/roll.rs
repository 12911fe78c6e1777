//! Voter roll import: the CSV roll, its digest, and the credential codes issued for it.
//!
//! The service draws one credential code per voter, derives its public credential key (the same
//! Argon2id stretch a voter's device does, spec/credentials.md), returns the codes once and keeps
//! only the sorted list of public keys, never linked to the voter ids.

use std::collections::HashSet;

use rayon::prelude::*;
use sha2::{Digest as _, Sha256};
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::credential::{CredentialCode, CredentialSecret};

use crate::api::IssuedCredential;

/// The longest voter id accepted.
pub const MAX_VOTER_ID: usize = 128;

/// Why a roll was refused, with the line to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollError {
    /// The CSV cannot be read.
    #[error("the roll is not valid CSV: {0}")]
    Csv(String),
    /// No `voter_id` column in the header.
    #[error("the roll's header has no `voter_id` column (found: {0})")]
    NoVoterIdColumn(String),
    /// An empty voter id.
    #[error("line {0}: the voter id is empty")]
    EmptyId(u64),
    /// A voter id that is too long.
    #[error("line {line}: the voter id has {len} characters; at most {MAX_VOTER_ID} are allowed")]
    IdTooLong {
        /// Line number.
        line: u64,
        /// Its length.
        len: usize,
    },
    /// A voter listed twice.
    #[error("line {line}: voter id {id:?} appears twice")]
    Duplicate {
        /// Line number.
        line: u64,
        /// The repeated id.
        id: String,
    },
    /// No voter at all.
    #[error("the roll lists no voter")]
    Empty,
}

/// The voter ids of a CSV roll, in roll order.
pub fn parse(csv_bytes: &[u8]) -> Result<Vec<String>, RollError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_bytes);
    let headers = reader
        .headers()
        .map_err(|e| RollError::Csv(e.to_string()))?
        .clone();
    let column = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case("voter_id"))
        .ok_or_else(|| RollError::NoVoterIdColumn(headers.iter().collect::<Vec<_>>().join(", ")))?;
    let mut ids = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| RollError::Csv(e.to_string()))?;
        let line = record.position().map_or(0, csv::Position::line);
        let id = record.get(column).unwrap_or("").to_string();
        if id.is_empty() {
            return Err(RollError::EmptyId(line));
        }
        let len = id.chars().count();
        if len > MAX_VOTER_ID {
            return Err(RollError::IdTooLong { line, len });
        }
        if !seen.insert(id.clone()) {
            return Err(RollError::Duplicate { line, id });
        }
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(RollError::Empty);
    }
    Ok(ids)
}

/// SHA-256 of the sorted voter ids joined by `\n` (hex): the roll's identity.
pub fn roll_digest(ids: &[String]) -> String {
    let mut sorted: Vec<&str> = ids.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    hex::encode(Sha256::digest(sorted.join("\n").as_bytes()))
}

/// Draws a code for every voter and derives its public key (in parallel: each derivation is an
/// Argon2id stretch). Returns the codes in roll order and the sorted public keys.
pub fn issue(
    election: &ElectionId,
    ids: &[String],
    progress: &(dyn Fn() + Sync),
) -> (Vec<IssuedCredential>, Vec<[u8; 32]>) {
    let issued: Vec<(IssuedCredential, [u8; 32])> = ids
        .par_iter()
        .map(|id| {
            let code = CredentialCode::generate(&mut rand::rngs::OsRng);
            let key = CredentialSecret::derive(&code, &election.0)
                .public()
                .to_bytes();
            progress();
            (
                IssuedCredential {
                    voter_id: id.clone(),
                    code: code.expose_secret().to_string(),
                },
                key,
            )
        })
        .collect();
    let mut keys: Vec<[u8; 32]> = issued.iter().map(|(_, k)| *k).collect();
    keys.sort_unstable();
    (issued.into_iter().map(|(c, _)| c).collect(), keys)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn roll_reads_voter_id_column_and_ignores_others() {
        let ids = parse(b"name,voter_id\nAda, v-1 \nBob,v-2\n").unwrap();
        assert_eq!(ids, vec!["v-1", "v-2"]);
    }

    #[test]
    fn roll_errors_name_the_line() {
        assert_eq!(
            parse(b"voter_id\nv1\nv1\n"),
            Err(RollError::Duplicate {
                line: 3,
                id: "v1".into()
            })
        );
        assert_eq!(parse(b"voter_id\nv1\n\"\"\n"), Err(RollError::EmptyId(3)));
        assert!(matches!(
            parse(b"id\nv1\n"),
            Err(RollError::NoVoterIdColumn(_))
        ));
        assert_eq!(parse(b"voter_id\n"), Err(RollError::Empty));
        let long = format!("voter_id\n{}\n", "x".repeat(MAX_VOTER_ID + 1));
        assert!(matches!(
            parse(long.as_bytes()),
            Err(RollError::IdTooLong { line: 2, .. })
        ));
    }

    #[test]
    fn roll_digest_ignores_order() {
        let a = roll_digest(&["b".into(), "a".into()]);
        let b = roll_digest(&["a".into(), "b".into()]);
        assert_eq!(a, b);
        assert_ne!(a, roll_digest(&["a".into(), "c".into()]));
    }
}
