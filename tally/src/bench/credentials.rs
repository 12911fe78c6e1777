//! `tabella bench credentials`: what credentials cost at national scale (issue 15).
//!
//! Two stages, each timed on its own:
//!
//! 1. **generate**: the registrar's `tabella credentials generate` on a synthetic roll of
//!    `--voters` voters, into a temporary directory: a code drawn and an Argon2id key derived for
//!    every voter on every core, `codes.csv`, the public list and (unless `--no-letters`) the PDF
//!    letters. `--generate-voters` runs it on fewer voters and extrapolates (Argon2id dominates
//!    and every voter costs the same, so the time grows linearly).
//! 2. **import**: `--voters` public keys (drawn without Argon2id: the service's work does not
//!    depend on how they were made) uploaded through HTTP into a fresh election service on
//!    SQLite in a temporary directory, or on the PostgreSQL of `--database-url`, as `tabella
//!    election import-credentials` uploads them: the time from the request to the service's
//!    `201`; then the time to read the list back (`GET /v1/election/credentials`, every key
//!    decoded by the client), as the record export does.

use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use rayon::prelude::*;
use secrecy::SecretString;
use tabella_crypto::credential::{CredentialSecret, PublicCredentialList};

use crate::client::ElectionClient;
use crate::registrar::letters::LetterText;
use crate::registrar::roll::{Roll, RollEntry};
use crate::registrar::{self, ElectionNotice, GenerateOptions};
use crate::service::{self, Limits, ServiceConfig};

/// `tabella bench credentials`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// Voters: the roll's size and the number of public keys imported.
    #[arg(long, default_value_t = 1_000_000)]
    pub voters: u64,
    /// Generate codes and keys for this many voters only, and extrapolate to --voters (0: skip
    /// the generate stage).
    #[arg(long, value_name = "N")]
    pub generate_voters: Option<u64>,
    /// Generate no letters.
    #[arg(long)]
    pub no_letters: bool,
    /// Skip the import stage.
    #[arg(long)]
    pub no_import: bool,
    /// Import into this PostgreSQL database (`postgres://…`; it must be empty) instead of SQLite.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Print one JSON object per stage instead of words.
    #[arg(long)]
    pub json: bool,
}

/// One stage's measurement.
#[derive(Debug, serde::Serialize)]
struct Stage {
    workload: &'static str,
    stage: &'static str,
    voters: u64,
    seconds: f64,
    voters_per_s: f64,
    threads: usize,
    /// For an extrapolated stage: the voters actually measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    measured_voters: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
}

impl Stage {
    fn print(&self, json: bool) -> anyhow::Result<()> {
        if json {
            println!("{}", serde_json::to_string(self)?);
            return Ok(());
        }
        let extrapolated = match self.measured_voters {
            Some(m) => format!(" (extrapolated from {m} voters measured)"),
            None => String::new(),
        };
        let on = self.backend.map(|b| format!(" on {b}")).unwrap_or_default();
        println!(
            "{:<28} {:>9} voters{on} in {:>9.2} s: {:>10.0} voters/s, {} threads{extrapolated}",
            self.stage, self.voters, self.seconds, self.voters_per_s, self.threads
        );
        Ok(())
    }
}

/// Runs the benchmark.
///
/// # Errors
/// A stage that fails (a refused import, a full disk…).
pub fn run(args: &CredentialsArgs) -> anyhow::Result<bool> {
    let threads = rayon::current_num_threads();
    let generate_voters = args.generate_voters.unwrap_or(args.voters);
    if generate_voters > 0 {
        generate(args, generate_voters, threads)?.print(args.json)?;
    }
    if !args.no_import {
        for stage in import(args, threads)? {
            stage.print(args.json)?;
        }
    }
    Ok(true)
}

