//! `tabella`: Tabella's command-line tool.
//!
//! This file only parses the command line and reports errors; every command lives in the
//! `tabella_tally` library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tabella_tally::ceremony::{self, CeremonyCommand};
use tabella_tally::demo::{self, DemoOptions};
use tabella_tally::election::{self, ElectionCommand};
use tabella_tally::service::{self, ServeOptions};
use tabella_tally::simulate::{self, SimulateOptions};
use tabella_tally::trustee::{self, TrusteeCommand};

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
    /// The officials' steps against a running service: create, import-roll, open, close, tally,
    /// status, export.
    #[command(subcommand)]
    Election(ElectionCommand),
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Demo(opts) => demo::run(opts),
        Command::Serve(opts) => service::run(opts),
        Command::Election(command) => election::run(command),
        Command::Simulate(opts) => simulate::run(opts),
        Command::Trustee(command) => trustee::run(command),
        Command::Ceremony(command) => ceremony::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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
    fn demo_defaults_match_documentation() {
        let cli = Cli::try_parse_from(["tabella", "demo"]).expect("`demo` alone parses");
        let Command::Demo(opts) = cli.command else {
            panic!("`demo` parses as the demo command");
        };
        assert_eq!(opts, DemoOptions::default());
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
