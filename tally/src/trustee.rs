//! `tabella trustee …`: a trustee's side of the key and tally ceremonies.
//!
//! A trustee holds one secret, its identity key, sealed in a passphrase-protected key file
//! (Argon2id + XChaCha20-Poly1305). Everything else it needs is public and re-read from the
//! ceremony's messages: its key share is recomputed from its envelopes at tally time, so a
//! trustee laptop keeps no other state between steps. Each command prints, in plain words, what
//! the trustee has just signed.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::ceremony::{
    check_shares, deal, partial_decrypt, CeremonyParams, CheckMessage, DealerMessage,
    DealerVerdict, KeyShare, PartialDecryptionMessage, TallyRequest, TrusteeIdentity,
};
use tabella_crypto::keystore::{seal, KdfParams, SealedSecret};
use zeroize::Zeroizing;

use crate::ceremony::{
    check_name, dealer_name, list, load, load_dealers, load_params, partial_name, publish, require,
    wait_up_to, KeyCeremony, Location, TALLY_REQUEST,
};
use crate::messages::{MessageStore, Stored};

/// What is sealed in a trustee key file (authenticated with it).
pub const KEY_LABEL: &str = "tabella trustee identity key";

/// The trustee's key file and how to unlock it.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// The trustee's key file.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    /// Read the passphrase from this file (first line) instead of asking for it. The
    /// TABELLA_PASSPHRASE environment variable also works.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// `tabella trustee …`.
#[derive(Debug, Subcommand)]
pub enum TrusteeCommand {
    /// Create your identity key file and your signed announcement for an election.
    Init {
        /// Your key file (created; never overwritten).
        #[command(flatten)]
        key: KeyArgs,
        /// The election id (64 hex digits) given by the officials.
        #[arg(long, value_name = "HEX")]
        election: String,
        /// Your name as officials and observers will see it.
        #[arg(long)]
        name: String,
        /// Where to write the announcement to hand to the officials.
        #[arg(long, value_name = "FILE")]
        announcement: PathBuf,
    },
    /// Show the public identity key in a key file (checks the passphrase).
    Show {
        /// Your key file.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Key ceremony, step 1: deal your secret polynomial's shares to every trustee.
    Deal {
        /// Your key file.
        #[command(flatten)]
        key: KeyArgs,
        /// The ceremony's messages.
        #[command(flatten)]
        location: Location,
    },
    /// Key ceremony, step 2: check the shares dealt to you and publish your confirmation or
    /// complaints.
    Check {
        /// Your key file.
        #[command(flatten)]
        key: KeyArgs,
        /// The ceremony's messages.
        #[command(flatten)]
        location: Location,
    },
    /// Tally ceremony: decrypt your share of each aggregate total, with proofs.
    Decrypt {
        /// Your key file.
        #[command(flatten)]
        key: KeyArgs,
        /// The ceremony's messages.
        #[command(flatten)]
        location: Location,
    },
}

/// Runs a `tabella trustee` command, printing a summary of what was signed.
pub fn run(command: &TrusteeCommand) -> anyhow::Result<()> {
    let summary = match command {
        TrusteeCommand::Init {
            key,
            election,
            name,
            announcement,
        } => {
            let election = tabella_crypto::group::text::from_hex::<32>("election id", election)
                .map(ElectionId)
                .map_err(|_| anyhow!("--election must be 64 lowercase hex digits (32 bytes)"))?;
            let passphrase = passphrase(key, true)?;
            init(
                &key.key,
                &passphrase,
                KdfParams::DEFAULT,
                election,
                name,
                announcement,
            )?
        }
        TrusteeCommand::Show { key } => {
            let identity = unlock(&key.key, &passphrase(key, false)?)?;
            format!(
                "Identity key {} (the passphrase is correct).",
                hex::encode(identity.public_key().to_bytes())
            )
        }
        TrusteeCommand::Deal { key, location } => {
            let store = location.open(None)?;
            let identity = unlock(&key.key, &passphrase(key, false)?)?;
            deal_step(&*store, &identity)?
        }
        TrusteeCommand::Check { key, location } => {
            let store = location.open(None)?;
            let identity = unlock(&key.key, &passphrase(key, false)?)?;
            check_step(&*store, &identity, location.wait)?
        }
        TrusteeCommand::Decrypt { key, location } => {
            let store = location.open(None)?;
            let identity = unlock(&key.key, &passphrase(key, false)?)?;
            decrypt_step(&*store, &identity, location.wait, true)?
        }
    };
    println!("{summary}");
    Ok(())
}

/// The passphrase: `--passphrase-file`, then `TABELLA_PASSPHRASE`, then a prompt on the
/// terminal (twice when creating a key).
pub fn passphrase(args: &KeyArgs, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Some(path) = &args.passphrase_file {
        let text =
            Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                format!("could not read the passphrase file {}", path.display())
            })?);
        let line = text.lines().next().unwrap_or("");
        return Ok(Zeroizing::new(line.to_owned()));
    }
    if let Ok(value) = std::env::var("TABELLA_PASSPHRASE") {
        return Ok(Zeroizing::new(value));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: give --passphrase-file FILE or set TABELLA_PASSPHRASE (there is no terminal to ask on)");
    }
    let first = Zeroizing::new(rpassword::prompt_password(
        "Passphrase for the trustee key: ",
    )?);
    if confirm {
        let again = Zeroizing::new(rpassword::prompt_password("Repeat the passphrase: ")?);
        if *again != *first {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(first)
}

/// Creates a key file (never overwriting one) and the trustee's announcement.
pub fn init(
    key_file: &Path,
    passphrase: &str,
    kdf: KdfParams,
    election: ElectionId,
    name: &str,
    announcement_file: &Path,
) -> anyhow::Result<String> {
    if passphrase.chars().count() < 8 {
        bail!(
            "the passphrase is too short: use at least 8 characters (a few random words is best)"
        );
    }
    let rng = &mut rand::rngs::OsRng;
    let identity = TrusteeIdentity::generate(rng);
    let announcement = identity.announce(election, name, rng)?;
    let sealed = seal(
        KEY_LABEL,
        identity.secret_bytes().as_slice(),
        passphrase.as_bytes(),
        kdf,
        rng,
    )?;
    write_new(key_file, sealed.to_json().as_bytes())?;
    crate::ceremony::write_json(announcement_file, &announcement)?;
    Ok(format!(
        "You signed an announcement for election {election}: name {name:?}, identity key {}.\n\
         Your key file is {} (keep it offline and remember the passphrase: it cannot be recovered).\n\
         Give {} to the officials.",
        hex::encode(announcement.identity_key.to_bytes()),
        key_file.display(),
        announcement_file.display()
    ))
}

/// Writes a new file that must not exist yet, readable by its owner only.
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!(
                "{} already exists; a key file is never overwritten",
                path.display()
            )
        } else {
            anyhow!("could not create {}: {e}", path.display())
        }
    })?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Opens a key file. A wrong passphrase or an altered file is an error, never a panic.
