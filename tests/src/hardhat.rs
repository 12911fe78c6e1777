//! A real local Ethereum node for the chain integration tests: Hardhat's node, from the npm
//! registry (pinned in `contracts/package.json`, installed by `npm ci` in `contracts/`).
//!
//! - When `TABELLA_TEST_RPC_URL` is set (as `.ci/run` does after starting a node on a loopback
//!   port), the tests use that node.
//! - Otherwise the first test that asks for a node starts one for the whole test process:
//!   `node contracts/node_modules/hardhat/internal/cli/bootstrap.js node --hostname 127.0.0.1
//!   --port P` on a free loopback port, from `contracts/` (its `hardhat.config.js` compiles
//!   nothing and downloads nothing).
//!
//! The node never outlives the test process: it runs under a small watchdog shell that holds
//! the read end of a pipe whose write end only the test process has. When the test process ends,
//! however it ends, the pipe closes and the watchdog stops the node's whole process group.
//!
//! Every test process shares one node, and its accounts: tests that send transactions use
//! distinct dev accounts (Hardhat's 20 well-known keys) so that their nonces never race.
//!
//! ```no_run
//! use tabella_tests::hardhat;
//!
//! // Some(node) with Hardhat; None (and a loud note on stderr) without it, unless CI=true or
//! // TABELLA_REQUIRE_HARDHAT=1, which turn its absence into a failure.
//! if let Some(node) = hardhat::node_or_skip("my_test") {
//!     let url = node.url(); // http://127.0.0.1:PORT
//!     # let _ = url;
//! }
//! ```

use std::env;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::process::{free_port, required, which, Supervised};

/// The environment variable that points the tests at a running node instead of a private one.
pub const RPC_URL_ENV: &str = "TABELLA_TEST_RPC_URL";

/// The environment variable that, set to `1`, makes a missing node a test failure rather than a
/// skip (as `CI=true` does).
pub const REQUIRE_ENV: &str = "TABELLA_REQUIRE_HARDHAT";

/// Hardhat's chain id (`contracts/hardhat.config.js`).
pub const CHAIN_ID: u64 = 31337;

/// How to get the node, for the error messages.
const INSTALL_HINT: &str = "run `npm ci` in contracts/ (Node.js 18 or later; Debian: \
     `apt-get install nodejs npm`), or set TABELLA_TEST_RPC_URL to a running Ethereum node";

/// How long the node may take to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How many ports to try when another process takes the chosen free port first.
const PORT_ATTEMPTS: usize = 5;

/// Why there is no node to test against.
#[derive(Debug, thiserror::Error)]
#[error("no Ethereum node for the chain tests: {0}")]
pub struct NodeUnavailable(String);

/// A running node.
#[derive(Debug)]
pub struct HardhatNode {
    url: String,
    _private: Option<Supervised>,
}

impl HardhatNode {
    /// The node's JSON-RPC URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The node for this test process, started on first use.
pub fn node() -> Result<&'static HardhatNode, NodeUnavailable> {
    static NODE: OnceLock<Result<HardhatNode, String>> = OnceLock::new();
    NODE.get_or_init(|| match env::var(RPC_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => external(url.trim()),
        _ => start(),
    })
    .as_ref()
    .map_err(|reason| NodeUnavailable(reason.clone()))
}

/// The node, or `None` with a note on stderr when there is none and none is required (neither
/// `CI=true` nor `TABELLA_REQUIRE_HARDHAT=1`).
///
/// # Panics
/// When there is no node and one is required.
pub fn node_or_skip(test: &str) -> Option<&'static HardhatNode> {
    match node() {
        Ok(node) => Some(node),
        Err(err) => {
            if let Some(why) = required(REQUIRE_ENV) {
                panic!("{err} ({why} requires the chain tests to run)");
            }
            eprintln!("SKIPPED {test}: {err}");
            None
        }
    }
}

/// The `contracts/` directory of the workspace.
fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new(".."))
        .join("contracts")
}

