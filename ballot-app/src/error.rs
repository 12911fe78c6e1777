//! Errors in words a voter understands.
//!
//! The service answers every error with an [`ErrorBody`] (a stable code and a message,
//! spec/api.md §1.5); [`ApiError::words`] turns the codes a voter can meet into plain sentences,
//! and never shows raw JSON. [`code_words`] does the same for a mistyped credential code, and
//! [`BoothError`] for what the booth itself finds wrong with what the service sent.

use tabella_crypto::api::ErrorBody;
use tabella_crypto::credential::{CredentialError, CODE_LENGTH};

/// Why a call to the election service failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request did not reach the service, or its answer did not arrive.
    #[error("the election service could not be reached: {0}")]
    Network(String),
    /// The service refused the request with an error document.
    #[error("the service answered {status} {}: {}", .body.error, .body.message)]
    Service {
        /// The HTTP status.
        status: u16,
        /// The service's error document.
        body: ErrorBody,
    },
    /// An error status without an error document (a proxy, or not a Tabella service).
    #[error("the service answered HTTP {0}")]
    Status(u16),
    /// A success answer that is not the expected document.
    #[error("the service's answer to {what} is not the expected document: {detail}")]
    Decode {
        /// What was asked for.
        what: &'static str,
        /// The parser's complaint.
        detail: String,
    },
}

impl ApiError {
    /// The service's error code, if it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Service { body, .. } => Some(body.error.as_str()),
            _ => None,
        }
    }

    /// Whether the service said the thing asked for does not exist (`404 not_found`).
    pub fn is_not_found(&self) -> bool {
        self.code() == Some("not_found")
    }

    /// The error as one or two plain sentences for the page's alert.
    pub fn words(&self) -> String {
        match self {
            ApiError::Network(_) => {
                "The election service could not be reached. Check your connection and try again."
                    .to_owned()
            }
            ApiError::Status(status) => format!(
                "The election service answered with an error (HTTP {status}). Please try again later."
            ),
            ApiError::Decode { .. } => {
                "The election service sent something this page does not understand. Reload the page; if it happens again, tell the election officials."
                    .to_owned()
            }
            ApiError::Service { body, .. } => service_words(&body.error, &body.message),
        }
    }
}

/// Plain words for a service error code (spec/api.md §1.5); `message` is the service's own
/// sentence, used where it says what is missing.
pub fn service_words(code: &str, message: &str) -> String {
    let with_message = |lead: &str| {
        let message = message.trim();
        let mut chars = message.chars();
        match chars.next() {
            None => lead.to_owned(),
            Some(first) => format!("{lead} {}{}", first.to_uppercase(), chars.as_str()),
        }
    };
    match code {
        "election_not_open" => "Voting is not open right now.".to_owned(),
        "wrong_state" => with_message("That is not possible at this stage of the election."),
        "no_election" => "There is no election on this service yet.".to_owned(),
        "credential_not_eligible" => {
            "This credential code is not on this election's voter list.".to_owned()
        }
        "invalid_signature" => {
            "The service did not accept your ballot's signature. Please start again.".to_owned()
        }
        "invalid_proof" => {
            "The service could not verify your encrypted ballot. Please start again.".to_owned()
        }
        "malformed_ballot" | "wrong_election" => {
            "Your ballot does not match this election. Reload the page and start again."
                .to_owned()
        }
        "ballot_spoiled" => {
            "This ballot was challenged, so it can never be cast. Start again to make a new one."
                .to_owned()
        }
        "ballot_already_cast" => {
            "This ballot was already cast, so it cannot be challenged.".to_owned()
        }
        "invalid_opening" => {
            "The service did not accept the opened ballot. Please start again.".to_owned()
        }
        "not_found" => "Nothing with that tracking code is on the board.".to_owned(),
        "unauthorized" => "That admin token is not accepted.".to_owned(),
        "storage_unavailable" => {
            "The service could not store your ballot just now, so nothing was recorded. Please try again."
                .to_owned()
        }
        "too_large" => "That is too large for the service to accept.".to_owned(),
        "not_ready_to_open" => with_message("Voting cannot open yet."),
        "tally_incomplete" => with_message("The tally cannot finish yet."),
        "not_tallied" => "The results are not decrypted yet.".to_owned(),
        "anchoring_pending" | "voting_open_on_chain" | "chain_unavailable" => {
            with_message("Voting cannot close yet.")
        }
        "internal" => {
            "Something went wrong on the election service. Please try again later.".to_owned()
        }
        "no_route" | "method_not_allowed" => {
            "This service does not offer that. Is this a Tabella election service?".to_owned()
        }
        _ if !message.trim().is_empty() => message.to_owned(),
        _ => "The election service refused the request.".to_owned(),
    }
}

