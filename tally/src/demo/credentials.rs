//! The demo's registrar: the voters' credentials made off the election server, exactly as
//! `tabella credentials generate` makes them (spec/credentials.md §7), delivered as PDF letters
//! and e-mails, and only the public credential list imported into the service.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::manifest::Manifest;

use super::DemoOptions;
use crate::api::IssuedCredential;
use crate::client::ElectionClient;
use crate::registrar::letters::LetterText;
use crate::registrar::mail::MailSettings;
use crate::registrar::roll::Roll;
use crate::registrar::{self, ElectionNotice, GenerateOptions, Registrar, SendOptions, Transport};

/// The sender of the demo's e-mails.
pub const DEMO_SENDER: &str = "Tabella demonstration <elections@demo.tabella.example>";

/// The demo's roll: `voter-000001` … with a name and an address at example.org, as CSV (read
/// back through the registrar's strict parser, as a real roll would be).
fn roll(voters: u64) -> anyhow::Result<Roll> {
    let mut csv = String::from("voter_id,name,email\n");
    for i in 1..=voters {
        csv.push_str(&format!(
            "voter-{i:06},Demo Voter {i},voter-{i:06}@example.org\n"
        ));
    }
    Ok(Roll::parse(csv.as_bytes())?)
}

/// Generates the credentials in `DATA_DIR/registrar`, prints the letters, sends the e-mails
/// (through `--smtp-url`, or into the registrar's outbox), imports the public list into the
/// service, and returns the codes the voters received (what their letters say).
pub(super) fn registrar_step(
    opts: &DemoOptions,
    data_dir: &Path,
    manifest: &Manifest,
    url: &str,
    election_id: ElectionId,
    officials: &ElectionClient,
) -> anyhow::Result<Vec<IssuedCredential>> {
    let dir = data_dir.join("registrar");
    let roll = roll(opts.voters)?;
    let notice = ElectionNotice {
        title: manifest.title.clone(),
        booth_url: format!("{url}/booth"),
        opens: Some("as soon as the demonstration's key ceremony is done".to_owned()),
        closes: Some("when the demonstration's officials close it".to_owned()),
        contact: manifest.contact.clone(),
    };
    let started = Instant::now();
    let bar = ProgressBar::new(opts.voters);
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("drawing codes, deriving keys");
    let generated = registrar::generate(
        &roll,
        &dir,
        &GenerateOptions {
            election_id,
            notice: Some(notice),
            letter_text: LetterText::default(),
            letters: true,
            letters_per_file: registrar::LETTERS_PER_FILE,
        },
        &|| bar.inc(1),
    )
    .context("the registrar could not make the credentials")?;
    bar.finish_and_clear();
    println!(
        "registrar    {} voters: codes drawn and keys derived off the server in {:.1?}, roll \
         {}; letters {}",
        generated.summary.voters,
        started.elapsed(),
        generated.summary.roll_digest,
        generated
            .summary
            .letters
            .iter()
            .map(|f| dir.join(f).display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let transport = match &opts.smtp_url {
        Some(smtp) => {
            let mut settings = MailSettings::new(smtp.clone(), DEMO_SENDER);
            if let Some(ca) = &opts.smtp_ca_file {
                settings.extra_root_pem = Some(
                    std::fs::read(ca)
                        .with_context(|| format!("could not read {}", ca.display()))?,
                );
            }
            Transport::Smtp(settings)
        }
        None => Transport::Outbox {
            dir: dir.join("outbox"),
            from: DEMO_SENDER.to_owned(),
        },
    };
    let where_to = match &transport {
        Transport::Smtp(_) => opts.smtp_url.clone().unwrap_or_default(),
        Transport::Outbox { dir, .. } => format!("the outbox {}", dir.display()),
    };
    let started = Instant::now();
    let sent = registrar::send(
        &dir,
        &SendOptions {
            transport,
            template: None,
            only: Vec::new(),
            resend: false,
        },
        &mut |_| {},
    )
    .context("the registrar could not e-mail the voters")?;
    println!(
        "e-mails      {} sent to {where_to} in {:.1?} ({} failed); report {}",
        sent.sent,
        started.elapsed(),
        sent.failed,
        dir.join(registrar::DELIVERY_REPORT).display()
    );
    if sent.failed > 0 {
        anyhow::bail!(
            "{} e-mail(s) could not be delivered; see {}",
            sent.failed,
            dir.join(registrar::DELIVERY_REPORT).display()
        );
    }

    let started = Instant::now();
    let imported = officials.import_credentials(&generated.list)?;
    println!(
        "credentials  {} public keys imported in {:.1?}: the service never saw a code; \
         credential list {}",
        imported.voters,
        started.elapsed(),
        imported.credentials_digest
    );
    // The simulated voters read their codes from their letters: the registrar's codes.
    let registrar = Registrar::open(&dir)?;
    Ok(registrar
        .voters
        .iter()
        .map(|v| IssuedCredential {
            voter_id: v.voter_id.clone(),
            code: v.code.to_string(),
        })
        .collect())
}
