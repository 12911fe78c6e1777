//! Tests of the registrar: a directory generated from a roll holds together (codes derive to the
//! public keys, nothing else is public), is never overwritten, replaces a credential in order
//! (surviving a crash between its steps), and delivers the current codes by e-mail, once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use tabella_crypto::credential::{credentials_digest, CredentialCode, CredentialSecret};

use super::mail::{DeliveryStatus, MailSettings};
use super::*;
use tabella_tests::smtp::{self as test_sink, Sink};

const ELECTION: ElectionId = ElectionId([0x5a; 32]);

fn notice() -> ElectionNotice {
    ElectionNotice {
        title: "Town Council 2027".into(),
        booth_url: "https://vote.example.org/booth".into(),
        opens: Some("1 March 2027, 8:00".into()),
        closes: Some("7 March 2027, 20:00".into()),
        contact: Some("Election Office, 01234 567890".into()),
    }
}

fn options(letters: bool) -> GenerateOptions {
    GenerateOptions {
        election_id: ELECTION,
        notice: Some(notice()),
        letter_text: LetterText::default(),
        letters,
        letters_per_file: LETTERS_PER_FILE,
    }
}

const ROLL: &str = "voter_id,name,email\n\
                    v-001,Ada Lovelace,ada@example.org\n\
                    v-002,Bo Tait,\n\
                    v-003,Cy Young,cy@example.org\n";

fn generated(dir: &Path, letters: bool) -> Generated {
    let roll = Roll::parse(ROLL.as_bytes()).unwrap();
    generate(&roll, &dir.join("out"), &options(letters), &|| {}).unwrap()
}

fn key_of(code: &str) -> [u8; 32] {
    CredentialSecret::derive(&CredentialCode::parse(code).unwrap(), &ELECTION.0)
        .public()
        .to_bytes()
}

/// REG-GEN-1: the public list is exactly the keys of the codes on file, and holds nothing else.
#[test]
fn generated_codes_derive_to_the_public_list_and_only_it_is_public() {
    let tmp = tempfile::tempdir().unwrap();
    let g = generated(tmp.path(), true);
    let dir = &g.dir;
    let registrar = Registrar::open(dir).unwrap();
    assert_eq!(registrar.voters.len(), 3);
    let mut keys: Vec<[u8; 32]> = registrar.voters.iter().map(|v| key_of(&v.code)).collect();
    keys.sort_unstable();
    assert_eq!(keys, g.list.credentials);
    assert_eq!(credentials_digest(&keys), g.list.digest);
    assert_eq!(registrar.voters[1].email, None);
    assert_eq!(registrar.voters[0].name.as_deref(), Some("Ada Lovelace"));
    // The public file names no voter and carries no code.
    let public = std::fs::read_to_string(dir.join(PUBLIC_LIST)).unwrap();
    for voter in &registrar.voters {
        assert!(!public.contains(&voter.voter_id));
        assert!(!public.contains(voter.code.as_str()));
    }
    // Private files are the owner's only; the directory too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join(CODES)), 0o600);
        assert_eq!(mode(&dir.join("letters.pdf")), 0o600);
        assert_eq!(mode(dir), 0o700);
        assert_eq!(mode(&dir.join(PUBLIC_LIST)), 0o644);
    }
    assert_eq!(g.summary.letters, ["letters.pdf"]);
    assert_eq!(
        g.summary.roll_digest,
        Roll::parse(ROLL.as_bytes()).unwrap().digest()
    );
    // Nothing is left of the staging directory.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["out"]);
}

/// The letters carry each voter's own code, through pdftotext.
#[test]
fn the_letters_carry_each_voters_code() {
    let Some(text) = pdf_text_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let g = generated(tmp.path(), true);
    let registrar = Registrar::open(&g.dir).unwrap();
    let pages = text(&g.dir.join("letters.pdf"));
    assert_eq!(pages.len(), 3);
    for (page, voter) in pages.iter().zip(&registrar.voters) {
        let grouped = CredentialCode::parse(&voter.code).unwrap().to_string();
        assert!(page.contains(&voter.voter_id), "{page}");
        assert!(page.contains(&grouped), "{page}");
        assert!(page.contains("https://vote.example.org/booth"), "{page}");
        assert!(page.contains("Town Council 2027"), "{page}");
    }
}

