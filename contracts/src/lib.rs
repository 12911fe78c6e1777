#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bindings;
mod chain;
mod error;
mod registry;
mod signer;

pub use chain::{
    Chain, EmbeddedChain, RpcChain, TxReceipt, BASE_FEE_PER_GAS, BLOCK_GAS_LIMIT, DEV_BALANCE_WEI,
    EMBEDDED_CHAIN_ID, PRIORITY_FEE_PER_GAS,
};
pub use error::{describe_revert, ChainError};
pub use registry::{
    fallback_digest, ElectionRegistration, OnChainElection, OnChainResult, Registry, RegistryLog,
    MAX_BALLOT_BYTES,
};
pub use signer::{Signer, DEV_ACCOUNTS};

/// The registry's creation bytecode as committed (`artifacts/TabellaRegistry.bin`: lowercase
/// hex, newline-terminated), compiled by `scripts/compile.js` with the pinned solc.
pub const REGISTRY_BYTECODE: &str = include_str!("../artifacts/TabellaRegistry.bin");

/// The registry's deployed (runtime) bytecode as committed
/// (`artifacts/TabellaRegistry.runtime.bin`): what `eth_getCode` returns at a registry's
/// address (the contract has no immutables).
pub const REGISTRY_RUNTIME_BYTECODE: &str =
    include_str!("../artifacts/TabellaRegistry.runtime.bin");

/// The registry's ABI as committed (`artifacts/TabellaRegistry.abi.json`).
pub const REGISTRY_ABI: &str = include_str!("../artifacts/TabellaRegistry.abi.json");

fn decode_artifact(name: &'static str, text: &str) -> Result<Vec<u8>, ChainError> {
    hex::decode(text.trim()).map_err(|e| ChainError::Decode {
        what: name,
        detail: e.to_string(),
    })
}

/// [`REGISTRY_BYTECODE`] decoded.
pub fn registry_bytecode() -> Result<Vec<u8>, ChainError> {
    decode_artifact("REGISTRY_BYTECODE", REGISTRY_BYTECODE)
}

/// [`REGISTRY_RUNTIME_BYTECODE`] decoded.
pub fn registry_runtime_bytecode() -> Result<Vec<u8>, ChainError> {
    decode_artifact("REGISTRY_RUNTIME_BYTECODE", REGISTRY_RUNTIME_BYTECODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared<T: Send + Sync + Clone>() {}
    fn send<T: Send>(_: T) {}

    #[test]
    fn handles_are_clone_send_and_sync() {
        shared::<Chain>();
        shared::<EmbeddedChain>();
        shared::<RpcChain>();
        shared::<Registry>();
        shared::<TxReceipt>();
        fn sync<T: Send + Sync>() {}
        sync::<Signer>();
        sync::<ChainError>();
    }

    #[test]
    fn futures_can_be_spawned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let chain = Chain::embedded(dir.path()).expect("chain");
        let signer = Signer::dev(0);
        let registry = Registry::at(&chain, [1; 20]);
        send(Registry::deploy(&chain, &signer));
        send(registry.checkpoint(&signer, [0; 32], 1, [0; 32], 0, [0; 64]));
        send(registry.cast_fallback(&signer, [0; 32], b"ballot"));
        send(registry.evidence([0; 32]));
        send(registry.verify_inclusion([0; 32], 1, 0, [0; 32], &[]));
        send(chain.time());
        send(Chain::rpc("http://127.0.0.1:9"));
    }

    #[test]
    fn artifacts_decode() {
        assert!(!registry_bytecode().expect("creation code").is_empty());
        assert!(!registry_runtime_bytecode()
            .expect("runtime code")
            .is_empty());
    }
}