fn generate(args: &CredentialsArgs, voters: u64, threads: usize) -> anyhow::Result<Stage> {
    let roll = Roll {
        voters: (1..=voters)
            .map(|i| RollEntry {
                voter_id: format!("voter-{i:08}"),
                name: Some(format!("Voter {i}")),
                email: None,
                line: i + 1,
            })
            .collect(),
    };
    let work = tempfile::Builder::new()
        .prefix("tabella-bench-credentials-")
        .tempdir()
        .context("could not make a temporary directory")?;
    let bar = crate::registrar::cli::progress_bar(voters, "drawing codes, deriving keys");
    let started = Instant::now();
    let generated = registrar::generate(
        &roll,
        &work.path().join("registrar"),
        &GenerateOptions {
            election_id: tabella_crypto::ballot::ElectionId([0x42; 32]),
            notice: Some(ElectionNotice {
                title: "Benchmark election".into(),
                booth_url: "https://vote.example.org/booth".into(),
                opens: Some("1 March 2027, 8:00".into()),
                closes: Some("7 March 2027, 20:00".into()),
                contact: Some("Election Office, 01234 567890".into()),
            }),
            letter_text: LetterText::default(),
            letters: !args.no_letters,
            letters_per_file: registrar::LETTERS_PER_FILE,
        },
        &|| bar.inc(1),
    )?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let mut bytes = 0;
    for entry in std::fs::read_dir(&generated.dir)? {
        bytes += entry?.metadata()?.len();
    }
    let per_voter = seconds / voters as f64;
    let extrapolated = voters != args.voters;
    Ok(Stage {
        workload: "credentials",
        stage: if args.no_letters {
            "generate (codes, keys)"
        } else {
            "generate (codes, keys, letters)"
        },
        voters: args.voters,
        seconds: per_voter * args.voters as f64,
        voters_per_s: 1.0 / per_voter,
        threads,
        measured_voters: extrapolated.then_some(voters),
        backend: None,
        bytes: (!extrapolated).then_some(bytes),
    })
}

fn import(args: &CredentialsArgs, threads: usize) -> anyhow::Result<Vec<Stage>> {
    let voters = args.voters;
    let drawing = Instant::now();
    let keys: Vec<_> = (0..voters)
        .into_par_iter()
        .map(|i| {
            let mut seed = [7u8; 32];
            seed[..8].copy_from_slice(&i.to_le_bytes());
            CredentialSecret::insecure_from_seed(&seed).public()
        })
        .collect();
    let drawn = drawing.elapsed();
    let work = tempfile::Builder::new()
        .prefix("tabella-bench-import-")
        .tempdir()
        .context("could not make a temporary directory")?;
    let (database_url, backend) = match &args.database_url {
        Some(url) => (url.clone(), "PostgreSQL"),
        None => (service::sqlite_url(work.path()), "SQLite"),
    };
    let token = "bench-token";
    let running = service::spawn(
        ServiceConfig {
            database_url,
            board_key: service::load_or_create_board_key(&work.path().join("board.key"))?,
            admin_token: Some(SecretString::from(token)),
            limits: Limits::default(),
            anchoring: None,
            booth: None,
        },
        "127.0.0.1:0",
    )?;
    let client = ElectionClient::new(&running.url(), Some(token.to_owned()))?;
    let (info, _) = client.create(&super::p10())?;
    let list = PublicCredentialList::new(info.election_id, keys);
    let body = serde_json::to_vec(&list)?.len() as u64;
    if !args.json {
        println!(
            "{voters} public keys drawn in {:.1?} (no Argon2id); uploading {} of JSON",
            drawn,
            crate::verify::size(body)
        );
    }
    let started = Instant::now();
    let imported = client.import_credentials(&list)?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        imported.voters == voters,
        "the service imported {} keys, not {voters}",
        imported.voters
    );
    let stage = |stage, seconds: f64, bytes| Stage {
        workload: "credentials",
        stage,
        voters,
        seconds,
        voters_per_s: voters as f64 / seconds.max(1e-9),
        threads,
        measured_voters: None,
        backend: Some(backend),
        bytes,
    };
    let mut stages = vec![stage("import (HTTP, checked)", seconds, Some(body))];
    // Reading the list back, as the record export and `GET /v1/election/credentials` do.
    let started = Instant::now();
    let back = client.credentials()?;
    anyhow::ensure!(back.credentials.len() as u64 == voters);
    stages.push(stage(
        "read back (HTTP)",
        started.elapsed().as_secs_f64(),
        None,
    ));
    running.shutdown()?;
    Ok(stages)
}
