//! A challenged ballot taken to another device: the booth offers the opened ballot as a file
//! (the very `SpoilBallot` document it publishes, spec/api.md §3: the ballot's bytes and its
//! opening), and the tracker re-checks that file with the same WebAssembly code, so a voter
//! who distrusts the device they voted on can check the booth's honesty on another one.

use tabella_crypto::api::SpoilBallot;
use tabella_crypto::ballot::{Ballot, ElectionContext, TrackingCode};

use crate::rules;

/// A challenged ballot, re-checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rechecked {
    /// The ballot's tracking code.
    pub tracking_code: TrackingCode,
    /// Per contest: its title and the choices the ballot held, in words.
    pub choices: Vec<(String, Vec<String>)>,
}

/// Reads a challenged-ballot file and checks it for the election `ctx`: the ballot decodes for
/// this election, its signature and proofs verify, and re-encrypting the revealed choices with
/// the revealed randomness gives exactly its ciphertexts.
///
/// # Errors
/// What did not hold, in words.
pub fn recheck(
    file: &[u8],
    ctx: &ElectionContext,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<Rechecked, String> {
    let document: SpoilBallot = serde_json::from_slice(file)
        .map_err(|e| format!("This is not a challenged-ballot file from a Tabella booth ({e})."))?;
    let ballot = Ballot::from_base64(&document.ballot, ctx)
        .map_err(|e| format!("The file's ballot is not a ballot of this election: {e}."))?;
    ctx.verify_spoiled(&ballot, &document.opening, rng).map_err(|e| {
        format!("The opening does NOT match the encrypted ballot ({e}): the booth that made it cannot be trusted.")
    })?;
    let choices = ctx
        .manifest()
        .contests
        .iter()
        .zip(&document.opening.choices)
        .map(|(c, values)| (c.title.clone(), rules::describe(c, values)))
        .collect();
    Ok(Rechecked {
        tracking_code: ballot.tracking_code(),
        choices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use tabella_crypto::ballot::{ElectionId, SpoiledBallot};
    use tabella_crypto::credential::{CredentialCode, CredentialSecret};
    use tabella_crypto::elgamal::SecretKey;
    use tabella_crypto::manifest::Manifest;

    fn setup() -> (ElectionContext, Ballot, SpoiledBallot) {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let manifest = Manifest::from_json(
            r#"{"title":"T","contests":[
              {"id":"mayor","title":"Mayor","style":{"type":"plurality"},
               "selections":[{"id":"a","label":"Ada"},{"id":"b","label":"Bob"}]}]}"#,
        )
        .unwrap();
        let id = ElectionId([4; 32]);
        let ctx =
            ElectionContext::new(id, manifest, SecretKey::generate(&mut rng).public_key()).unwrap();
        let voter = CredentialSecret::derive(&CredentialCode::generate(&mut rng), &id.0);
        let (ballot, secrets) = ctx.encrypt_ballot(&[vec![0, 1]], &voter, &mut rng).unwrap();
        (ctx, ballot, SpoiledBallot::reveal(secrets))
    }

    fn file(ballot: &Ballot, opening: &SpoiledBallot) -> Vec<u8> {
        serde_json::to_vec(&SpoilBallot {
            ballot: ballot.to_base64(),
            opening: opening.clone(),
        })
        .unwrap()
    }

    #[test]
    fn an_honest_challenge_rechecks_with_its_choices_in_words() {
        let (ctx, ballot, opening) = setup();
        let r = recheck(
            &file(&ballot, &opening),
            &ctx,
            &mut ChaCha20Rng::seed_from_u64(0),
        )
        .unwrap();
        assert_eq!(r.tracking_code, ballot.tracking_code());
        assert_eq!(
            r.choices,
            vec![("Mayor".to_owned(), vec!["Bob".to_owned()])]
        );
    }

    #[test]
    fn a_lying_opening_or_another_file_is_refused() {
        let (ctx, ballot, mut opening) = setup();
        // The booth claims the ballot held Ada: the re-encryption does not match.
        opening.choices[0] = vec![1, 0];
        let err = recheck(
            &file(&ballot, &opening),
            &ctx,
            &mut ChaCha20Rng::seed_from_u64(0),
        )
        .unwrap_err();
        assert!(err.contains("does NOT match"), "{err}");
        let err = recheck(
            b"{\"receipt\": 1}",
            &ctx,
            &mut ChaCha20Rng::seed_from_u64(0),
        )
        .unwrap_err();
        assert!(err.contains("not a challenged-ballot file"), "{err}");
        let mut doc: serde_json::Value =
            serde_json::from_slice(&file(&ballot, &setup().2)).unwrap();
        doc["ballot"] = serde_json::json!("AAAA");
        let err = recheck(
            doc.to_string().as_bytes(),
            &ctx,
            &mut ChaCha20Rng::seed_from_u64(0),
        )
        .unwrap_err();
        assert!(err.contains("not a ballot of this election"), "{err}");
    }
}
