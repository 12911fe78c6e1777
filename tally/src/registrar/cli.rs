//! `tabella credentials …`: the registrar's commands, run offline on the officials' or an
//! independent registrar's own machine (spec/credentials.md §7).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tabella_crypto::ballot::ElectionId;

use super::letters::LetterText;
use super::mail::{MailSettings, MailTemplate, DEFAULT_ATTEMPTS};
use super::roll::Roll;
use super::{ElectionNotice, GenerateOptions, SendOptions, Transport, LETTERS_PER_FILE};
use crate::client::ElectionClient;

/// `tabella credentials …`.
#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Draw every voter's credential code and derive its public key, offline; write the codes,
    /// the printable letters and the public credential list into a new directory.
    Generate(GenerateArgs),
    /// Replace one voter's lost or compromised credential before voting opens: a new code, a
    /// new letter, and a replacement document for the officials to upload.
    Replace(ReplaceArgs),
    /// E-mail every voter with an address their code (SMTP with TLS), with a delivery report;
    /// a second run sends only what the first did not deliver.
    Send(SendArgs),
}

/// `tabella credentials generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The voter roll: CSV (RFC 4180) with a header line naming a `voter_id` column, and
    /// optionally `name` and `email`.
    #[arg(long, value_name = "FILE.csv")]
    pub roll: PathBuf,
    /// The directory to write: new, or empty.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The election id (64 hex digits, as `tabella election create` prints it).
    #[arg(long, value_name = "HEX", required_unless_present = "url", value_parser = parse_election)]
    pub election: Option<ElectionId>,
    /// Read the election id and title from the election service instead (and default the booth
    /// address to URL/booth). The service learns nothing from it.
    #[arg(long, value_name = "URL", conflicts_with = "election")]
    pub url: Option<String>,
    /// The election's title on the letters and e-mails (default with --url: the manifest's).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// The booth's address, printed and as a QR code on the letters.
    #[arg(long, value_name = "URL")]
    pub booth_url: Option<String>,
    /// When voting opens, as it should read on the letters (e.g. "1 March 2027, 8:00 CET").
    #[arg(long, value_name = "TEXT")]
    pub opens: Option<String>,
    /// When voting closes, as it should read on the letters.
    #[arg(long, value_name = "TEXT")]
    pub closes: Option<String>,
    /// Whom voters contact about a lost code.
    #[arg(long, value_name = "TEXT")]
    pub contact: Option<String>,
    /// The letters' words in another language: a JSON file with any of the keys of the English
    /// text (the others stay English).
    #[arg(long, value_name = "FILE.json")]
    pub letter_text: Option<PathBuf>,
    /// Make no letters (e-mail only, or letters printed elsewhere from codes.csv).
    #[arg(long)]
    pub no_letters: bool,
    /// Letters per PDF file (more files for a large roll: letters-0001.pdf, …).
    #[arg(long, value_name = "N", default_value_t = LETTERS_PER_FILE)]
    pub letters_per_file: usize,
}

/// `tabella credentials replace`.
#[derive(Debug, Args)]
pub struct ReplaceArgs {
    /// The registrar directory `generate` wrote.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The voter whose credential is replaced.
    #[arg(long, value_name = "VOTER_ID")]
    pub voter: String,
}

/// `tabella credentials send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The registrar directory `generate` wrote.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The SMTP server: smtp://HOST or smtp://HOST:PORT (STARTTLS required, port 587 by default),
    /// smtps://HOST or smtps://HOST:PORT (TLS, port 465), or smtp://HOST:PORT?tls=none for a
    /// relay on this machine only.
    #[arg(
        long,
        value_name = "URL",
        env = "TABELLA_SMTP_URL",
        required_unless_present = "outbox"
    )]
    pub smtp_url: Option<String>,
    /// Write the e-mails as .eml files into this new directory instead of sending them.
    #[arg(long, value_name = "DIR", conflicts_with = "smtp_url")]
    pub outbox: Option<PathBuf>,
    /// The sender, e.g. "Election Office <elections@example.org>".
    #[arg(long, value_name = "ADDRESS")]
    pub from: String,
    /// The SMTP user name.
    #[arg(long, value_name = "USER", env = "TABELLA_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// A file whose first line is the SMTP password (or TABELLA_SMTP_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub smtp_password_file: Option<PathBuf>,
    /// A PEM certificate to trust as well (a private CA).
    #[arg(long, value_name = "FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// The message: a file with a `Subject: …` line, an empty line, then the body, with
    /// {name}, {voter_id}, {code}, {election}, {booth_url}, {opens}, {closes}, {contact}.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Only this voter (repeat the option for several).
    #[arg(long, value_name = "VOTER_ID")]
    pub only: Vec<String>,
    /// Send again to voters whose current code was already delivered.
    #[arg(long)]
    pub resend: bool,
    /// Attempts per message before it is reported as failed.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ATTEMPTS)]
    pub attempts: u32,
}