pub fn unlock(key_file: &Path, passphrase: &str) -> anyhow::Result<TrusteeIdentity> {
    let text = std::fs::read_to_string(key_file)
        .with_context(|| format!("could not read the key file {}", key_file.display()))?;
    let sealed = SealedSecret::from_json(&text)
        .with_context(|| format!("{} is not a trustee key file", key_file.display()))?;
    if sealed.label != KEY_LABEL {
        bail!(
            "{} holds a {:?}, not a trustee identity key",
            key_file.display(),
            sealed.label
        );
    }
    let secret = sealed
        .open(passphrase.as_bytes())
        .with_context(|| format!("could not open {}", key_file.display()))?;
    TrusteeIdentity::from_secret_bytes(&secret)
        .map_err(|_| anyhow!("{} does not hold a valid identity key", key_file.display()))
}

fn whoami(params: &CeremonyParams, identity: &TrusteeIdentity) -> anyhow::Result<u32> {
    params.index_of(identity).map_err(|_| {
        anyhow!(
            "your identity key {} is not one of the trustees of ceremony {}",
            hex::encode(identity.public_key().to_bytes()),
            params.id()
        )
    })
}

fn published(stored: Stored, name: &str, store: &dyn MessageStore) -> String {
    match stored {
        Stored::Created => format!("Published {name} to {}.", store.describe()),
        Stored::AlreadyPresent => format!("{name} was already published in {}.", store.describe()),
    }
}

/// Key ceremony step 1.
pub fn deal_step(store: &dyn MessageStore, identity: &TrusteeIdentity) -> anyhow::Result<String> {
    let params = load_params(store)?;
    let me = whoami(&params, identity)?;
    let name = dealer_name(me);
    if let Some(existing) = load::<DealerMessage>(store, &name)? {
        mine(existing.dealer, me)
            .and_then(|()| existing.validate(&params, &mut rand::rngs::OsRng))
            .map_err(|reason| taken(&name, store, &reason))?;
        return Ok(format!(
            "You have already dealt: {name} (digest {}) is in {}. Nothing to do.",
            existing.digest(),
            store.describe()
        ));
    }
    let message = deal(&params, identity, &mut rand::rngs::OsRng)?;
    let stored = publish(store, &name, &message)?;
    let names: Vec<&str> = params.trustees.iter().map(|a| a.name.as_str()).collect();
    Ok(format!(
        "You signed, as trustee {me} of {} ({:?}) in ceremony {} for election {}:\n\
         - {} commitments to a fresh secret polynomial of degree {}, with a proof that you know its constant term;\n\
         - {} encrypted shares of it, one for each trustee ({}), each readable only with that trustee's key.\n\
         The polynomial itself was not kept: your share of the election key will be rebuilt from these messages.\n\
         {}",
        params.trustee_count(),
        params.trustees[me as usize - 1].name,
        params.id(),
        params.election_id,
        message.commitments.len(),
        params.threshold - 1,
        message.shares.len(),
        names.join(", "),
        published(stored, &name, store)
    ))
}

