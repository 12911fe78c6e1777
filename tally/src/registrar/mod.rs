//! The registrar: voter credentials made off the election server (spec/credentials.md §7).
//!
//! On the officials' or an independent registrar's own machine, offline, [`generate`] reads the
//! roll (strict CSV, [`roll`]), draws every voter's credential code, derives its public key
//! (Argon2id, on every core) and writes a new directory:
//!
//! | file | who sees it | what |
//! |---|---|---|
//! | `credentials.json` | public: the officials upload it | the sorted credential keys and their digest ([`PublicCredentialList`]) |
//! | `codes.csv` | the registrar only (mode 0600) | `voter_id,code,email,name` for every voter |
//! | `letters.pdf` (or `letters-0001.pdf`, …) | the registrar and the printer (0600) | one page per voter ([`letters`]) |
//! | `registrar.json` | the registrar | the election, the roll's digest, the list's digest, what letters and e-mails say |
//!
//! The election service only ever receives `credentials.json`: it never sees a code, so whoever
//! runs it cannot cast for anyone. [`replace`] replaces a lost or compromised credential before
//! voting opens (a `replacement-N.json` to upload, the new code in `replacements.csv`, a letter);
//! [`send`] e-mails every voter with an address their code ([`mail`]), with a delivery report.
//! Nothing here ever overwrites a file: every file is created new.

pub mod cli;
pub mod letters;
pub mod mail;
pub mod roll;

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::credential::{
    CredentialCode, CredentialKey, CredentialListError, CredentialReplacement, CredentialSecret,
    PublicCredentialList,
};
use zeroize::Zeroizing;

use crate::durable::{self, sync_dir, sync_parent};

use letters::{Letter, LetterError, LetterSettings, LetterText};
use roll::{Roll, RollError};

/// The public credential list, to upload (`tabella election import-credentials`).
pub const PUBLIC_LIST: &str = "credentials.json";
/// Every voter's code: private.
pub const CODES: &str = "codes.csv";
/// The codes of replaced credentials, appended in order: private.
pub const REPLACEMENT_CODES: &str = "replacements.csv";
/// The registrar's summary.
pub const SUMMARY: &str = "registrar.json";
/// Every e-mail delivery, appended run after run: private.
pub const DELIVERY_REPORT: &str = "delivery-report.csv";
/// The value of [`Summary::format`].
pub const FORMAT: &str = "tabella-registrar/1";
/// Letters per PDF file by default (about 37 MB each).
pub const LETTERS_PER_FILE: usize = 100_000;

/// `replacement-N.json`: the N-th replacement, to upload in order.
pub fn replacement_file(number: usize) -> String {
    format!("replacement-{number}.json")
}

/// `letter-replacement-N.pdf`: the letter of the N-th replacement.
pub fn replacement_letter(number: usize) -> String {
    format!("letter-replacement-{number}.pdf")
}