fn parse_election(text: &str) -> Result<ElectionId, String> {
    let bytes: [u8; 32] = tabella_crypto::group::text::from_hex("election id", text)
        .map_err(|e| format!("{e}: an election id is 64 lowercase hex digits"))?;
    Ok(ElectionId(bytes))
}

/// Runs a `tabella credentials` command.
///
/// # Errors
/// A roll, directory or setting that is refused, in words; a failed delivery is not an error
/// (it is in the report), but the command exits non-zero when any failed.
pub fn run(command: &CredentialsCommand) -> anyhow::Result<bool> {
    match command {
        CredentialsCommand::Generate(args) => generate(args).map(|()| true),
        CredentialsCommand::Replace(args) => replace(args).map(|()| true),
        CredentialsCommand::Send(args) => send(args),
    }
}

/// A progress bar for `len` steps, labelled `message`.
pub(crate) fn progress_bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.roll)
        .with_context(|| format!("could not read {}", args.roll.display()))?;
    let roll =
        Roll::parse(&bytes).with_context(|| format!("{} is refused", args.roll.display()))?;
    let (election_id, service_title, service_booth) = match (&args.election, &args.url) {
        (Some(id), _) => (*id, None, None),
        (None, Some(url)) => {
            let client = ElectionClient::new(url, None)?;
            let info = client.election()?;
            (
                info.election_id,
                Some(info.manifest.title),
                Some(format!("{}/booth", client.base_url())),
            )
        }
        (None, None) => bail!("give the election id (--election) or the service (--url)"),
    };
    let letter_text = match &args.letter_text {
        Some(path) => {
            let text = std::fs::read(path)
                .with_context(|| format!("could not read {}", path.display()))?;
            serde_json::from_slice::<LetterText>(&text)
                .with_context(|| format!("{} is not a letter text (JSON)", path.display()))?
        }
        None => LetterText::default(),
    };
    let title = args.title.clone().or(service_title);
    let booth_url = args.booth_url.clone().or(service_booth);
    let notice = match (title, booth_url) {
        (Some(title), Some(booth_url)) => Some(ElectionNotice {
            title,
            booth_url,
            opens: args.opens.clone(),
            closes: args.closes.clone(),
            contact: args.contact.clone(),
        }),
        (None, None) if args.no_letters => None,
        _ => bail!(
            "the letters and e-mails need the election's title (--title) and the booth's \
             address (--booth-url); with --url both default to the service's"
        ),
    };
    let started = Instant::now();
    let bar = progress_bar(roll.voters.len() as u64, "drawing codes, deriving keys");
    let generated = super::generate(
        &roll,
        &args.out,
        &GenerateOptions {
            election_id,
            notice,
            letter_text,
            letters: !args.no_letters,
            letters_per_file: args.letters_per_file,
        },
        &|| bar.inc(1),
    )?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let summary = &generated.summary;
    println!(
        "Credentials generated for {} voters in {:.1?} ({:.0} voters/s on {} threads).",
        summary.voters,
        elapsed,
        summary.voters as f64 / elapsed.as_secs_f64().max(1e-9),
        rayon::current_num_threads()
    );
    let dir = &generated.dir;
    println!("election            {}", summary.election_id);
    println!("roll digest         {}", summary.roll_digest);
    println!("credentials digest  {}", summary.credentials_digest);
    println!();
    println!(
        "public, to upload:  {}",
        dir.join(super::PUBLIC_LIST).display()
    );
    println!(
        "private (0600):     {} (every voter's code: keep it offline)",
        dir.join(super::CODES).display()
    );
    for letters in &summary.letters {
        println!(
            "private (0600):     {} (letters to print)",
            dir.join(letters).display()
        );
    }
    println!();
    println!("Next:");
    println!(
        "  officials:  tabella election import-credentials --list {}",
        shell_path(&dir.join(super::PUBLIC_LIST))
    );
    println!(
        "  registrar:  publish the credentials digest above, print the letters, and/or \
         tabella credentials send --dir {} --smtp-url URL --from ADDRESS",
        shell_path(dir)
    );
    Ok(())
}

fn replace(args: &ReplaceArgs) -> anyhow::Result<()> {
    let replaced = super::replace(&args.dir, &args.voter)?;
    let r = &replaced.replacement;
    println!(
        "Credential of voter {} replaced (replacement {}): a new code was drawn; the old key \
         leaves the list and the new one enters it.",
        args.voter, replaced.number
    );
    println!("removed key         {}", r.removed);
    println!("added key           {}", r.added);
    println!(
        "credentials digest  {} (was {})",
        hex::encode(r.digest),
        hex::encode(r.previous_digest)
    );
    if let Some(letter) = &replaced.letter {
        println!("new letter          {} (0600)", letter.display());
    }
    println!();
    println!("Next (replacements are uploaded in order):");
    println!(
        "  officials:  tabella election replace-credential --replacement {}",
        shell_path(&replaced.path)
    );
    println!(
        "  registrar:  deliver the new letter, or tabella credentials send --dir {} --only {} \
         --smtp-url URL --from ADDRESS",
        shell_path(&args.dir),
        args.voter
    );
    Ok(())
}

