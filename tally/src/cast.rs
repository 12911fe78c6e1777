//! `tabella cast`: one voter casts a ballot, on the voter's own machine.
//!
//! The ballot is encrypted and proven here, from the election's signed parameters (fetched from
//! the service with `--server`, or read from a saved `election.json` with `--parameters` when the
//! service cannot be reached), the voter's credential code and choices. It then goes to the
//! board over HTTP (a signed receipt comes back and is checked), or with `--fallback` straight to
//! the registry contract (spec/anchoring.md ANCHOR-FALLBACK-1): the chain stores its tracking code
//! and publishes its bytes, and the service must put it on the board at the close.

use std::fs;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _};
use clap::Args;
use rand::rngs::OsRng;
use tabella_contracts::Registry;
use tabella_crypto::ballot::ElectionContext;
use tabella_crypto::board::BoardKey;
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::manifest::{ContestStyle, Manifest};
use tabella_crypto::record::SignedElectionParameters;

use crate::chain::{ChainArgs, SignerArgs};
use crate::client::ElectionClient;

/// `tabella cast`.
#[derive(Debug, Args)]
#[command(after_long_help = CAST_HELP)]
pub struct CastArgs {
    /// The election service's base URL.
    #[arg(long, value_name = "URL", required_unless_present = "parameters")]
    pub server: Option<String>,
    /// The election's signed parameters (election.json of the record or of the publication),
    /// instead of asking the service for them.
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    /// The board key you expect (64 hex digits, from the election's publication): the
    /// parameters must be signed by it.
    #[arg(long, value_name = "HEX")]
    pub board_key: Option<String>,
    /// Your credential code, as printed on your voting card.
    #[arg(
        long,
        value_name = "CODE",
        env = "TABELLA_CREDENTIAL_CODE",
        hide_env_values = true
    )]
    pub code: String,
    /// A choice: CONTEST=SELECTION (one point to that selection; repeat for approval voting), or
    /// CONTEST=SELECTION:POINTS for score and cumulative contests. Selections not named get 0.
    #[arg(
        long = "choice",
        value_name = "CONTEST=SELECTION[:POINTS]",
        required = true
    )]
    pub choices: Vec<String>,
    /// Cast through the registry contract instead of the board (when the board refuses you or
    /// is down). Needs --chain-dir or --rpc-url, and a signer key for the transaction fee.
    #[arg(long)]
    pub fallback: bool,
    /// Where the chain is (with --fallback).
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Who pays for the fallback transaction.
    #[command(flatten)]
    pub signer: SignerArgs,
}

const CAST_HELP: &str = "\
The ballot is encrypted on this machine; nothing but the encrypted ballot leaves it. The command
prints the ballot's tracking code: keep it to look the ballot up on the board (or, after a
fallback cast, on the chain and then on the board once voting has closed).

Examples:
  tabella cast --server http://127.0.0.1:8080 --code XXXX-... --choice mayor=alice
  tabella cast --parameters election.json --code XXXX-... --choice mayor=alice \\
      --fallback --rpc-url http://127.0.0.1:8545 --registry 0x... --signer-key-file key.hex";

