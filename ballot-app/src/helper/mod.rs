//! The booth's helper: the slow work (stretching the voting code with Argon2id, encrypting and
//! proving the ballot) done in a Web Worker, off the page's thread, so the page never freezes
//! on a slow phone (spec/booth.md §7).
//!
//! The page and the helper talk in JSON messages ([`Request`], [`Reply`]). [`Engine`] is the
//! helper's whole logic, pure and tested natively; `web::worker` only carries the messages.
//! The voter's signing key and the ballot's randomness stay in the helper: the page gets the
//! public key (to check it is on the voter list), the encrypted ballot, and, only if the voter
//! challenges, the opening.

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use tabella_crypto::ballot::{BallotSecrets, ElectionContext, ElectionId, SpoiledBallot};
use tabella_crypto::credential::{CredentialCode, CredentialKey, CredentialSecret};
use tabella_crypto::elgamal::PublicKey;
use tabella_crypto::manifest::Manifest;

use crate::error::code_words;

/// What the page asks the helper.
// One message at a time, serialised as soon as it is built: its size in memory does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// The election ballots are for (checked by the page first); prepares the encryption key.
    Election {
        /// The election id.
        election_id: ElectionId,
        /// The manifest.
        manifest: Box<Manifest>,
        /// The joint election key.
        joint_key: PublicKey,
    },
    /// Stretch the voting code into the voter's key, and keep the key.
    Key {
        /// The code as the voter typed it.
        code: String,
    },
    /// Encrypt these choices (manifest order) with the kept key.
    Encrypt {
        /// One list of values per contest.
        choices: Vec<Vec<u64>>,
    },
    /// The voter challenges: reveal the last encryption's randomness.
    Open,
    /// The ballot is being cast: forget its randomness for good.
    Forget,
}

/// What the helper answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    /// Started, or the election is set.
    Ready,
    /// The voter's public key (the signing key stays in the helper).
    Key {
        /// The credential key the code stretches to.
        public: CredentialKey,
    },
    /// The encrypted ballot, standard base64 of its canonical bytes.
    Encrypted {
        /// The ballot.
        ballot: String,
    },
    /// The opening of the last encryption.
    Opened {
        /// Its choices and randomness.
        opening: SpoiledBallot,
    },
    /// The randomness is gone.
    Forgotten,
    /// The request failed, in words for the voter.
    Failed {
        /// What went wrong.
        message: String,
    },
}

/// The helper's state: the election, the voter's key and the last encryption's secrets.
#[derive(Default)]
pub struct Engine {
    ctx: Option<ElectionContext>,
    key: Option<CredentialSecret>,
    secrets: Option<BallotSecrets>,
}

impl Engine {
    /// Answers one request.
    pub fn handle(&mut self, request: Request, rng: &mut impl CryptoRngCore) -> Reply {
        match self.answer(request, rng) {
            Ok(reply) => reply,
            Err(message) => Reply::Failed { message },
        }
    }

    fn answer(&mut self, request: Request, rng: &mut impl CryptoRngCore) -> Result<Reply, String> {
        match request {
            Request::Election {
                election_id,
                manifest,
                joint_key,
            } => {
                let ctx = ElectionContext::new(election_id, *manifest, joint_key)
                    .map_err(|e| format!("This election's ballot cannot be used: {e}"))?;
                let _ = ctx.encryption_key();
                self.ctx = Some(ctx);
                self.key = None;
                self.secrets = None;
                Ok(Reply::Ready)
            }
            Request::Key { code } => {
                let ctx = self.ctx()?;
                let code = CredentialCode::parse(&code).map_err(|e| code_words(&e))?;
                let key = CredentialSecret::derive(&code, &ctx.election_id().0);
                let public = key.public();
                self.key = Some(key);
                Ok(Reply::Key { public })
            }
            Request::Encrypt { choices } => {
                let ctx = self.ctx()?;
                let key = self.key.as_ref().ok_or("Enter your voting code first.")?;
                let (ballot, secrets) = ctx
                    .encrypt_ballot(&choices, key, rng)
                    .map_err(|e| format!("Your ballot could not be encrypted: {e}"))?;
                self.secrets = Some(secrets);
                Ok(Reply::Encrypted {
                    ballot: ballot.to_base64(),
                })
            }
            Request::Open => {
                let secrets = self
                    .secrets
                    .take()
                    .ok_or("There is no encrypted ballot to open (it may have been cast).")?;
                Ok(Reply::Opened {
                    opening: SpoiledBallot::reveal(secrets),
                })
            }
            Request::Forget => {
                self.secrets = None;
                Ok(Reply::Forgotten)
            }
        }
    }

    fn ctx(&self) -> Result<&ElectionContext, String> {
        self.ctx
            .as_ref()
            .ok_or_else(|| "The election is not loaded yet.".to_owned())
    }
}

#[cfg(test)]
mod tests;
