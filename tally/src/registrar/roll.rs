//! The voter roll: a CSV file read strictly (RFC 4180), and its digest (spec/credentials.md
//! §7.1, REG-ROLL-1 and REG-ROLL-2).
//!
//! The parser is our own, and small, because the `csv` crate is lenient where a roll must not
//! be: it ends an unterminated quoted field silently at the end of the file (so
//! `voter_id\n"v-001\nv-002\n` was one voter named `"v-001\nv-002\n"`), and it takes line breaks
//! inside quotes. Here a quote that is never closed, a quote inside an unquoted field, a record
//! with another number of fields than the header, and any control character (line breaks inside
//! quotes included) are refused, each with its line number.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

/// The longest voter id accepted, in characters.
pub const MAX_VOTER_ID: usize = 128;
/// The longest name or e-mail address accepted, in characters.
pub const MAX_FIELD: usize = 256;

/// Why a roll was refused, with the line to fix (1-based, the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RollError {
    /// The file is not UTF-8.
    #[error("line {line}: the roll is not UTF-8 text (save it as CSV UTF-8)")]
    NotUtf8 {
        /// Where the first invalid byte is.
        line: u64,
    },
    /// A quoted field is never closed.
    #[error("line {line}: a quoted field opens here and is never closed (a missing \")")]
    UnterminatedQuote {
        /// Where the quote opens.
        line: u64,
    },
    /// A quote in the middle of an unquoted field, or text after a closing quote.
    #[error("line {line}, field {field}: a stray quote (\"); quote the whole field and double any quote inside it")]
    StrayQuote {
        /// The line.
        line: u64,
        /// The field (1-based).
        field: usize,
    },
    /// A control character (a line break inside quotes, a tab, …).
    #[error("line {line}, field {field}: a control character (U+{code:04X}) is not allowed")]
    ControlCharacter {
        /// The line.
        line: u64,
        /// The field (1-based).
        field: usize,
        /// The character's code point.
        code: u32,
    },
    /// A record with another number of fields than the header.
    #[error("line {line}: {found} field(s), but the header has {expected}")]
    FieldCount {
        /// The line.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields on this line.
        found: usize,
    },
    /// No `voter_id` column.
    #[error("the roll's header has no `voter_id` column (found: {0})")]
    NoVoterIdColumn(String),
    /// Two columns of the same name.
    #[error("the roll's header names the column `{0}` twice")]
    DuplicateColumn(String),
    /// An empty voter id.
    #[error("line {0}: the voter id is empty")]
    EmptyId(u64),
    /// A field that is too long.
    #[error("line {line}: the {what} has {len} characters; at most {max} are allowed")]
    TooLong {
        /// The line.
        line: u64,
        /// `voter id`, `name` or `e-mail address`.
        what: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An e-mail address that cannot be one.
    #[error("line {line}: {email:?} is not an e-mail address (it needs one @, no spaces)")]
    BadEmail {
        /// The line.
        line: u64,
        /// The address.
        email: String,
    },
    /// A voter listed twice.
    #[error("line {line}: voter id {id:?} appears twice (first on line {first})")]
    Duplicate {
        /// The second line.
        line: u64,
        /// The first line.
        first: u64,
        /// The repeated id.
        id: String,
    },
    /// No voter at all.
    #[error("the roll lists no voter")]
    Empty,
}

/// One voter on the roll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollEntry {
    /// The voter's id, unique on the roll.
    pub voter_id: String,
    /// The voter's name for the letter (`name` column), if any.
    pub name: Option<String>,
    /// The voter's e-mail address (`email` column), if any.
    pub email: Option<String>,
    /// The line the voter is on.
    pub line: u64,
}

/// A parsed roll, in roll order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roll {
    /// The voters.
    pub voters: Vec<RollEntry>,
}