/// Runs `tabella cast`.
pub fn run(args: &CastArgs) -> anyhow::Result<()> {
    let client = args
        .server
        .as_deref()
        .map(|url| ElectionClient::new(url, None))
        .transpose()?;
    let signed = match (&args.parameters, &client) {
        (Some(path), _) => {
            let bytes = fs::read(path)
                .with_context(|| format!("could not read the parameters {}", path.display()))?;
            serde_json::from_slice::<SignedElectionParameters>(&bytes).with_context(|| {
                format!("{} is not an election's signed parameters", path.display())
            })?
        }
        (None, Some(client)) => client.election_parameters().with_context(|| {
            format!(
                "could not fetch the election parameters from {}",
                client.base_url()
            )
        })?,
        (None, None) => bail!("give --server URL or --parameters FILE"),
    };
    check_parameters(&signed, args.board_key.as_deref())?;
    let params = &signed.parameters;
    let ctx = ElectionContext::new(
        params.election_id,
        params.manifest.clone(),
        params.joint_key,
    )
    .context("the election's manifest is not valid")?;
    let choices = parse_choices(&params.manifest, &args.choices)?;
    let code = CredentialCode::parse(args.code.trim())
        .map_err(|err| anyhow!("the credential code is not valid: {err}"))?;
    let secret = CredentialSecret::derive(&code, &params.election_id.0);
    let (ballot, _) = ctx
        .encrypt_ballot(&choices, &secret, &mut OsRng)
        .map_err(|err| anyhow!("these choices make no valid ballot: {err}"))?;
    let bytes = ballot.to_bytes().to_vec();
    let tracking = ballot.tracking_code();
    println!("tracking code: {}", hex::encode(tracking.0));

    if args.fallback {
        return cast_fallback(args, &signed, &bytes);
    }
    let Some(client) = client else {
        bail!("casting on the board needs --server URL (or use --fallback)");
    };
    let (receipt, new) = client
        .cast(&bytes)
        .with_context(|| format!("the board at {} did not take the ballot", client.base_url()))?;
    receipt
        .verify(&params.board_key)
        .map_err(|err| anyhow!("the board's receipt does not verify: {err}"))?;
    println!(
        "cast: board entry {}{}; the receipt is signed by the board (tree size {})",
        receipt.index,
        if new { "" } else { " (already on the board)" },
        receipt.tree_head.head.size
    );
    Ok(())
}

/// Sends the ballot to the registry contract.
fn cast_fallback(
    args: &CastArgs,
    signed: &SignedElectionParameters,
    bytes: &[u8],
) -> anyhow::Result<()> {
    if !args.chain.given() {
        bail!(
            "--fallback needs the chain: --rpc-url URL (or --chain-dir DIR for the embedded chain)"
        );
    }
    let signer = args.signer.signer()?;
    let runtime = crate::chain::runtime()?;
    runtime.block_on(async {
        let chain = args
            .chain
            .connect_for_writing()
            .await?
            .ok_or_else(|| anyhow!("--fallback needs --rpc-url or --chain-dir"))?;
        let address = match args.chain.registry {
            Some(address) => address,
            None => registry_from_service(args)?,
        };
        let registry = Registry::at(&chain, address);
        let receipt = registry
            .cast_fallback(&signer, signed.parameters.election_id.0, bytes)
            .await
            .with_context(|| {
                format!(
                    "the registry {} did not take the ballot",
                    registry.address_hex()
                )
            })?;
        println!(
            "cast through the registry {}: transaction 0x{} in block {} ({} gas); the board \
             takes it when voting closes",
            registry.address_hex(),
            hex::encode(receipt.hash),
            receipt.block_number,
            receipt.gas_used
        );
        Ok(())
    })
}

/// The registry the service names in its anchors, when `--registry` is not given.
fn registry_from_service(args: &CastArgs) -> anyhow::Result<[u8; 20]> {
    let server = args
        .server
        .as_deref()
        .ok_or_else(|| anyhow!("give --registry ADDRESS (from the election's publication)"))?;
    let client = ElectionClient::new(server, None)?;
    let anchors = client
        .anchors()
        .with_context(|| {
            format!("could not ask {server} which registry anchors the election; give --registry")
        })?
        .ok_or_else(|| {
            anyhow!("the service at {server} anchors nothing on chain: give --registry")
        })?;
    crate::chain::parse_address(&anchors.contract)
        .map_err(|err| anyhow!("the service names a bad registry address: {err}; give --registry"))
}

/// Checks the board's signature on the parameters, and the board key when one is expected.
fn check_parameters(
    signed: &SignedElectionParameters,
    expected: Option<&str>,
) -> anyhow::Result<()> {
    if !signed.signature_holds() {
        bail!("the election parameters are not signed by the board key they name");
    }
    if let Some(expected) = expected {
        let bytes: [u8; 32] = tabella_crypto::group::text::from_hex("board key", expected)
            .map_err(|_| anyhow!("--board-key: expected 64 lowercase hex digits"))?;
        let key = BoardKey::from_bytes(&bytes)
            .map_err(|_| anyhow!("--board-key is not a valid Ed25519 key"))?;
        if key != signed.parameters.board_key {
            bail!(
                "the election parameters are signed by the board key {}, not by the one you \
                 expect",
                hex::encode(signed.parameters.board_key.to_bytes())
            );
        }
    }
    Ok(())
}