/// `pdftotext` of each page, or `None` (skipping) when poppler-utils is missing and not
/// required.
fn pdf_text_or_skip() -> Option<impl Fn(&Path) -> Vec<String>> {
    let found = std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none()
                && std::env::var_os("TABELLA_REQUIRE_PDFTOTEXT").is_none(),
            "pdftotext (Debian's poppler-utils) is required here"
        );
        eprintln!("note: pdftotext not found; skipping");
        return None;
    }
    Some(|pdf: &Path| {
        let out = std::process::Command::new("pdftotext")
            .args(["-layout"])
            .arg(pdf)
            .arg("-")
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// Re-running never overwrites: a directory that holds anything is refused, untouched.
#[test]
fn generation_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let g = generated(tmp.path(), false);
    let before = std::fs::read(g.dir.join(CODES)).unwrap();
    let roll = Roll::parse(ROLL.as_bytes()).unwrap();
    let err = generate(&roll, &g.dir, &options(false), &|| {}).unwrap_err();
    assert!(matches!(err, RegistrarError::Exists(_)), "{err}");
    assert!(err.to_string().contains("never overwrites"), "{err}");
    assert_eq!(std::fs::read(g.dir.join(CODES)).unwrap(), before);
    // A file in the way is refused as well; an empty directory is fine.
    std::fs::write(tmp.path().join("file"), "x").unwrap();
    assert!(generate(&roll, &tmp.path().join("file"), &options(false), &|| {}).is_err());
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    generate(&roll, &tmp.path().join("empty"), &options(false), &|| {}).unwrap();
    // Letters need the notice.
    let mut no_notice = options(true);
    no_notice.notice = None;
    assert!(matches!(
        generate(&roll, &tmp.path().join("n"), &no_notice, &|| {}),
        Err(RegistrarError::NoNotice)
    ));
    assert!(!tmp.path().join("n").exists());
}

/// REG-REPLACE-1 and CRED-LIST-2: a replacement draws a new code, changes exactly one key of
/// the list, records both digests, and the next one starts where it ended.
#[test]
fn replacements_change_one_key_each_and_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let g = generated(tmp.path(), true);
    let dir = &g.dir;
    let old_code = Registrar::open(dir).unwrap().voters[1].code.to_string();
    let first = replace(dir, "v-002").unwrap();
    assert_eq!(first.number, 1);
    assert_eq!(first.replacement.previous_digest, g.list.digest);
    assert_eq!(first.replacement.removed.to_bytes(), key_of(&old_code));
    assert!(first.letter.as_ref().unwrap().is_file());
    let registrar = Registrar::open(dir).unwrap();
    let voter = registrar.voter("v-002").unwrap();
    assert_ne!(voter.code.as_str(), old_code);
    assert_eq!(voter.credential, "replacement-1");
    assert_eq!(first.replacement.added.to_bytes(), key_of(&voter.code));
    assert_eq!(
        credentials_digest(&registrar.keys),
        first.replacement.digest
    );
    // The public list of generate stays as it was uploaded; the replacement is its own file.
    let uploaded: PublicCredentialList =
        serde_json::from_slice(&std::fs::read(dir.join(PUBLIC_LIST)).unwrap()).unwrap();
    assert_eq!(uploaded, g.list);
    let second = replace(dir, "v-002").unwrap();
    assert_eq!(second.number, 2);
    assert_eq!(second.replacement.previous_digest, first.replacement.digest);
    assert_eq!(second.replacement.removed, first.replacement.added);
    assert!(matches!(
        replace(dir, "nobody"),
        Err(RegistrarError::UnknownVoter(_))
    ));
    // The verifier's backward replay leads from the final list to the uploaded one.
    let registrar = Registrar::open(dir).unwrap();
    let first_digest = tabella_crypto::credential::replay_backwards(
        &ELECTION,
        &registrar.keys,
        &registrar.replacements,
    )
    .unwrap();
    assert_eq!(first_digest, g.list.digest);
}

/// A crash after the new code was recorded and before its replacement document was written
/// loses nothing: the document is rebuilt from the codes on the next run.
#[test]
fn a_replacement_interrupted_after_its_code_was_recorded_is_completed() {
    let tmp = tempfile::tempdir().unwrap();
    let g = generated(tmp.path(), false);
    let replaced = replace(&g.dir, "v-003").unwrap();
    std::fs::remove_file(&replaced.path).unwrap();
    let registrar = Registrar::open(&g.dir).unwrap();
    assert_eq!(
        registrar.replacements,
        std::slice::from_ref(&replaced.replacement)
    );
    let rebuilt: CredentialReplacement =
        serde_json::from_slice(&std::fs::read(&replaced.path).unwrap()).unwrap();
    assert_eq!(rebuilt, replaced.replacement);
    // A replacement document with no recorded code is an inconsistency, said so.
    std::fs::write(g.dir.join(replacement_file(2)), "{}").unwrap();
    let err = Registrar::open(&g.dir).unwrap_err();
    assert!(err.to_string().contains("no code for it"), "{err}");
}