impl Roll {
    /// REG-ROLL-1: parses a roll. The first record is the header; it must name a `voter_id`
    /// column and may name `name` and `email` (any case, spaces around ignored); other columns
    /// are ignored. An optional UTF-8 byte-order mark is skipped; records end with `\n` or
    /// `\r\n`, and the last one may lack it. Spaces around an unquoted field are trimmed; a
    /// quoted field is taken as is. Refused, with the line: text that is not UTF-8, an
    /// unterminated quote, a stray quote, a control character, a record whose number of fields
    /// differs from the header's, an empty or too long voter id, a voter listed twice, an
    /// e-mail address without exactly one `@` or with a space, and a roll with no voter.
    pub fn parse(bytes: &[u8]) -> Result<Self, RollError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| RollError::NotUtf8 {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64,
        })?;
        // Blank lines at the very end (a habit of editors) are not records.
        let text = text.trim_end_matches(['\n', '\r']);
        let mut records = records(text)?.into_iter();
        let Some(header) = records.next() else {
            return Err(RollError::Empty);
        };
        let mut columns: HashMap<String, usize> = HashMap::new();
        for (i, name) in header.fields.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            if !name.is_empty() && columns.insert(name.clone(), i).is_some() {
                return Err(RollError::DuplicateColumn(name));
            }
        }
        let id_column = *columns
            .get("voter_id")
            .ok_or_else(|| RollError::NoVoterIdColumn(header.fields.join(", ")))?;
        let name_column = columns.get("name").copied();
        let email_column = columns.get("email").copied();
        let mut voters = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for record in records {
            let line = record.line;
            if record.fields.len() != header.fields.len() {
                return Err(RollError::FieldCount {
                    line,
                    expected: header.fields.len(),
                    found: record.fields.len(),
                });
            }
            let field = |column: Option<usize>| {
                column
                    .and_then(|c| record.fields.get(c))
                    .filter(|v| !v.is_empty())
                    .cloned()
            };
            let voter_id = field(Some(id_column)).ok_or(RollError::EmptyId(line))?;
            check_length(line, "voter id", &voter_id, MAX_VOTER_ID)?;
            let name = field(name_column);
            if let Some(name) = &name {
                check_length(line, "name", name, MAX_FIELD)?;
            }
            let email = field(email_column);
            if let Some(email) = &email {
                check_length(line, "e-mail address", email, MAX_FIELD)?;
                let at = email.matches('@').count();
                if at != 1
                    || email.starts_with('@')
                    || email.ends_with('@')
                    || email.chars().any(char::is_whitespace)
                {
                    return Err(RollError::BadEmail {
                        line,
                        email: email.clone(),
                    });
                }
            }
            if let Some(first) = seen.insert(voter_id.clone(), line) {
                return Err(RollError::Duplicate {
                    line,
                    first,
                    id: voter_id,
                });
            }
            voters.push(RollEntry {
                voter_id,
                name,
                email,
                line,
            });
        }
        if voters.is_empty() {
            return Err(RollError::Empty);
        }
        Ok(Self { voters })
    }

    /// REG-ROLL-2: the roll's digest (hex), the same whatever the order of the voters:
    /// `SHA-256("tabella/v1/roll" ‖ u64_be(n) ‖ for each id in ascending byte order:
    /// u64_be(len) ‖ id)`. Every id is length-prefixed, so two different rolls never share a
    /// digest (an id may not contain a line break, but the digest does not rely on it).
    pub fn digest(&self) -> String {
        let mut ids: Vec<&str> = self.voters.iter().map(|v| v.voter_id.as_str()).collect();
        ids.sort_unstable();
        let mut hasher = Sha256::new();
        hasher.update(b"tabella/v1/roll");
        hasher.update((ids.len() as u64).to_be_bytes());
        for id in ids {
            hasher.update((id.len() as u64).to_be_bytes());
            hasher.update(id.as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

fn check_length(line: u64, what: &'static str, value: &str, max: usize) -> Result<(), RollError> {
    let len = value.chars().count();
    if len > max {
        return Err(RollError::TooLong {
            line,
            what,
            len,
            max,
        });
    }
    Ok(())
}

/// One record: its fields and the line it starts on.
struct Record {
    fields: Vec<String>,
    line: u64,
}

/// Where the parser is within a field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At its start, or in the spaces before a quote.
    Start,
    /// In an unquoted field.
    Unquoted,
    /// Inside quotes.
    Quoted,
    /// After the closing quote.
    Closed,
}

/// The records of `text`, strictly (RFC 4180 with `\n` or `\r\n` line ends).
fn records(text: &str) -> Result<Vec<Record>, RollError> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::Start;
    let (mut line, mut quote_line) = (1u64, 1u64);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let here = fields.len() + 1;
        let control = |c: char| RollError::ControlCharacter {
            line,
            field: here,
            code: u32::from(c),
        };
        let end_of_record = match (state, c) {
            (State::Quoted, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
                false
            }
            (State::Quoted, '"') => {
                state = State::Closed;
                false
            }
            // A line break inside quotes: most likely a quote never closed (as in
            // `"v-001⏎v-002⏎`), and said so when no quote follows at all.
            (State::Quoted, '\n' | '\r') if !chars.clone().any(|c| c == '"') => {
                return Err(RollError::UnterminatedQuote { line: quote_line })
            }
            (State::Quoted, c) if c.is_control() => return Err(control(c)),
            (State::Quoted, c) => {
                field.push(c);
                false
            }
            (_, ',') => {
                fields.push(finish(std::mem::take(&mut field), state == State::Closed));
                state = State::Start;
                false
            }
            (_, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                true
            }
            (_, '\n') => true,
            (State::Closed, _) => return Err(RollError::StrayQuote { line, field: here }),
            (State::Start, '"') => {
                state = State::Quoted;
                quote_line = line;
                field.clear();
                false
            }
            (_, '"') => return Err(RollError::StrayQuote { line, field: here }),
            (_, c) if c.is_control() => return Err(control(c)),
            (_, c) => {
                field.push(c);
                if c != ' ' {
                    state = State::Unquoted;
                }
                false
            }
        };
        if end_of_record {
            fields.push(finish(std::mem::take(&mut field), state == State::Closed));
            records.push(Record {
                fields: std::mem::take(&mut fields),
                line,
            });
            state = State::Start;
            line += 1;
        }
    }
    if state == State::Quoted {
        return Err(RollError::UnterminatedQuote { line: quote_line });
    }
    if !text.is_empty() && !text.ends_with('\n') {
        fields.push(finish(field, state == State::Closed));
        records.push(Record { fields, line });
    }
    Ok(records)
}