fn external(url: &str) -> Result<HardhatNode, String> {
    let addr = loopback_addr(url)?;
    let chain_id = chain_id(addr).map_err(|err| format!("{RPC_URL_ENV}={url}: {err}"))?;
    if chain_id != CHAIN_ID {
        return Err(format!(
            "{RPC_URL_ENV}={url} answers with chain id {chain_id}, not Hardhat's {CHAIN_ID}"
        ));
    }
    Ok(HardhatNode {
        url: url.to_owned(),
        _private: None,
    })
}

fn start() -> Result<HardhatNode, String> {
    let contracts = contracts_dir();
    let bootstrap = contracts.join("node_modules/hardhat/internal/cli/bootstrap.js");
    if !bootstrap.is_file() {
        return Err(format!(
            "{} is missing: {INSTALL_HINT}",
            bootstrap.display()
        ));
    }
    let node = which("node").ok_or_else(|| format!("`node` is not on PATH: {INSTALL_HINT}"))?;
    let mut last = String::new();
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port().map_err(|err| format!("cannot find a free port: {err}"))?;
        match start_on(&contracts, &node, &bootstrap, port) {
            Ok(node) => return Ok(node),
            Err(err) => last = err,
        }
    }
    Err(last)
}

fn start_on(
    contracts: &Path,
    node: &Path,
    bootstrap: &Path,
    port: u16,
) -> Result<HardhatNode, String> {
    let mut command = Command::new(node);
    command
        .arg(bootstrap)
        .args(["node", "--hostname", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .current_dir(contracts)
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .env("NO_COLOR", "1");
    let mut node = Supervised::spawn("hardhat", &command)?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match chain_id(addr) {
            Ok(CHAIN_ID) => {
                return Ok(HardhatNode {
                    url: format!("http://{addr}"),
                    _private: Some(node),
                })
            }
            Ok(other) => {
                return Err(format!(
                    "the node on {addr} answers with chain id {other}, not {CHAIN_ID}"
                ))
            }
            Err(_) if Instant::now() < deadline => {
                if let Some(status) = node.exited() {
                    return Err(format!(
                        "the node's watchdog exited ({status}){}",
                        node.log_tail()
                    ));
                }
                thread::sleep(Duration::from_millis(250));
            }
            Err(err) => {
                return Err(format!(
                    "the node on {addr} did not answer within {} s: {err}{}",
                    START_TIMEOUT.as_secs(),
                    node.log_tail()
                ))
            }
        }
    }
}

/// `http://127.0.0.1:PORT` (or `localhost`) as a socket address: the tests talk to loopback only.
fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{RPC_URL_ENV}={url}: expected http://127.0.0.1:PORT"))?;
    let host_port = rest.trim_end_matches('/');
    let (host, port) = host_port
        .rsplit_once(':')
        .ok_or_else(|| format!("{RPC_URL_ENV}={url}: expected http://127.0.0.1:PORT"))?;
    if host != "127.0.0.1" && host != "localhost" {
        return Err(format!(
            "{RPC_URL_ENV}={url}: the tests use a loopback node only"
        ));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{RPC_URL_ENV}={url}: bad port"))?;
    Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// `eth_chainId` over a plain HTTP/1.1 request (no client library needed for one call).
fn chain_id(addr: SocketAddr) -> Result<u64, String> {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|err| format!("cannot connect to {addr}: {err}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|err| err.to_string())?;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|err| format!("cannot send to {addr}: {err}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|err| format!("no answer from {addr}: {err}"))?;
    let hex = response
        .split("\"result\":\"0x")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| format!("{addr} did not answer eth_chainId: {response:.200}"))?;
    u64::from_str_radix(hex, 16).map_err(|_| format!("{addr} answered a bad chain id {hex:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_only() {
        assert_eq!(
            loopback_addr("http://127.0.0.1:8545").map(|a| a.port()),
            Ok(8545)
        );
        assert!(loopback_addr("http://localhost:8545/").is_ok());
        assert!(loopback_addr("https://127.0.0.1:8545").is_err());
        assert!(loopback_addr("http://10.0.0.1:8545").is_err());
        assert!(loopback_addr("http://127.0.0.1:notaport").is_err());
    }
}