/// What went wrong, in words for the registrar. No error carries a code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrarError {
    /// The roll is refused.
    #[error("the roll is refused: {0}")]
    Roll(#[from] RollError),
    /// The output directory is taken.
    #[error("{0} already exists and is not empty: the registrar never overwrites credentials; choose a new directory")]
    Exists(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A registrar file does not hold what it should.
    #[error("{path} is not a valid registrar file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The letters could not be rendered.
    #[error("the letters could not be made: {0}")]
    Letters(#[from] LetterError),
    /// The list or a replacement does not hold together.
    #[error("the credential list: {0}")]
    List(#[from] CredentialListError),
    /// No such voter on the roll.
    #[error("voter {0:?} is not on the roll of this registrar directory")]
    UnknownVoter(String),
    /// Letters and e-mails need the booth address and the election's title.
    #[error("letters and e-mails need the election's title and the booth's address: give `tabella credentials generate` --title and --booth-url (or --url)")]
    NoNotice,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegistrarError + '_ {
    move |source| RegistrarError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What the letters and e-mails tell voters about the election.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionNotice {
    /// The election's title.
    pub title: String,
    /// The booth's address.
    pub booth_url: String,
    /// When voting opens, as the officials write it.
    pub opens: Option<String>,
    /// When voting closes, as the officials write it.
    pub closes: Option<String>,
    /// Whom to contact about a lost code.
    pub contact: Option<String>,
}

/// `registrar.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// [`FORMAT`].
    pub format: String,
    /// The election whose salt derived the keys.
    pub election_id: ElectionId,
    /// The roll's digest ([`Roll::digest`]).
    pub roll_digest: String,
    /// Voters on the roll.
    pub voters: u64,
    /// The digest of the list as generated (hex).
    pub credentials_digest: String,
    /// What letters and e-mails say, when given.
    pub notice: Option<ElectionNotice>,
    /// The letters' words.
    pub letter_text: LetterText,
    /// The letter files written, in order.
    pub letters: Vec<String>,
    /// When the credentials were generated (ms since the epoch).
    pub generated_at: u64,
}

/// How [`generate`] runs.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// The election (its id salts every key).
    pub election_id: ElectionId,
    /// What letters and e-mails say; without it, no letters are made.
    pub notice: Option<ElectionNotice>,
    /// The letters' words.
    pub letter_text: LetterText,
    /// Whether to make the letters (needs `notice`).
    pub letters: bool,
    /// Letters per PDF file.
    pub letters_per_file: usize,
}

/// One voter's current credential, as the registrar keeps it.
pub struct VoterCode {
    /// The voter's id.
    pub voter_id: String,
    /// The code (21 characters), zeroized on drop.
    pub code: Zeroizing<String>,
    /// The e-mail address, if any.
    pub email: Option<String>,
    /// The name, if any.
    pub name: Option<String>,
    /// `original`, or `replacement-N` after the N-th replacement.
    pub credential: String,
}

impl std::fmt::Debug for VoterCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoterCode")
            .field("voter_id", &self.voter_id)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// What [`generate`] made.
#[derive(Debug)]
pub struct Generated {
    /// The summary written to `registrar.json`.
    pub summary: Summary,
    /// The public list written to `credentials.json`.
    pub list: PublicCredentialList,
    /// The directory.
    pub dir: PathBuf,
}

/// Now, in milliseconds since the epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// REG-GEN-1: draws a code for every voter of `roll`, derives its key (Argon2id, in parallel;
/// `progress` is called after each voter), and writes the registrar directory `out`, which
/// must not exist or be empty. Everything is written into a fresh directory beside it and
/// renamed into place at the end, so `out` is either complete or absent; every file is synced.
pub fn generate(
    roll: &Roll,
    out: &Path,
    options: &GenerateOptions,
    progress: &(dyn Fn() + Sync),
) -> Result<Generated, RegistrarError> {
    check_new_dir(out)?;
    if options.letters && options.notice.is_none() {
        return Err(RegistrarError::NoNotice);
    }
    let election = options.election_id;
    // Argon2id per voter, on every core; the codes stay in zeroizing strings.
    let issued: Vec<(Zeroizing<String>, CredentialKey)> = roll
        .voters
        .par_iter()
        .map(|_| {
            let code = CredentialCode::generate(&mut rand::rngs::OsRng);
            let key = CredentialSecret::derive(&code, &election.0).public();
            progress();
            (Zeroizing::new(code.expose_secret().to_owned()), key)
        })
        .collect();
    let list = PublicCredentialList::new(election, issued.iter().map(|(_, k)| *k));
    list.validate(&election)?;

    let staging = staging_dir(out)?;
    let result = (|| {
        write_codes(&staging.join(CODES), roll, &issued)?;
        let letters = if options.letters {
            let notice = options.notice.as_ref().ok_or(RegistrarError::NoNotice)?;
            let letters: Vec<(&roll::RollEntry, &str)> = roll
                .voters
                .iter()
                .zip(&issued)
                .map(|(v, (code, _))| (v, code.as_str()))
                .collect();
            write_letters(
                &staging,
                notice,
                &options.letter_text,
                &letters,
                options.letters_per_file,
            )?
        } else {
            Vec::new()
        };
        write_json(&staging.join(PUBLIC_LIST), &list, false)?;
        let summary = Summary {
            format: FORMAT.to_owned(),
            election_id: election,
            roll_digest: roll.digest(),
            voters: roll.voters.len() as u64,
            credentials_digest: hex::encode(list.digest),
            notice: options.notice.clone(),
            letter_text: options.letter_text.clone(),
            letters,
            generated_at: now_ms(),
        };
        write_json(&staging.join(SUMMARY), &summary, true)?;
        Ok(summary)
    })();
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    sync_dir(&staging);
    if let Err(source) = fs::rename(&staging, out) {
        let _ = fs::remove_dir_all(&staging);
        return Err(if out.exists() {
            RegistrarError::Exists(out.to_path_buf())
        } else {
            RegistrarError::Io {
                path: out.to_path_buf(),
                source,
            }
        });
    }
    sync_parent(out);
    Ok(Generated {
        summary,
        list,
        dir: out.to_path_buf(),
    })
}

/// Refuses an existing non-empty `out`.
fn check_new_dir(out: &Path) -> Result<(), RegistrarError> {
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(RegistrarError::Exists(out.to_path_buf()));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            Err(RegistrarError::Exists(out.to_path_buf()))
        }
        Err(source) => Err(RegistrarError::Io {
            path: out.to_path_buf(),
            source,
        }),
    }
}