/// A field as read: unquoted fields lose the spaces around them.
fn finish(field: String, quoted: bool) -> String {
    if quoted {
        field
    } else {
        field.trim_matches(' ').to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ids(roll: &str) -> Vec<String> {
        Roll::parse(roll.as_bytes())
            .unwrap()
            .voters
            .into_iter()
            .map(|v| v.voter_id)
            .collect()
    }

    #[test]
    fn reads_the_voter_id_name_and_email_columns_and_ignores_others() {
        let roll = Roll::parse(
            b"\xEF\xBB\xBFName,Voter_ID ,email,address\r\nAda Lovelace, v-1 ,ada@example.org,\"1 Main St, Town\"\r\n\"Bo \"\"B\"\" Bo\",v-2,,x",
        )
        .unwrap();
        assert_eq!(
            roll.voters,
            vec![
                RollEntry {
                    voter_id: "v-1".into(),
                    name: Some("Ada Lovelace".into()),
                    email: Some("ada@example.org".into()),
                    line: 2,
                },
                RollEntry {
                    voter_id: "v-2".into(),
                    name: Some("Bo \"B\" Bo".into()),
                    email: None,
                    line: 3,
                },
            ]
        );
        assert_eq!(ids("voter_id\nv1\nv2\n"), ["v1", "v2"]);
        assert_eq!(ids("voter_id\nv1\nv2"), ["v1", "v2"]);
        assert_eq!(ids("voter_id,name\n\"v,1\",\n"), ["v,1"]);
    }

    /// The tester's roll: an unterminated quote used to make one voter of three lines.
    #[test]
    fn an_unterminated_quote_is_refused_with_the_line_it_opens_on() {
        assert_eq!(
            Roll::parse(b"voter_id\n\"v-001\nv-002\nv-003\n"),
            Err(RollError::UnterminatedQuote { line: 2 })
        );
        assert_eq!(
            Roll::parse(b"voter_id\nv-0\n\"v-001"),
            Err(RollError::UnterminatedQuote { line: 3 })
        );
    }

    #[test]
    fn every_malformation_is_named_with_its_line() {
        let err = |text: &str| Roll::parse(text.as_bytes()).unwrap_err();
        assert_eq!(
            err("voter_id\nv\"1\n"),
            RollError::StrayQuote { line: 2, field: 1 }
        );
        assert_eq!(
            err("voter_id,name\n\"v1\"x,a\n"),
            RollError::StrayQuote { line: 2, field: 1 }
        );
        assert_eq!(
            err("voter_id,name\nv1,a\nv2\n"),
            RollError::FieldCount {
                line: 3,
                expected: 2,
                found: 1
            }
        );
        assert_eq!(
            err("voter_id\nv1,x\n"),
            RollError::FieldCount {
                line: 2,
                expected: 1,
                found: 2
            }
        );
        assert_eq!(
            err("voter_id\n\"v\n1\"\n"),
            RollError::ControlCharacter {
                line: 2,
                field: 1,
                code: 10
            }
        );
        assert_eq!(
            err("voter_id\nv\t1\n"),
            RollError::ControlCharacter {
                line: 2,
                field: 1,
                code: 9
            }
        );
        assert_eq!(err("voter_id\nv1\n\nv2\n"), RollError::EmptyId(3));
        assert_eq!(ids("voter_id\nv1\n\n\r\n"), ["v1"]);
        assert_eq!(err("voter_id\nv1\n\"\"\n"), RollError::EmptyId(3));
        assert_eq!(
            err("voter_id\nv1\nv2\nv1\n"),
            RollError::Duplicate {
                line: 4,
                first: 2,
                id: "v1".into()
            }
        );
        assert!(matches!(err("id\nv1\n"), RollError::NoVoterIdColumn(_)));
        assert_eq!(
            err("voter_id,Voter_Id\nv,w\n"),
            RollError::DuplicateColumn("voter_id".into())
        );
        assert_eq!(err("voter_id\n"), RollError::Empty);
        assert_eq!(err(""), RollError::Empty);
        assert!(matches!(
            err(&format!("voter_id\n{}\n", "x".repeat(MAX_VOTER_ID + 1))),
            RollError::TooLong {
                line: 2,
                what: "voter id",
                ..
            }
        ));
        for bad in ["a", "a@b@c", "@b", "a @b"] {
            assert!(matches!(
                err(&format!("voter_id,email\nv1,{bad}\n")),
                RollError::BadEmail { line: 2, .. }
            ));
        }
        assert_eq!(
            Roll::parse(b"voter_id\nv1\n\xff\n"),
            Err(RollError::NotUtf8 { line: 3 })
        );
        let text = err("voter_id\n\"v-001\nv-002\n").to_string();
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn the_digest_ignores_order_and_is_injective() {
        let digest = |text: &str| Roll::parse(text.as_bytes()).unwrap().digest();
        assert_eq!(
            digest("voter_id\nb\na\n"),
            digest("name,voter_id\nx,a\ny,b\n")
        );
        assert_ne!(digest("voter_id\na\nb\n"), digest("voter_id\na\nc\n"));
        // Joining ids with a separator would make these two rolls collide.
        assert_ne!(digest("voter_id\n\"a,b\"\n"), digest("voter_id\na\nb\n"));
        assert_ne!(digest("voter_id\nab\n"), digest("voter_id\na\nb\n"));
    }
}