fn send(args: &SendArgs) -> anyhow::Result<bool> {
    let template = args
        .template
        .as_deref()
        .map(MailTemplate::from_file)
        .transpose()?;
    let transport = match (&args.smtp_url, &args.outbox) {
        (Some(url), _) => {
            let mut settings = MailSettings::new(url.clone(), args.from.clone());
            settings.attempts = args.attempts;
            settings.username = args.smtp_user.clone();
            settings.password = smtp_password(args.smtp_password_file.as_deref())?;
            if let Some(ca) = &args.smtp_ca_file {
                settings.extra_root_pem = Some(
                    std::fs::read(ca)
                        .with_context(|| format!("could not read {}", ca.display()))?,
                );
            }
            Transport::Smtp(settings)
        }
        (None, Some(dir)) => Transport::Outbox {
            dir: dir.clone(),
            from: args.from.clone(),
        },
        (None, None) => {
            bail!("give the SMTP server (--smtp-url) or an outbox directory (--outbox)")
        }
    };
    let started = Instant::now();
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message("e-mails handed over:");
    let mut failed = Vec::new();
    let summary = super::send(
        &args.dir,
        &SendOptions {
            transport,
            template,
            only: args.only.clone(),
            resend: args.resend,
        },
        &mut |d| {
            bar.inc(1);
            if d.status == super::mail::DeliveryStatus::Failed {
                failed.push(format!("{} <{}>: {}", d.voter_id, d.email, d.detail));
            }
        },
    )?;
    bar.finish_and_clear();
    println!(
        "E-mails: {} sent, {} failed in {:.1?}; {} already delivered (skipped), {} voters without \
         an address (letters only).",
        summary.sent,
        summary.failed,
        started.elapsed(),
        summary.already_sent,
        summary.no_address
    );
    for line in failed.iter().take(20) {
        println!("  failed: {line}");
    }
    if failed.len() > 20 {
        println!("  … and {} more", failed.len() - 20);
    }
    println!(
        "report              {} (one row per voter and run; run again to retry the failed ones)",
        args.dir.join(super::DELIVERY_REPORT).display()
    );
    Ok(summary.failed == 0)
}

/// The SMTP password: the first line of `file`, else `TABELLA_SMTP_PASSWORD`, else none.
fn smtp_password(file: Option<&Path>) -> anyhow::Result<Option<String>> {
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("could not read {}", file.display()))?;
        return Ok(Some(text.lines().next().unwrap_or("").to_owned()));
    }
    Ok(std::env::var("TABELLA_SMTP_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty()))
}

/// A path as a shell word.
fn shell_path(path: &Path) -> String {
    crate::election::shell_word(&path.display().to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: CredentialsCommand,
    }

    fn parse(args: &[&str]) -> Result<CredentialsCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("credentials").chain(args.iter().copied()))
            .map(|c| c.command)
    }

    const ELECTION: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

    #[test]
    fn the_commands_parse_and_require_what_they_need() {
        let command = parse(&[
            "generate",
            "--roll",
            "r.csv",
            "--out",
            "d",
            "--election",
            ELECTION,
            "--title",
            "T",
            "--booth-url",
            "https://b",
        ])
        .unwrap();
        assert!(matches!(
            command,
            CredentialsCommand::Generate(GenerateArgs { election: Some(ElectionId(id)), .. })
                if id == [0x5a; 32]
        ));
        for bad in [
            &["generate", "--roll", "r.csv", "--out", "d"][..],
            &[
                "generate",
                "--roll",
                "r.csv",
                "--out",
                "d",
                "--election",
                "5A",
            ],
            &["generate", "--out", "d", "--election", ELECTION],
            &["replace", "--dir", "d"],
            &["send", "--dir", "d", "--from", "a@b"],
            &[
                "send",
                "--dir",
                "d",
                "--smtp-url",
                "smtp://h",
                "--outbox",
                "o",
                "--from",
                "a@b",
            ],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&["send", "--dir", "d", "--outbox", "o", "--from", "a@b"]).is_ok());
    }

    #[test]
    fn a_refused_roll_is_reported_with_its_line_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let roll = dir.path().join("roll.csv");
        std::fs::write(&roll, "voter_id\n\"v-001\nv-002\nv-003\n").unwrap();
        let out = dir.path().join("out");
        let command = parse(&[
            "generate",
            "--roll",
            roll.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--election",
            ELECTION,
            "--no-letters",
        ])
        .unwrap();
        let error = run(&command).unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("roll.csv is refused"), "{text}");
        assert!(
            text.contains("line 2: a quoted field opens here and is never closed"),
            "{text}"
        );
        assert!(!out.exists());
        // Letters without the title and the booth's address are refused before any work.
        std::fs::write(&roll, "voter_id\nv-1\n").unwrap();
        let command = parse(&[
            "generate",
            "--roll",
            roll.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--election",
            ELECTION,
        ])
        .unwrap();
        let text = format!("{:#}", run(&command).unwrap_err());
        assert!(text.contains("--booth-url"), "{text}");
        assert!(!out.exists());
    }
}
