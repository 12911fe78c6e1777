//! `tabella`: Tabella's command-line tool.
//!
//! This file only parses the command line and reports errors; every command lives in the
//! `tabella_tally` library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tabella_tally::bench::{self, BenchCommand};
use tabella_tally::cast::{self, CastArgs};
use tabella_tally::ceremony::{self, CeremonyCommand};
use tabella_tally::demo::{self, DemoOptions};
use tabella_tally::election::{self, ElectionCommand};
use tabella_tally::registrar::cli::{self as credentials, CredentialsCommand};
use tabella_tally::service::{self, ServeOptions};
use tabella_tally::simulate::{self, SimulateOptions};
use tabella_tally::trustee::{self, TrusteeCommand};
use tabella_tally::verify::{self, VerifyArgs};

/// Tabella: private, verifiable voting.
#[derive(Debug, Parser)]
#[command(name = "tabella", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a whole election on embedded defaults through the real HTTP service: set-up, key
    /// ceremony, voters, close, tally ceremony, results, record export and checks; then keep
    /// serving until Ctrl-C (unless --no-serve).
    Demo(DemoOptions),
    /// Run the election service: bulletin board, ballots, receipts, ceremonies and tally.
    Serve(ServeOptions),
    /// The officials' steps against a running service: create, import-credentials,
    /// replace-credential, open, close, tally, status, export.
    #[command(subcommand)]
    Election(ElectionCommand),
    /// The registrar's side, offline: generate the voters' credentials (codes, letters, the
    /// public list), replace a lost one, e-mail them.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Cast ballots against a running service as independent voters would, and measure
    /// throughput and latency.
    Simulate(SimulateOptions),
    /// A trustee's side of the key and tally ceremonies, online (--url) or offline (--dir).
    #[command(subcommand)]
    Trustee(TrusteeCommand),
    /// The officials' and observers' side of the ceremonies: create, status, request, combine,
    /// and a ceremony service for trustees.
    #[command(subcommand)]
    Ceremony(CeremonyCommand),
    /// A voter casts one ballot, encrypted on this machine: on the board, or with --fallback
    /// through the registry contract on chain.
    Cast(CastArgs),
    /// Re-check an election record from its files alone (every check V1–V22 of
    /// spec/verification.md; V20–V21 against the chain with --chain-dir or --rpc-url, V22
    /// against a booth with --booth); exit status 0 only when every check passes.
    Verify(VerifyArgs),
    /// Benchmark workloads: synthesize a large valid election record.
    #[command(subcommand)]
    Bench(BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `Ok(false)`: the command ran and reported its failure itself (a record that does not
    // verify).
    let result = match &cli.command {
        Command::Demo(opts) => demo::run(opts).map(|()| true),
        Command::Serve(opts) => service::run(opts).map(|()| true),
        Command::Election(command) => election::run(command).map(|()| true),
        Command::Credentials(command) => credentials::run(command),
        Command::Simulate(opts) => simulate::run(opts).map(|()| true),
        Command::Trustee(command) => trustee::run(command).map(|()| true),
        Command::Ceremony(command) => ceremony::run(command).map(|()| true),
        Command::Cast(args) => cast::run(args).map(|()| true),
        Command::Verify(args) => verify::run(args),
        Command::Bench(command) => bench::run(command),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use tabella_tally::demo::ContestSet;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bench_record_defaults_and_absent_list() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["tabella", "bench", "record", "--voters", "10", "--out", "x"];
            argv.extend_from_slice(extra);
            let cli = Cli::try_parse_from(argv).expect("valid options parse");
            let Command::Bench(BenchCommand::Record(args)) = cli.command else {
                panic!("`bench record` parses as the bench record command");
            };
            args
        };
        let args = parse(&[]);
        assert_eq!(
            (
                args.seed,
                args.trustees,
                args.threshold,
                args.absent.clone()
            ),
            (1, 5, 3, vec![2])
        );
        assert_eq!((args.spoil_every, args.revote_every), (50, 33));
        assert!(args.manifest.is_none() && !args.verify);
        assert_eq!(parse(&["--absent"]).absent, Vec::<u32>::new());
        assert_eq!(parse(&["--absent", "1,4"]).absent, vec![1, 4]);
    }

    #[test]
    fn verify_rejects_a_malformed_board_key() {
        let error = Cli::try_parse_from(["tabella", "verify", "dir", "--board-key", "abc"])
            .expect_err("not a key");
        assert!(
            error.to_string().contains("64 lowercase hex digits"),
            "{error}"
        );
    }

    #[test]
    fn demo_defaults_match_documentation() {
        let cli = Cli::try_parse_from(["tabella", "demo"]).expect("`demo` alone parses");
        let Command::Demo(opts) = cli.command else {
            panic!("`demo` parses as the demo command");
        };
        assert_eq!(opts, DemoOptions::default());
    }

    #[test]
    fn the_demo_anchors_on_the_embedded_chain_unless_told_otherwise() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["tabella", "demo"];
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv).map(|cli| match cli.command {
                Command::Demo(opts) => opts,
                _ => panic!("`demo` parses as the demo command"),
            })
        };
        let opts = parse(&[]).expect("`demo` alone parses");
        assert!(!opts.no_chain && opts.rpc_url.is_none());
        assert!(parse(&["--no-chain"]).expect("--no-chain parses").no_chain);
        let opts = parse(&[
            "--rpc-url",
            "http://127.0.0.1:8545",
            "--signer-key-file",
            "k",
            "--registry",
            "0x5fbdb2315678afecb367f032d93f642f64180aa3",
        ])
        .expect("a real node parses");
        assert_eq!(opts.rpc_url.as_deref(), Some("http://127.0.0.1:8545"));
        // A real node needs the operator's key; --no-chain takes no chain option.
        assert!(parse(&["--rpc-url", "http://127.0.0.1:8545"]).is_err());
        assert!(parse(&[
            "--no-chain",
            "--rpc-url",
            "http://x",
            "--signer-key-file",
            "k"
        ])
        .is_err());
    }

    #[test]
    fn demo_options_parse() {
        let cli = Cli::try_parse_from([
            "tabella",
            "demo",
            "--voters",
            "50",
            "--seed",
            "9",
            "--contests",
            "plurality",
            "--trustees",
            "4",
            "--threshold",
            "2",
            "--absent",
            "1",
        ])
        .expect("valid options parse");
        let Command::Demo(opts) = cli.command else {
            panic!("`demo` parses as the demo command");
        };
        assert_eq!(
            opts,
            DemoOptions {
                voters: 50,
                seed: Some(9),
                contests: ContestSet::Plurality,
                trustees: 4,
                threshold: 2,
                absent: 1,
                ..DemoOptions::default()
            }
        );
    }
}
