//! `tabella`: Tabella's command-line tool.
//!
//! This file only parses the command line and reports errors; every command lives in the
//! `tabella_tally` library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tabella_tally::demo::{self, DemoOptions};

/// Tabella: private, verifiable voting.
#[derive(Debug, Parser)]
#[command(name = "tabella", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a whole election in memory on embedded defaults: keys, ballots, proofs, tally and
    /// verification of the record.
    Demo(DemoOptions),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Demo(opts) => demo::run(opts),
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
        let Command::Demo(opts) = cli.command;
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
        ])
        .expect("valid options parse");
        let Command::Demo(opts) = cli.command;
        assert_eq!(
            opts,
            DemoOptions {
                voters: 50,
                seed: Some(9),
                contests: ContestSet::Plurality,
            }
        );
    }
}