fn outbox_send(dir: &Path, outbox: &str, only: &[&str], resend: bool) -> SendSummary {
    send(
        dir,
        &SendOptions {
            transport: Transport::Outbox {
                dir: dir.join(outbox),
                from: "Election Office <office@example.org>".into(),
            },
            template: None,
            only: only.iter().map(|s| (*s).to_owned()).collect(),
            resend,
        },
        &mut |_| {},
    )
    .unwrap()
}

/// REG-MAIL-1: every voter with an address gets their current code once; a replaced code is
/// sent again; the report names voters, never codes.
#[test]
fn e_mails_go_once_per_code_and_the_report_holds_no_code() {
    let tmp = tempfile::tempdir().unwrap();
    let g = generated(tmp.path(), false);
    let dir = &g.dir;
    let first = outbox_send(dir, "outbox-1", &[], false);
    assert_eq!(
        first,
        SendSummary {
            sent: 2,
            failed: 0,
            already_sent: 0,
            no_address: 1
        }
    );
    let registrar = Registrar::open(dir).unwrap();
    let eml = std::fs::read_to_string(dir.join("outbox-1/000001.eml")).unwrap();
    assert!(eml.contains("ada@example.org"), "{eml}");
    let grouped = CredentialCode::parse(&registrar.voters[0].code)
        .unwrap()
        .to_string();
    assert!(eml.contains(&grouped), "{eml}");
    // Again: nothing new to send.
    let again = outbox_send(dir, "outbox-2", &[], false);
    assert_eq!((again.sent, again.already_sent), (0, 2));
    // A replaced code is new: only that voter is sent again.
    replace(dir, "v-003").unwrap();
    let after = outbox_send(dir, "outbox-3", &[], false);
    assert_eq!((after.sent, after.already_sent), (1, 1));
    // --resend and --only.
    let forced = outbox_send(dir, "outbox-4", &["v-001"], true);
    assert_eq!(forced.sent, 1);
    // The report has a row per delivery and not one code.
    let report = std::fs::read_to_string(dir.join(DELIVERY_REPORT)).unwrap();
    assert!(report.starts_with("voter_id,credential,email,status,attempts,detail,at\r\n"));
    assert_eq!(report.lines().count(), 1 + 2 + 1 + 1);
    assert!(
        report.contains("v-003,replacement-1,cy@example.org,sent"),
        "{report}"
    );
    for voter in &Registrar::open(dir).unwrap().voters {
        assert!(!report.contains(voter.code.as_str()));
    }
    // An unknown voter in --only is refused before anything is sent.
    let err = send(
        dir,
        &SendOptions {
            transport: Transport::Outbox {
                dir: dir.join("outbox-5"),
                from: "office@example.org".into(),
            },
            template: None,
            only: vec!["nobody".into()],
            resend: false,
        },
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("nobody"), "{err}");
    assert!(!dir.join("outbox-5").exists());
}

/// The same through a real SMTP server with STARTTLS (the Python sink on loopback): each
/// voter's message holds their own code.
#[test]
fn e_mails_reach_a_real_smtp_server_over_starttls() {
    let Some(python) = test_sink::python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let g = generated(tmp.path(), false);
    let cert = test_sink::self_signed();
    let mut sink = Sink::start(
        &python,
        &[
            "--tls-cert",
            &cert.cert_path,
            "--tls-key",
            &cert.key_path,
            "--require-starttls",
        ],
    );
    let mut settings = MailSettings::new(
        format!("smtp://localhost:{}", sink.port),
        "Election Office <office@example.org>",
    );
    settings.extra_root_pem = Some(cert.trust_pem.clone());
    let mut statuses = Vec::new();
    let summary = send(
        &g.dir,
        &SendOptions {
            transport: Transport::Smtp(settings),
            template: None,
            only: Vec::new(),
            resend: false,
        },
        &mut |d| statuses.push((d.voter_id.clone(), d.status)),
    )
    .unwrap();
    assert_eq!(
        (summary.sent, summary.failed, summary.no_address),
        (2, 0, 1)
    );
    assert_eq!(
        statuses,
        [
            ("v-001".to_owned(), DeliveryStatus::Sent),
            ("v-003".to_owned(), DeliveryStatus::Sent)
        ]
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    let registrar = Registrar::open(&g.dir).unwrap();
    let bodies: Vec<String> = messages
        .iter()
        .map(|m| test_sink::decode(&python, m).body)
        .collect();
    for (voter, body) in [&registrar.voters[0], &registrar.voters[2]]
        .iter()
        .zip(&bodies)
    {
        let grouped = CredentialCode::parse(&voter.code).unwrap().to_string();
        assert!(body.contains(&grouped), "{body}");
    }
    sink.stop();
}
