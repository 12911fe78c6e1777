//! [`Signer`]: the secp256k1 key that signs transactions.

use std::fmt;
use std::path::Path;

use alloy_consensus::{SignableTransaction, Signed, TxEip1559};
use alloy_primitives::{Address, B256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use zeroize::Zeroizing;

use crate::ChainError;

/// The private keys of Hardhat's default accounts (mnemonic
/// `test test test test test test test test test test test junk`, path
/// `m/44'/60'/0'/0/i`): public knowledge, for development chains only.
const DEV_KEYS: [&str; 10] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// The number of dev accounts ([`Signer::dev`]) the embedded chain prefunds.
pub const DEV_ACCOUNTS: usize = DEV_KEYS.len();

/// A transaction signer: a secp256k1 private key (alloy's [`PrivateKeySigner`]).
///
/// Neither `Clone` nor `Serialize`; `Debug` shows only the address. Share one with an `Arc`.
pub struct Signer {
    inner: PrivateKeySigner,
}

impl Signer {
    /// Parses a private key: 64 hex digits, with or without `0x`, surrounding whitespace
    /// ignored. Errors say what is wrong with the text, never what it was.
    pub fn from_hex(key: &str) -> Result<Self, ChainError> {
        let text = key.trim();
        let text = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        if text.len() != 64 {
            return Err(ChainError::InvalidKey {
                reason: "expected 32 bytes as 64 hex digits (optionally after 0x)",
            });
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text, bytes.as_mut_slice()).map_err(|_| ChainError::InvalidKey {
            reason: "not hexadecimal",
        })?;
        let inner = PrivateKeySigner::from_bytes(&B256::from(*bytes)).map_err(|_| {
            ChainError::InvalidKey {
                reason: "not a valid secp256k1 private key (zero or not below the group order)",
            }
        })?;
        Ok(Self { inner })
    }

    /// Reads a private key from a file holding it as hex (see [`from_hex`](Self::from_hex)).
    pub fn from_file(path: &Path) -> Result<Self, ChainError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
            ChainError::KeyFile {
                path: path.to_owned(),
                source,
            }
        })?);
        Self::from_hex(&text)
    }

    /// Dev account `index` (0 to 9): Hardhat's well-known test keys, which the embedded chain's
    /// genesis prefunds with 10,000 ETH each, as a Hardhat node does, so the same index works
    /// on both. Never use them on a public chain.
    ///
    /// # Panics
    /// If `index >= DEV_ACCOUNTS`; [`try_dev`](Self::try_dev) returns an error instead.
    pub fn dev(index: usize) -> Self {
        match Self::try_dev(index) {
            Ok(signer) => signer,
            Err(error) => panic!("{error}"),
        }
    }

    /// Dev account `index`, or [`ChainError::NoSuchDevAccount`].
    pub fn try_dev(index: usize) -> Result<Self, ChainError> {
        let key = DEV_KEYS.get(index).ok_or(ChainError::NoSuchDevAccount {
            index,
            count: DEV_ACCOUNTS,
        })?;
        Self::from_hex(key)
    }

    /// The account's address.
    pub fn address(&self) -> [u8; 20] {
        self.inner.address().into_array()
    }

    /// The account's address as `0x` and 40 lowercase hex digits.
    pub fn address_hex(&self) -> String {
        format!("0x{}", hex::encode(self.address()))
    }

    pub(crate) fn alloy_address(&self) -> Address {
        self.inner.address()
    }

    /// Signs an EIP-1559 transaction.
    pub(crate) fn sign(&self, tx: TxEip1559) -> Result<Signed<TxEip1559>, ChainError> {
        let signature = self
            .inner
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| ChainError::Rejected {
                reason: format!("signing failed: {e}"),
            })?;
        Ok(tx.into_signed(signature))
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("address", &self.address_hex())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_accounts_are_hardhats() {
        // The addresses Hardhat prints for `npx hardhat node`.
        let expected = [
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
            "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
            "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65",
            "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc",
            "0x976ea74026e726554db657fa54763abd0c3a0aa9",
            "0x14dc79964da2c08b23698b3d3cc7ca32193d9955",
            "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f",
            "0xa0ee7a142d267c1f36714e4a8f75612f20a79720",
        ];
        for (i, address) in expected.iter().enumerate() {
            assert_eq!(Signer::dev(i).address_hex(), *address);
        }
        assert!(matches!(
            Signer::try_dev(10),
            Err(ChainError::NoSuchDevAccount {
                index: 10,
                count: 10
            })
        ));
    }

    #[test]
    fn parse_key_with_or_without_prefix_and_whitespace() {
        let a = Signer::from_hex(DEV_KEYS[0]).expect("plain hex");
        let b = Signer::from_hex(&format!("  0x{}\n", DEV_KEYS[0])).expect("0x and whitespace");
        assert_eq!(a.address(), b.address());
    }

    #[test]
    fn reject_bad_keys_without_echoing_them() {
        let secret = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff";
        for bad in [
            secret.to_owned(),     // 63 digits
            format!("{secret}8z"), // 65 digits
            format!("{secret}z"),  // not hex
            "0".repeat(64),        // zero
            "f".repeat(64),        // not below the group order
            String::new(),
        ] {
            let error = Signer::from_hex(&bad).expect_err("bad key accepted");
            assert!(matches!(error, ChainError::InvalidKey { .. }));
            let message = error.to_string();
            assert!(!message.contains(&secret[..16]), "key echoed: {message}");
        }
    }

    #[test]
    fn debug_shows_only_the_address() {
        let shown = format!("{:?}", Signer::dev(0));
        assert!(shown.contains("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"));
        assert!(!shown.contains(&DEV_KEYS[0][..16]));
    }

    #[test]
    fn read_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        std::fs::write(&path, format!("0x{}\n", DEV_KEYS[1])).expect("write");
        assert_eq!(
            Signer::from_file(&path).expect("key file").address(),
            Signer::dev(1).address()
        );
        let missing = Signer::from_file(&dir.path().join("missing"));
        assert!(matches!(missing, Err(ChainError::KeyFile { .. })));
    }
}