/// Key ceremony step 2.
pub fn check_step(
    store: &dyn MessageStore,
    identity: &TrusteeIdentity,
    wait: u64,
) -> anyhow::Result<String> {
    let params = load_params(store)?;
    let me = whoami(&params, identity)?;
    let name = check_name(me);
    if let Some(existing) = load::<CheckMessage>(store, &name)? {
        mine(existing.trustee, me)
            .and_then(|()| existing.validate(&params, &mut rand::rngs::OsRng))
            .map_err(|reason| taken(&name, store, &reason))?;
        return Ok(format!(
            "You have already checked your shares: {name} (digest {}) is in {}. Nothing to do.",
            existing.digest(),
            store.describe()
        ));
    }
    let dealers = load_dealers(store, &params, wait)?;
    let bar = bar(dealers.len() as u64, "checking shares");
    let (message, report) = check_shares(&params, identity, &dealers, &mut rand::rngs::OsRng)?;
    bar.finish_and_clear();
    let stored = publish(store, &name, &message)?;
    let mut lines = vec![format!(
        "You signed, as trustee {me} in ceremony {}, that you received these dealer messages:",
        params.id()
    )];
    for seen in &message.seen {
        lines.push(format!("  trustee {} message {}", seen.dealer, seen.digest));
    }
    let accepted: Vec<u32> = report
        .verdicts
        .iter()
        .filter(|(_, v)| *v == DealerVerdict::Accepted)
        .map(|(i, _)| *i)
        .collect();
    if !accepted.is_empty() {
        lines.push(format!(
            "and that the shares from trustee(s) {} are correct.",
            list(&accepted)
        ));
    }
    for (dealer, verdict) in &report.verdicts {
        match verdict {
            DealerVerdict::Accepted => {}
            DealerVerdict::Complained(problem) => lines.push(format!(
                "You complained against trustee {dealer}: its share for you {problem}. The complaint reveals the key of that one envelope, so anyone can check it; if it holds, trustee {dealer} is disqualified."
            )),
            DealerVerdict::InvalidMessage(reason) => lines.push(format!(
                "Trustee {dealer}'s message is invalid ({reason}); everyone can see this, so it will be disqualified without a complaint."
            )),
        }
    }
    lines.push(published(stored, &name, store));
    Ok(lines.join("\n"))
}

/// Tally ceremony: this trustee's partial decryption of the published request.
pub fn decrypt_step(
    store: &dyn MessageStore,
    identity: &TrusteeIdentity,
    wait: u64,
    show_progress: bool,
) -> anyhow::Result<String> {
    let ceremony = KeyCeremony::load(store, wait)?;
    let me = whoami(&ceremony.params, identity)?;
    let name = partial_name(me);
    wait_up_to(store, &[TALLY_REQUEST.to_owned()], wait)?;
    let request: TallyRequest = require(
        store,
        TALLY_REQUEST,
        "the officials publish it after the election closes; retry then, or pass --wait SECONDS",
    )?;
    if let Some(existing) = load::<PartialDecryptionMessage>(store, &name)? {
        mine(existing.trustee, me)
            .and_then(|()| {
                existing.validate(
                    &ceremony.params,
                    &ceremony.outcome,
                    &request,
                    &mut rand::rngs::OsRng,
                )
            })
            .map_err(|reason| taken(&name, store, &reason))?;
        return Ok(format!(
            "You have already decrypted: {name} (digest {}) is in {}. Nothing to do.",
            existing.digest(),
            store.describe()
        ));
    }
    let share = KeyShare::derive(
        &ceremony.params,
        &ceremony.outcome,
        &ceremony.dealers,
        identity,
    )
    .context("your key share could not be rebuilt")?;
    let bar = if show_progress {
        bar(request.items.len() as u64, "decrypting totals")
    } else {
        ProgressBar::hidden()
    };
    let message = partial_decrypt(
        &ceremony.params,
        &ceremony.outcome,
        &request,
        identity,
        &share,
        &mut rand::rngs::OsRng,
        |done| bar.set_position(done as u64),
    )?;
    bar.finish_and_clear();
    let stored = publish(store, &name, &message)?;
    let labels: Vec<&str> = request.items.iter().map(|i| i.label.as_str()).collect();
    Ok(format!(
        "You signed, as trustee {me}, partial decryptions of {} aggregate totals (tally request {}):\n  {}\n\
         Each is proved against your verification key {}. Check against the officials' published aggregates that every item is a total over the board, never a single ballot.\n\
         {}",
        request.items.len(),
        request.digest(),
        labels.join(", "),
        ceremony
            .outcome
            .verification_key(me)
            .map(|k| hex::encode(k.to_bytes()))
            .unwrap_or_default(),
        published(stored, &name, store)
    ))
}

/// Whether a message found under this trustee's name is by this trustee.
fn mine(author: u32, me: u32) -> Result<(), String> {
    if author == me {
        Ok(())
    } else {
        Err(format!("it is trustee {author}'s message"))
    }
}

/// The error for a message name that holds something other than this trustee's valid message.
fn taken(name: &str, store: &dyn MessageStore, reason: &str) -> anyhow::Error {
    anyhow!(
        "{name} in {} is not a valid message of yours ({reason}); messages are write-once, so \
         ask the officials to investigate and, if needed, to start a new ceremony",
        store.describe()
    )
}

fn bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