/// A new private directory beside `out`, to be renamed to it.
fn staging_dir(out: &Path) -> Result<PathBuf, RegistrarError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out.file_name().map_or_else(
        || "credentials".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.partial-"))
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    // Kept: renamed into place on success, removed by the caller on failure.
    let staging = staging.keep();
    // Only the registrar may list it: it holds every voter's code.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(&staging, fs::Permissions::from_mode(0o700)).map_err(io(&staging))?;
    }
    Ok(staging)
}

/// Creates `path` new (never replacing a file), 0600 when `private` (Unix), 0644 otherwise.
fn create_new(path: &Path, private: bool) -> Result<File, RegistrarError> {
    durable::create_new(path, private).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            RegistrarError::Exists(path.to_path_buf())
        } else {
            RegistrarError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Writes `value` as pretty JSON with a final newline into a new file, synced.
fn write_json(path: &Path, value: &impl Serialize, private: bool) -> Result<(), RegistrarError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| RegistrarError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    bytes.push(b'\n');
    let mut file = create_new(path, private)?;
    file.write_all(&bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

fn write_codes(
    path: &Path,
    roll: &Roll,
    issued: &[(Zeroizing<String>, CredentialKey)],
) -> Result<(), RegistrarError> {
    let file = create_new(path, true)?;
    let mut writer = csv::Writer::from_writer(BufWriter::new(file));
    let fail = |e: csv::Error| RegistrarError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    writer
        .write_record(["voter_id", "code", "email", "name"])
        .map_err(fail)?;
    for (voter, (code, _)) in roll.voters.iter().zip(issued) {
        writer
            .write_record([
                voter.voter_id.as_str(),
                code.as_str(),
                voter.email.as_deref().unwrap_or(""),
                voter.name.as_deref().unwrap_or(""),
            ])
            .map_err(fail)?;
    }
    let file = writer
        .into_inner()
        .map_err(|e| RegistrarError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?
        .into_inner()
        .map_err(|e| RegistrarError::Io {
            path: path.to_path_buf(),
            source: e.into_error(),
        })?;
    file.sync_all().map_err(io(path))
}

/// The letter settings of `notice`.
fn letter_settings(notice: &ElectionNotice, text: &LetterText) -> LetterSettings {
    LetterSettings {
        election_title: notice.title.clone(),
        booth_url: notice.booth_url.clone(),
        voting_opens: notice.opens.clone(),
        voting_closes: notice.closes.clone(),
        contact: notice.contact.clone(),
        text: text.clone(),
    }
}

/// Writes the letters into `dir`, `per_file` to a PDF; returns the file names.
fn write_letters(
    dir: &Path,
    notice: &ElectionNotice,
    text: &LetterText,
    voters: &[(&roll::RollEntry, &str)],
    per_file: usize,
) -> Result<Vec<String>, RegistrarError> {
    let settings = letter_settings(notice, text);
    let per_file = per_file.max(1);
    let files = voters.len().div_ceil(per_file);
    let mut names = Vec::with_capacity(files);
    let grouped: Vec<String> = voters.iter().map(|(_, code)| grouped(code)).collect();
    for (i, (part, codes)) in voters
        .chunks(per_file)
        .zip(grouped.chunks(per_file))
        .enumerate()
    {
        let name = if files == 1 {
            "letters.pdf".to_owned()
        } else {
            format!("letters-{:04}.pdf", i + 1)
        };
        write_letter_file(
            &dir.join(&name),
            &settings,
            part.iter().zip(codes).map(|((voter, _), code)| Letter {
                voter_id: &voter.voter_id,
                name: voter.name.as_deref(),
                code,
            }),
        )?;
        names.push(name);
    }
    Ok(names)
}

/// Renders `letters` into the new private file `path`, synced.
fn write_letter_file<'a>(
    path: &Path,
    settings: &LetterSettings,
    letters: impl IntoIterator<Item = Letter<'a>>,
) -> Result<(), RegistrarError> {
    let mut out = BufWriter::new(create_new(path, true)?);
    letters::write_letters(settings, letters, &mut out)?;
    let file = out.into_inner().map_err(|e| RegistrarError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io(path))
}

/// The printed form of a canonical code: seven groups of three joined by hyphens.
fn grouped(code: &str) -> String {
    match CredentialCode::parse(code) {
        Ok(parsed) => parsed.to_string(),
        // Not a code: handed on as is, for the letter module to refuse (naming the voter).
        Err(_) => code.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a registrar directory back

/// A registrar directory as it stands: the summary, every voter's current code, the current
/// public list and the replacements made.
pub struct Registrar {
    /// The directory.
    pub dir: PathBuf,
    /// `registrar.json`.
    pub summary: Summary,
    /// Every voter's current code, in roll order.
    pub voters: Vec<VoterCode>,
    /// The sorted keys of the list as it stands (after every replacement).
    pub keys: Vec<[u8; 32]>,
    /// The replacements, in order.
    pub replacements: Vec<CredentialReplacement>,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("dir", &self.dir)
            .field("election", &self.summary.election_id)
            .field("voters", &self.voters.len())
            .field("replacements", &self.replacements.len())
            .finish_non_exhaustive()
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, RegistrarError> {
    let bytes = fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&bytes).map_err(|e| RegistrarError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The rows of a private CSV file of ours, as string maps by column name.
fn read_rows(path: &Path) -> Result<Vec<HashMap<String, String>>, RegistrarError> {
    let corrupt = |reason: String| RegistrarError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| corrupt(e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| corrupt(e.to_string()))?
        .clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| corrupt(e.to_string()))?;
        rows.push(
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect(),
        );
    }
    Ok(rows)
}

impl Registrar {
    /// Reads the registrar directory `dir`, checking that it holds together: the codes on
    /// file, the public list and every replacement in order (a replacement whose code was
    /// recorded but whose `replacement-N.json` was not written, after a crash, is written now).
    pub fn open(dir: &Path) -> Result<Self, RegistrarError> {
        let summary_path = dir.join(SUMMARY);
        let summary: Summary = read_json(&summary_path)?;
        if summary.format != FORMAT {
            return Err(RegistrarError::Corrupt {
                path: summary_path,
                reason: format!("format {:?}, not {FORMAT:?}", summary.format),
            });
        }
        let election = summary.election_id;
        let list: PublicCredentialList = read_json(&dir.join(PUBLIC_LIST))?;
        list.validate(&election)?;
        let codes_path = dir.join(CODES);
        let mut voters = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for row in read_rows(&codes_path)? {
            let get = |k: &str| row.get(k).cloned().unwrap_or_default();
            let voter_id = get("voter_id");
            let optional = |v: String| (!v.is_empty()).then_some(v);
            index.insert(voter_id.clone(), voters.len());
            voters.push(VoterCode {
                voter_id,
                code: Zeroizing::new(get("code")),
                email: optional(get("email")),
                name: optional(get("name")),
                credential: "original".to_owned(),
            });
        }
        if voters.len() as u64 != summary.voters {
            return Err(RegistrarError::Corrupt {
                path: codes_path,
                reason: format!(
                    "{} voters, but {SUMMARY} says {}",
                    voters.len(),
                    summary.voters
                ),
            });
        }
        let mut registrar = Self {
            dir: dir.to_path_buf(),
            summary,
            voters,
            keys: list.credentials,
            replacements: Vec::new(),
        };
        let replaced_path = dir.join(REPLACEMENT_CODES);
        let rows = if replaced_path.exists() {
            read_rows(&replaced_path)?
        } else {
            Vec::new()
        };
        for (i, row) in rows.iter().enumerate() {
            let number = i + 1;
            let voter_id = row.get("voter_id").cloned().unwrap_or_default();
            let code = Zeroizing::new(row.get("code").cloned().unwrap_or_default());
            let &at = index
                .get(&voter_id)
                .ok_or_else(|| RegistrarError::UnknownVoter(voter_id.clone()))?;
            let path = dir.join(replacement_file(number));
            let replacement = if path.exists() {
                read_json::<CredentialReplacement>(&path)?
            } else {
                // Recorded but not written: rebuilt from the two codes (the crash case).
                let replacement = registrar.compute_replacement(at, &code)?;
                write_json(&path, &replacement, false)?;
                replacement
            };
            replacement.apply(&election, &mut registrar.keys)?;
            let voter = &mut registrar.voters[at];
            voter.code = code;
            voter.credential = format!("replacement-{number}");
            registrar.replacements.push(replacement);
        }
        if dir.join(replacement_file(rows.len() + 1)).exists() {
            return Err(RegistrarError::Corrupt {
                path: dir.join(replacement_file(rows.len() + 1)),
                reason: format!("there is no code for it in {REPLACEMENT_CODES}"),
            });
        }
        Ok(registrar)
    }

    /// The replacement of voter `at`'s current credential by the one of `new_code`, against the
    /// list as it stands.
    fn compute_replacement(
        &self,
        at: usize,
        new_code: &str,
    ) -> Result<CredentialReplacement, RegistrarError> {
        let election = self.summary.election_id;
        let key = |code: &str| {
            CredentialCode::parse(code)
                .map(|c| CredentialSecret::derive(&c, &election.0).public())
                .map_err(|e| RegistrarError::Corrupt {
                    path: self.dir.join(CODES),
                    reason: format!(
                        "the code of voter {:?} does not parse: {e}",
                        self.voters[at].voter_id
                    ),
                })
        };
        let old = key(&self.voters[at].code)?;
        let new = key(new_code)?;
        Ok(CredentialReplacement::new(election, &self.keys, old, new)?)
    }

    /// The voter with id `voter_id`.
    pub fn voter(&self, voter_id: &str) -> Option<&VoterCode> {
        self.voters.iter().find(|v| v.voter_id == voter_id)
    }
}

/// What [`replace`] made.
#[derive(Debug)]
pub struct Replaced {
    /// The replacement's number.
    pub number: usize,
    /// The replacement document (`replacement-N.json`), to upload.
    pub replacement: CredentialReplacement,
    /// Its path.
    pub path: PathBuf,
    /// The voter's new letter, when letters are made.
    pub letter: Option<PathBuf>,
}

/// REG-REPLACE-1: replaces voter `voter_id`'s credential: draws a new code, appends it to
/// `replacements.csv` (synced, before anything else), writes `replacement-N.json` (the list's
/// digest before and after, the key removed and the key added) and, when the directory makes
/// letters, the voter's new letter.
pub fn replace(dir: &Path, voter_id: &str) -> Result<Replaced, RegistrarError> {
    let registrar = Registrar::open(dir)?;
    let at = registrar
        .voters
        .iter()
        .position(|v| v.voter_id == voter_id)
        .ok_or_else(|| RegistrarError::UnknownVoter(voter_id.to_owned()))?;
    let election = registrar.summary.election_id;
    let code = CredentialCode::generate(&mut rand::rngs::OsRng);
    let new_code = Zeroizing::new(code.expose_secret().to_owned());
    let replacement = registrar.compute_replacement(at, &new_code)?;
    let number = registrar.replacements.len() + 1;
    let mut keys = registrar.keys.clone();
    replacement.apply(&election, &mut keys)?;

    append_replacement_code(&dir.join(REPLACEMENT_CODES), voter_id, &new_code)?;
    let path = dir.join(replacement_file(number));
    write_json(&path, &replacement, false)?;
    let letter = match &registrar.summary.notice {
        Some(notice) if !registrar.summary.letters.is_empty() => {
            let path = dir.join(replacement_letter(number));
            let voter = &registrar.voters[at];
            write_letter_file(
                &path,
                &letter_settings(notice, &registrar.summary.letter_text),
                [Letter {
                    voter_id: &voter.voter_id,
                    name: voter.name.as_deref(),
                    code: &grouped(&new_code),
                }],
            )?;
            Some(path)
        }
        _ => None,
    };
    sync_dir(dir);
    Ok(Replaced {
        number,
        replacement,
        path,
        letter,
    })
}

fn append_replacement_code(path: &Path, voter_id: &str, code: &str) -> Result<(), RegistrarError> {
    let new = !path.exists();
    let file = durable::append_private(path).map_err(io(path))?;
    let mut writer = csv::Writer::from_writer(file);
    let fail = |e: csv::Error| RegistrarError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    if new {
        writer
            .write_record(["voter_id", "code", "replaced_at"])
            .map_err(fail)?;
    }
    writer
        .write_record([voter_id, code, &now_ms().to_string()])
        .map_err(fail)?;
    let file = writer.into_inner().map_err(|e| RegistrarError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    file.sync_all().map_err(io(path))
}

// ---------------------------------------------------------------------------------------------
// E-mail delivery

/// How [`send`] runs.
pub struct SendOptions {
    /// Where the e-mails go: an SMTP server, or an outbox directory of `.eml` files.
    pub transport: Transport,
    /// The template; `None`: the default for the election's notice.
    pub template: Option<mail::MailTemplate>,
    /// Only these voters (all with an address when empty).
    pub only: Vec<String>,
    /// Send again to voters whose current code was already sent.
    pub resend: bool,
}

/// Where e-mails go.
pub enum Transport {
    /// An SMTP server.
    Smtp(mail::MailSettings),
    /// `.eml` files in a new directory, from this sender.
    Outbox {
        /// The directory (created; must be new or empty).
        dir: PathBuf,
        /// The sender.
        from: String,
    },
}

/// What [`send`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendSummary {
    /// Delivered now.
    pub sent: usize,
    /// Failed now (see the report).
    pub failed: usize,
    /// Skipped: their current code was already delivered.
    pub already_sent: usize,
    /// Voters with no e-mail address (letters only).
    pub no_address: usize,
}

/// The columns of `delivery-report.csv`.
pub const REPORT_COLUMNS: [&str; 7] = [
    "voter_id",
    "credential",
    "email",
    "status",
    "attempts",
    "detail",
    "at",
];

/// REG-MAIL-1: e-mails every voter with an address (or those of `only`) their current code,
/// appending one row per voter to `delivery-report.csv` as each delivery ends (so a stopped run
/// loses nothing and a new run picks up where it stopped: voters whose current code was
/// delivered are skipped unless `resend`). No code is ever logged or reported.
pub fn send(
    dir: &Path,
    options: &SendOptions,
    on_delivery: &mut dyn FnMut(&mail::Delivery),
) -> Result<SendSummary, SendError> {
    let registrar = Registrar::open(dir)?;
    let notice = registrar
        .summary
        .notice
        .clone()
        .ok_or(RegistrarError::NoNotice)?;
    let context = mail::MailContext {
        election: notice.title.clone(),
        booth_url: notice.booth_url.clone(),
        opens: notice.opens.clone(),
        closes: notice.closes.clone(),
        contact: notice.contact.clone(),
    };
    let template = options
        .template
        .clone()
        .unwrap_or_else(|| mail::MailTemplate::default_for(&context));
    for wanted in &options.only {
        if registrar.voter(wanted).is_none() {
            return Err(RegistrarError::UnknownVoter(wanted.clone()).into());
        }
    }
    let report_path = dir.join(DELIVERY_REPORT);
    let delivered = if report_path.exists() {
        read_rows(&report_path)?
            .into_iter()
            .filter(|row| row.get("status").map(String::as_str) == Some("sent"))
            .filter_map(|row| Some((row.get("voter_id")?.clone(), row.get("credential")?.clone())))
            .collect()
    } else {
        std::collections::HashSet::new()
    };
    let mut summary = SendSummary::default();
    let mut chosen: Vec<&VoterCode> = Vec::new();
    for voter in &registrar.voters {
        if !options.only.is_empty() && !options.only.contains(&voter.voter_id) {
            continue;
        }
        if voter.email.is_none() {
            summary.no_address += 1;
            continue;
        }
        if !options.resend
            && delivered.contains(&(voter.voter_id.clone(), voter.credential.clone()))
        {
            summary.already_sent += 1;
            continue;
        }
        chosen.push(voter);
    }
    // The code as printed on letters: seven groups of three, easy to read and type.
    let codes: Vec<Zeroizing<String>> = chosen
        .iter()
        .map(|v| Zeroizing::new(grouped(&v.code)))
        .collect();
    let recipients: Vec<mail::Recipient<'_>> = chosen
        .iter()
        .zip(&codes)
        .map(|(v, code)| mail::Recipient {
            voter_id: &v.voter_id,
            email: v.email.as_deref().unwrap_or(""),
            name: v.name.as_deref(),
            code,
        })
        .collect();
    let credential: HashMap<&str, &str> = chosen
        .iter()
        .map(|v| (v.voter_id.as_str(), v.credential.as_str()))
        .collect();
    let mut report = Report::open(&report_path)?;
    let mut record = |d: &mail::Delivery| {
        on_delivery(d);
        report.write(
            d,
            credential.get(d.voter_id.as_str()).copied().unwrap_or(""),
        )
    };
    let done = match &options.transport {
        Transport::Smtp(settings) => {
            mail::try_send_all(settings, &template, &context, &recipients, &mut record)?
        }
        Transport::Outbox { dir, from } => {
            check_new_dir(dir)?;
            fs::create_dir_all(dir).map_err(io(dir))?;
            // The messages hold codes: only the registrar may list them.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
            }
            mail::write_outbox(from, &template, &context, &recipients, dir, &mut record)?
        }
    };
    summary.sent = done.sent;
    summary.failed = done.failed;
    Ok(summary)
}

/// Why [`send`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The registrar directory.
    #[error(transparent)]
    Registrar(#[from] RegistrarError),
    /// The mail settings, template or server.
    #[error(transparent)]
    Mail(#[from] mail::MailError),
}

/// `delivery-report.csv`, appended row by row and synced.
struct Report {
    file: File,
    path: PathBuf,
}

impl Report {
    fn open(path: &Path) -> Result<Self, RegistrarError> {
        let new = !path.exists();
        let mut file = durable::append_private(path).map_err(io(path))?;
        if new {
            let mut line = REPORT_COLUMNS.join(",");
            line.push_str("\r\n");
            file.write_all(line.as_bytes()).map_err(io(path))?;
            file.sync_all().map_err(io(path))?;
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    fn write(&mut self, d: &mail::Delivery, credential: &str) -> std::io::Result<()> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        writer
            .write_record([
                d.voter_id.as_str(),
                credential,
                d.email.as_str(),
                d.status.as_str(),
                &d.attempts.to_string(),
                d.detail.as_str(),
                &now_ms().to_string(),
            ])
            .map_err(std::io::Error::other)?;
        let bytes = writer
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        self.file.write_all(&bytes)?;
        self.file
            .sync_data()
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))
    }
}

#[cfg(test)]
mod tests;
