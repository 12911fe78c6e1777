//! Each numbered check of the record verifier (spec/verification.md) in one plain sentence, for
//! the observer page: what it means for the election, beside the check's precise title.

use tabella_crypto::record::Check;

/// What a check this page has no sentence for shows.
const UNDESCRIBED: &str = "A check this page does not describe yet; see its title.";

/// What `check` means, in one sentence a voter can read.
pub fn explain(check: Check) -> &'static str {
    match check {
        Check::V1 => "Every file of the record is there and unchanged since the record was made.",
        Check::V2 => "The election's settings and ballot are the ones the election published.",
        Check::V3 => "The election service signed those settings.",
        Check::V4 => "The list of voters' public keys is well formed and has as many voters as announced.",
        Check::V5 => "The trustees, and how many of them must work together, are as announced.",
        Check::V6 => "Every trustee's part of the election key was checked, and every complaint was judged correctly.",
        Check::V7 => "The election key is the one the trustees made together.",
        Check::V8 => "Every entry of the public board is well formed and belongs to this election.",
        Check::V9 => "Every ballot was cast with a voting code on the voter list.",
        Check::V10 => "Every ballot is signed with its voting code and proves it follows the contest rules, without revealing the vote.",
        Check::V11 => "Every challenged ballot opens to exactly what was encrypted.",
        Check::V12 => "Every receipt the service gave matches the public board.",
        Check::V13 => "Only the last ballot of each voting code is counted.",
        Check::V14 => "The board's final signed summary covers exactly the ballots on the board.",
        Check::V15 => "The encrypted totals add up exactly the counted ballots.",
        Check::V16 => "Each trustee proved that their part of the decryption is correct.",
        Check::V17 => "The totals decrypt correctly from the trustees' parts.",
        Check::V18 => "Every published result is recomputed from the decrypted totals.",
        Check::V19 => "The checkpoints published on the public chain match the board.",
        Check::V20 => "What the public chain records of the election agrees with this record (needs the chain: not run in a browser).",
        Check::V21 => "Every ballot cast through the public chain is on the board or rightly refused (needs the chain: not run in a browser).",
        Check::V22 => "The voting page this browser runs is the one the election published.",
        // A check added to the verifier after this page (the test below catches it here).
        _ => UNDESCRIBED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_one_plain_sentence() {
        let mut seen = std::collections::BTreeSet::new();
        for check in Check::ALL {
            let words = explain(check);
            assert_ne!(words, UNDESCRIBED, "{check:?} has no sentence");
            assert!(words.ends_with('.'), "{words}");
            assert_eq!(words.matches(". ").count(), 0, "one sentence: {words}");
            for jargon in ["tree head", "digest", "manifest", "Merkle", "ciphertext"] {
                assert!(!words.contains(jargon), "{jargon} in {words}");
            }
            assert!(seen.insert(words), "the same words twice: {words}");
        }
    }
}