/// Plain words for a credential code that does not parse: it is mistyped.
pub fn code_words(error: &CredentialError) -> String {
    let lead = "That credential code is mistyped:";
    match error {
        CredentialError::WrongLength { found, .. } => format!(
            "{lead} it has {found} characters, but a code has {CODE_LENGTH} (spaces and hyphens not counted)."
        ),
        CredentialError::InvalidCharacter { ch, position } => format!(
            "{lead} the character '{ch}' (character {}) cannot appear there. Check it against your credential letter.",
            position + 1
        ),
        CredentialError::ChecksumMismatch => format!(
            "{lead} its check character does not match. Check each character against your credential letter."
        ),
        _ => format!("{lead} check it against your credential letter."),
    }
}

/// What the booth finds wrong with the election the service presents, or with the voter's code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoothError {
    /// The service failed.
    #[error("{}", .0.words())]
    Api(#[from] ApiError),
    /// The election parameters are not signed by their own board key.
    #[error("The election's parameters do not carry a valid signature of the election service. Do not vote here; tell the election officials.")]
    ParametersUnsigned,
    /// The parameters' manifest hash is not the hash of their manifest.
    #[error("The ballot this service shows is not the one it signed. Do not vote here; tell the election officials.")]
    ManifestMismatch,
    /// The manifest breaks a rule of the crypto crate.
    #[error("This election's ballot cannot be used: {0}")]
    BadManifest(String),
    /// The credential list does not match the signed parameters.
    #[error("The voter list this service sent does not match the election's signed parameters. Do not vote here; tell the election officials.")]
    CredentialListMismatch,
    /// The code is mistyped.
    #[error("{}", code_words(.0))]
    Code(CredentialError),
    /// The code is well formed but its key is not on the list.
    #[error("This credential code is not on this election's voter list. Check that you typed your own code and that this is your election.")]
    NotOnList,
    /// A receipt from the service does not verify.
    #[error("The service's receipt does not verify ({0}). Keep this page open and tell the election officials.")]
    BadReceipt(String),
    /// Encryption failed (choices breaking the rules reach here only through a bug).
    #[error("Your ballot could not be encrypted: {0}")]
    Encrypt(String),
    /// The challenged ballot's opening does not check out in this browser.
    #[error("The opened ballot does not match what was encrypted ({0}). Do not cast a ballot from this device; tell the election officials.")]
    BadOpening(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(error: &str, message: &str) -> ApiError {
        ApiError::Service {
            status: 409,
            body: ErrorBody {
                error: error.into(),
                message: message.into(),
            },
        }
    }

    #[test]
    fn voter_facing_codes_get_plain_words() {
        assert_eq!(
            service("election_not_open", "state is closed").words(),
            "Voting is not open right now."
        );
        assert_eq!(
            service("unauthorized", "missing bearer").words(),
            "That admin token is not accepted."
        );
        assert_eq!(
            service("credential_not_eligible", "").words(),
            "This credential code is not on this election's voter list."
        );
        assert!(service("storage_unavailable", "db")
            .words()
            .contains("nothing was recorded"));
    }

    #[test]
    fn codes_that_say_what_is_missing_keep_the_service_message() {
        assert_eq!(
            service("not_ready_to_open", "the credential list is not imported").words(),
            "Voting cannot open yet. The credential list is not imported"
        );
        assert_eq!(
            service("some_new_code", "A new reason.").words(),
            "A new reason."
        );
        assert_eq!(
            service("some_new_code", " ").words(),
            "The election service refused the request."
        );
    }

    #[test]
    fn transport_failures_never_show_raw_details() {
        let e = ApiError::Network("TypeError: Failed to fetch".into());
        assert!(!e.words().contains("TypeError"));
        let e = ApiError::Decode {
            what: "the receipt",
            detail: "missing field `index` at line 1 column 2".into(),
        };
        assert!(!e.words().contains("missing field"));
        assert!(ApiError::Status(502).words().contains("502"));
    }

    #[test]
    fn not_found_is_recognised() {
        assert!(service("not_found", "").is_not_found());
        assert!(!service("no_route", "").is_not_found());
        assert!(!ApiError::Status(404).is_not_found());
    }

    #[test]
    fn mistyped_codes_say_so() {
        let wrong_length = CredentialError::WrongLength {
            expected: CODE_LENGTH,
            found: 20,
        };
        assert_eq!(
            code_words(&wrong_length),
            "That credential code is mistyped: it has 20 characters, but a code has 21 (spaces and hyphens not counted)."
        );
        assert!(code_words(&CredentialError::ChecksumMismatch).contains("check character"));
        let bad = CredentialError::InvalidCharacter {
            ch: '!',
            position: 3,
        };
        assert!(code_words(&bad).contains("'!' (character 4)"));
        assert!(BoothError::NotOnList
            .to_string()
            .contains("not on this election's voter list"));
    }
}
