//! What the voter or observer types or picks, read strictly: tracking codes and the paths of a
//! record folder opened from disk.

use tabella_crypto::ballot::TrackingCode;

/// Reads a tracking code as a voter may paste it: 64 hexadecimal digits, in either case, with
/// spaces, hyphens or colons between groups allowed.
///
/// # Errors
/// A sentence for the page's alert.
pub fn tracking_code(text: &str) -> Result<TrackingCode, String> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | ':'))
        .collect::<String>()
        .to_ascii_lowercase();
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "A tracking code is 64 characters from 0-9 and a-f; this one has {} characters{}.",
            digits.chars().count(),
            if digits.chars().all(|c| c.is_ascii_hexdigit()) {
                ""
            } else {
                " and others than 0-9 and a-f"
            }
        ));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(&digits, &mut bytes).map_err(|e| e.to_string())?;
    Ok(TrackingCode(bytes))
}

/// A tracking code grouped for reading aloud or copying by hand: 16 groups of 4 hex digits
/// separated by spaces ([`tracking_code`] reads it back).
pub fn grouped(code: &TrackingCode) -> String {
    let hex = code.to_string();
    let mut out = String::with_capacity(hex.len() + hex.len() / 4);
    for (i, c) in hex.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The hashes of an audit or consistency path as the API sends them: 64 lowercase hex digits
/// each (API-JSON-2).
///
/// # Errors
/// A sentence naming the first bad hash.
pub fn hashes(path: &[String]) -> Result<Vec<[u8; 32]>, String> {
    path.iter()
        .enumerate()
        .map(|(i, text)| {
            let mut hash = [0u8; 32];
            let lowercase = !text.bytes().any(|b| b.is_ascii_uppercase());
            match hex::decode_to_slice(text, &mut hash) {
                Ok(()) if lowercase => Ok(hash),
                _ => Err(format!(
                    "hash {i} of the proof is not 64 lowercase hex digits"
                )),
            }
        })
        .collect()
}

/// The record path of a file picked from a folder (`webkitRelativePath`, which starts with the
/// folder's own name): `record-2026/ceremony/dealer-1.json` → `ceremony/dealer-1.json`. `None`
/// for a path with nothing after the folder, or with empty, `.` or `..` parts.
pub fn record_path(relative: &str) -> Option<String> {
    let relative = relative.replace('\\', "/");
    let (_, rest) = relative.split_once('/')?;
    let ok = !rest.is_empty()
        && rest
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    ok.then(|| rest.to_owned())
}

/// The URL of a record file on the service (`GET /v1/record/{path}`), each segment
/// percent-encoded except the unreserved characters.
pub fn record_url(path: &str) -> String {
    let mut url = String::from("/v1/record/");
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            url.push('/');
        }
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                url.push(char::from(b));
            } else {
                url.push_str(&format!("%{b:02X}"));
            }
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grouped_code_reads_back() {
        let code = TrackingCode(core::array::from_fn(|i| i as u8));
        let text = grouped(&code);
        assert_eq!(&text[..15], "0001 0203 0405 ");
        assert_eq!(text.split(' ').count(), 16);
        assert!(text.split(' ').all(|g| g.len() == 4));
        assert_eq!(tracking_code(&text), Ok(code));
    }

    #[test]
    fn tracking_codes_are_read_leniently_but_must_be_64_hex_digits() {
        let hex = "ab".repeat(32);
        let code = tracking_code(&hex).expect("a code");
        assert_eq!(code.0, [0xab; 32]);
        let spaced = format!(" {} {} ", &hex[..32].to_uppercase(), &hex[32..]);
        assert_eq!(tracking_code(&spaced), Ok(code));
        assert!(tracking_code(&hex[..62])
            .unwrap_err()
            .contains("62 characters"));
        let bad = format!("{}zz", &hex[..62]);
        assert!(tracking_code(&bad).unwrap_err().contains("others than"));
    }

    #[test]
    fn proof_hashes_are_strict_hex() {
        let good = vec!["00".repeat(32), "ff".repeat(32)];
        assert_eq!(hashes(&good), Ok(vec![[0; 32], [0xff; 32]]));
        assert!(hashes(&["FF".repeat(32)]).is_err());
        assert!(hashes(&["ff".repeat(31)]).is_err());
        assert_eq!(hashes(&[]), Ok(vec![]));
    }

    #[test]
    fn record_paths_drop_the_folder_name() {
        assert_eq!(
            record_path("rec/record.json").as_deref(),
            Some("record.json")
        );
        assert_eq!(
            record_path("rec/ceremony/dealer-1.json").as_deref(),
            Some("ceremony/dealer-1.json")
        );
        assert_eq!(record_path("record.json"), None);
        assert_eq!(record_path("rec/"), None);
        assert_eq!(record_path("rec/../x"), None);
        assert_eq!(record_path("rec//x"), None);
    }

    #[test]
    fn record_urls_encode_only_what_needs_it() {
        assert_eq!(
            record_url("ceremony/dealer-1.json"),
            "/v1/record/ceremony/dealer-1.json"
        );
        assert_eq!(record_url("a b/c?d"), "/v1/record/a%20b/c%3Fd");
    }
}