/// Turns `CONTEST=SELECTION[:POINTS]` arguments into the ballot's choices: one vector per
/// contest, one value per selection, in manifest order.
pub fn parse_choices(manifest: &Manifest, args: &[String]) -> anyhow::Result<Vec<Vec<u64>>> {
    let mut choices: Vec<Vec<u64>> = manifest
        .contests
        .iter()
        .map(|c| vec![0; c.selections.len()])
        .collect();
    for arg in args {
        let (contest_id, rest) = arg
            .split_once('=')
            .ok_or_else(|| anyhow!("--choice {arg:?}: expected CONTEST=SELECTION[:POINTS]"))?;
        let (selection_id, points) =
            match rest.split_once(':') {
                Some((s, p)) => (
                    s,
                    Some(p.parse::<u64>().map_err(|_| {
                        anyhow!("--choice {arg:?}: the points must be a whole number")
                    })?),
                ),
                None => (rest, None),
            };
        let (c, contest) = manifest
            .contests
            .iter()
            .enumerate()
            .find(|(_, c)| c.id == contest_id)
            .ok_or_else(|| {
                anyhow!(
                    "--choice {arg:?}: no contest {contest_id:?}; the contests are {}",
                    list(manifest.contests.iter().map(|c| c.id.as_str()))
                )
            })?;
        let s = contest
            .selections
            .iter()
            .position(|s| s.id == selection_id)
            .ok_or_else(|| {
                anyhow!(
                    "--choice {arg:?}: contest {contest_id:?} has no selection {selection_id:?}; \
                     its selections are {}",
                    list(contest.selections.iter().map(|s| s.id.as_str()))
                )
            })?;
        let value = match (&contest.style, points) {
            (ContestStyle::Plurality | ContestStyle::Approval { .. }, Some(_)) => bail!(
                "--choice {arg:?}: contest {contest_id:?} takes a selection, not points"
            ),
            (_, Some(points)) => points,
            (ContestStyle::Score { .. } | ContestStyle::Cumulative { .. }, None) => bail!(
                "--choice {arg:?}: contest {contest_id:?} gives points: write {contest_id}={selection_id}:POINTS"
            ),
            (_, None) => 1,
        };
        if choices[c][s] != 0 {
            bail!("--choice {arg:?}: {contest_id}={selection_id} is chosen twice");
        }
        choices[c][s] = value;
    }
    Ok(choices)
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        serde_json::from_value(serde_json::json!({
            "title": "t",
            "contests": [
                {"id": "mayor", "title": "Mayor", "style": {"type": "plurality"},
                 "selections": [{"id": "alice", "label": "Alice"}, {"id": "bob", "label": "Bob"}]},
                {"id": "parks", "title": "Parks", "style": {"type": "score", "max_score": 5},
                 "selections": [{"id": "north", "label": "North"}, {"id": "south", "label": "South"}]}
            ]
        }))
        .expect("a valid manifest")
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn choices_follow_the_manifest() {
        let m = manifest();
        let c = parse_choices(&m, &args(&["mayor=bob", "parks=south:4"])).expect("valid");
        assert_eq!(c, vec![vec![0, 1], vec![0, 4]]);
    }

    #[test]
    fn bad_choices_are_explained() {
        let m = manifest();
        for (bad, words) in [
            ("mayor", "expected CONTEST=SELECTION"),
            ("governor=alice", "no contest \"governor\""),
            ("mayor=carol", "has no selection \"carol\""),
            ("mayor=alice:3", "takes a selection, not points"),
            ("parks=north", "gives points"),
            ("parks=north:x", "whole number"),
        ] {
            let err = parse_choices(&m, &args(&[bad])).unwrap_err().to_string();
            assert!(err.contains(words), "{bad}: {err}");
        }
        let twice = parse_choices(&m, &args(&["mayor=alice", "mayor=alice"]));
        assert!(twice.unwrap_err().to_string().contains("chosen twice"));
    }
}
