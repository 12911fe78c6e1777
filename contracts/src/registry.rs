//! [`Registry`]: the deployed registry contract on a [`Chain`], its transactions, views and the
//! [`ChainEvidence`] read back from its events.

use alloy_primitives::{Address, Bytes, FixedBytes, B256, U256};
use alloy_sol_types::{SolCall, SolEventInterface};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use tabella_crypto::record::{
    ChainCheckpoint, ChainDispute, ChainElection, ChainEvidence, ChainFallbackBallot, ChainResult,
};

use crate::bindings::TabellaRegistry as R;
use crate::chain::{hex20, hex32, LogEntry};
use crate::{Chain, ChainError, Signer, TxReceipt};

/// The largest fallback ballot the contract accepts, in bytes (`MAX_BALLOT_BYTES`).
pub const MAX_BALLOT_BYTES: usize = 65_536;

/// What `createElection` registers. The chain id is taken from the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionRegistration {
    /// The election id.
    pub election_id: [u8; 32],
    /// The manifest hash.
    pub manifest_hash: [u8; 32],
    /// The credential list's digest.
    pub credentials_digest: [u8; 32],
    /// The trustees' keys digest.
    pub trustee_keys_digest: [u8; 32],
    /// The joint election key (compressed ristretto255).
    pub joint_key: [u8; 32],
    /// The board's Ed25519 public key.
    pub board_key: [u8; 32],
    /// Voting opens (Unix seconds, block time).
    pub opens_at: u64,
    /// Voting closes (Unix seconds, block time); must be in the future.
    pub closes_at: u64,
    /// The challenge window after the result, in seconds (not 0).
    pub challenge_period: u64,
}

/// The contract's `election` view: the registration and its counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainElection {
    /// The operator (the creator), the only account allowed to checkpoint and publish.
    pub operator: [u8; 20],
    /// Voting opens (Unix seconds).
    pub opens_at: u64,
    /// Voting closes (Unix seconds).
    pub closes_at: u64,
    /// The challenge window, in seconds.
    pub challenge_period: u64,
    /// The manifest hash.
    pub manifest_hash: [u8; 32],
    /// The credential list's digest.
    pub credentials_digest: [u8; 32],
    /// The trustees' keys digest.
    pub trustee_keys_digest: [u8; 32],
    /// The joint election key.
    pub joint_key: [u8; 32],
    /// The board's public key.
    pub board_key: [u8; 32],
    /// How many checkpoints were anchored.
    pub checkpoint_count: u64,
    /// The latest checkpoint's tree size.
    pub last_checkpoint_size: u64,
    /// How many fallback ballots were cast.
    pub fallback_count: u64,
    /// Whether the result was published.
    pub result_published: bool,
}

/// The contract's `result` view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainResult {
    /// The tally digest.
    pub tally_digest: [u8; 32],
    /// The record digest.
    pub record_digest: [u8; 32],
    /// The final tree head's size.
    pub final_size: u64,
    /// The final tree head's root.
    pub final_root: [u8; 32],
    /// When the result was published (block time).
    pub published_at: u64,
    /// When the challenge window ends (block time).
    pub challenge_ends_at: u64,
    /// How many disputes were filed.
    pub dispute_count: u64,
}

/// One of the registry's events for an election, with where it was emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryLog {
    /// The block that holds it.
    pub block_number: u64,
    /// The transaction that emitted it.
    pub transaction: [u8; 32],
    /// Its index among the block's logs.
    pub log_index: u64,
    /// The decoded event.
    pub event: R::TabellaRegistryEvents,
}

/// The registry contract deployed at an address on a chain. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Registry {
    chain: Chain,
    address: Address,
    from_block: u64,
}

fn fixed(bytes: [u8; 32]) -> FixedBytes<32> {
    FixedBytes(bytes)
}

fn decode_error(what: &'static str) -> impl FnOnce(alloy_sol_types::Error) -> ChainError {
    move |e| ChainError::Decode {
        what,
        detail: e.to_string(),
    }
}

fn mismatch(detail: String) -> ChainError {
    ChainError::EvidenceMismatch { detail }
}

/// `SHA-256(0x00 ‖ ballot)`: the digest the contract stores for a fallback ballot.
pub fn fallback_digest(ballot: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(ballot);
    hasher.finalize().into()
}

impl Registry {
    /// Deploys the registry ([`crate::REGISTRY_BYTECODE`]) from `signer`.
    pub async fn deploy(
        chain: &Chain,
        signer: &Signer,
    ) -> Result<(Registry, TxReceipt), ChainError> {
        let code = crate::registry_bytecode()?;
        let receipt = chain.send(signer, None, code.into(), "deploy").await?;
        let address = receipt.contract_address.ok_or_else(|| ChainError::Decode {
            what: "deployment receipt",
            detail: "no contract address".to_owned(),
        })?;
        let registry = Registry {
            chain: chain.clone(),
            address: Address::from(address),
            from_block: receipt.block_number,
        };
        Ok((registry, receipt))
    }

    /// The registry at `address` on `chain` (not checked: calls fail if there is no registry
    /// there).
    pub fn at(chain: &Chain, address: [u8; 20]) -> Registry {
        Registry {
            chain: chain.clone(),
            address: Address::from(address),
            from_block: 0,
        }
    }

    /// Reads events from block `block` on (the deployment block, for endpoints that limit
    /// `eth_getLogs` ranges). [`deploy`](Self::deploy) sets it.
    pub fn with_from_block(mut self, block: u64) -> Registry {
        self.from_block = block;
        self
    }

    /// The chain.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The contract's address.
    pub fn address(&self) -> [u8; 20] {
        self.address.into_array()
    }

    /// The contract's address as `0x` and 40 lowercase hex digits.
    pub fn address_hex(&self) -> String {
        hex20(&self.address.into_array())
    }

    /// Whether the code at the registry's address is exactly the committed runtime bytecode
    /// ([`crate::REGISTRY_RUNTIME_BYTECODE`]): the contract there is this registry, compiled
    /// from this source.
    pub async fn has_registry_code(&self) -> Result<bool, ChainError> {
        let code = self.chain.code(self.address.into_array()).await?;
        Ok(code == crate::registry_runtime_bytecode()?)
    }

    /// Parses `0x` and 40 hex digits (any case) into an address.
    pub fn parse_address(text: &str) -> Result<[u8; 20], ChainError> {
        let digits = text
            .trim()
            .strip_prefix("0x")
            .ok_or_else(|| ChainError::InvalidInput {
                reason: "an address starts with 0x".to_owned(),
            })?;
        let mut address = [0u8; 20];
        hex::decode_to_slice(digits, &mut address).map_err(|_| ChainError::InvalidInput {
            reason: format!("{text:?} is not 0x and 40 hex digits"),
        })?;
        Ok(address)
    }

    async fn send(
        &self,
        signer: &Signer,
        input: Vec<u8>,
        function: &'static str,
    ) -> Result<TxReceipt, ChainError> {
        self.chain
            .send(signer, Some(self.address), input.into(), function)
            .await
    }

    async fn view<C: SolCall>(
        &self,
        call: C,
        block: Option<u64>,
        function: &'static str,
    ) -> Result<C::Return, ChainError> {
        let output = self
            .chain
            .call(self.address, Bytes::from(call.abi_encode()), block)
            .await
            .map_err(|e| e.into_chain_error(function))?;
        if output.is_empty() {
            // Every registry view returns data: nothing came back, so no registry is there.
            return Err(ChainError::NoRegistry {
                address: self.address_hex(),
            });
        }
        C::abi_decode_returns(&output).map_err(decode_error(function))
    }

    /// `createElection`: registers the election, bound to this chain's id; the signer becomes
    /// its operator.
    pub async fn create_election(
        &self,
        signer: &Signer,
        reg: &ElectionRegistration,
    ) -> Result<TxReceipt, ChainError> {
        let chain_id = self.chain.chain_id().await?;
        self.create_election_for_chain(signer, reg, chain_id).await
    }

    /// `createElection` with an explicit chain id (the contract refuses any but its own:
    /// [`ChainError::Reverted`] with `WrongChain`).
    pub async fn create_election_for_chain(
        &self,
        signer: &Signer,
        reg: &ElectionRegistration,
        chain_id: u64,
    ) -> Result<TxReceipt, ChainError> {
        let call = R::createElectionCall {
            electionId: fixed(reg.election_id),
            chainId: U256::from(chain_id),
            manifestHash: fixed(reg.manifest_hash),
            credentialsDigest: fixed(reg.credentials_digest),
            trusteeKeysDigest: fixed(reg.trustee_keys_digest),
            jointKey: fixed(reg.joint_key),
            boardKey: fixed(reg.board_key),
            opensAt: reg.opens_at,
            closesAt: reg.closes_at,
            challengePeriod: reg.challenge_period,
        };
        self.send(signer, call.abi_encode(), "createElection").await
    }

    /// `checkpoint`: anchors a signed tree head (operator only; sizes strictly grow; not after
    /// the result).
    pub async fn checkpoint(
        &self,
        signer: &Signer,
        election_id: [u8; 32],
        size: u64,
        root: [u8; 32],
        timestamp_ms: u64,
        signature: [u8; 64],
    ) -> Result<TxReceipt, ChainError> {
        self.checkpoint_raw(signer, election_id, size, root, timestamp_ms, &signature)
            .await
    }

    /// `checkpoint` with a signature of any length (the contract refuses all but 64 bytes:
    /// `BadSignature`); for tests and tools.
    pub async fn checkpoint_raw(
        &self,
        signer: &Signer,
        election_id: [u8; 32],
        size: u64,
        root: [u8; 32],
        timestamp_ms: u64,
        signature: &[u8],
    ) -> Result<TxReceipt, ChainError> {
        let call = R::checkpointCall {
            electionId: fixed(election_id),
            size,
            root: fixed(root),
            timestampMs: timestamp_ms,
            signature: Bytes::copy_from_slice(signature),
        };
        self.send(signer, call.abi_encode(), "checkpoint").await
    }

    /// `castFallback`: casts a ballot through the chain during the voting window (anyone).
    pub async fn cast_fallback(
        &self,
        signer: &Signer,
        election_id: [u8; 32],
        ballot: &[u8],
    ) -> Result<TxReceipt, ChainError> {
        let call = R::castFallbackCall {
            electionId: fixed(election_id),
            ballot: Bytes::copy_from_slice(ballot),
        };
        self.send(signer, call.abi_encode(), "castFallback").await
    }

    /// `publishResult`: publishes the result after the close (operator only; the final head
    /// must be the latest checkpoint); opens the challenge window.
    pub async fn publish_result(
        &self,
        signer: &Signer,
        election_id: [u8; 32],
        tally_digest: [u8; 32],
        record_digest: [u8; 32],
        final_size: u64,
        final_root: [u8; 32],
    ) -> Result<TxReceipt, ChainError> {
        let call = R::publishResultCall {
            electionId: fixed(election_id),
            tallyDigest: fixed(tally_digest),
            recordDigest: fixed(record_digest),
            finalSize: final_size,
            finalRoot: fixed(final_root),
        };
        self.send(signer, call.abi_encode(), "publishResult").await
    }

    /// `dispute`: files a dispute against the result during the challenge window (anyone).
    pub async fn dispute(
        &self,
        signer: &Signer,
        election_id: [u8; 32],
        evidence_digest: [u8; 32],
    ) -> Result<TxReceipt, ChainError> {
        let call = R::disputeCall {
            electionId: fixed(election_id),
            evidenceDigest: fixed(evidence_digest),
        };
        self.send(signer, call.abi_encode(), "dispute").await
    }

    /// The `election` view; `None` when the registry does not know the election.
    pub async fn election(
        &self,
        election_id: [u8; 32],
    ) -> Result<Option<OnChainElection>, ChainError> {
        self.election_at(election_id, None).await
    }

    async fn election_at(
        &self,
        election_id: [u8; 32],
        block: Option<u64>,
    ) -> Result<Option<OnChainElection>, ChainError> {
        let e = self
            .view(
                R::electionCall {
                    electionId: fixed(election_id),
                },
                block,
                "election",
            )
            .await?;
        if e.operator == Address::ZERO {
            return Ok(None);
        }
        Ok(Some(OnChainElection {
            operator: e.operator.into_array(),
            opens_at: e.opensAt,
            closes_at: e.closesAt,
            challenge_period: e.challengePeriod,
            manifest_hash: e.manifestHash.0,
            credentials_digest: e.credentialsDigest.0,
            trustee_keys_digest: e.trusteeKeysDigest.0,
            joint_key: e.jointKey.0,
            board_key: e.boardKey.0,
            checkpoint_count: e.checkpointCount,
            last_checkpoint_size: e.lastCheckpointSize,
            fallback_count: e.fallbackCount,
            result_published: e.resultPublished,
        }))
    }

    /// The `result` view; `None` before publication.
    pub async fn result(&self, election_id: [u8; 32]) -> Result<Option<OnChainResult>, ChainError> {
        self.result_at(election_id, None).await
    }

    async fn result_at(
        &self,
        election_id: [u8; 32],
        block: Option<u64>,
    ) -> Result<Option<OnChainResult>, ChainError> {
        let r = self
            .view(
                R::resultCall {
                    electionId: fixed(election_id),
                },
                block,
                "result",
            )
            .await?;
        if r.publishedAt == 0 {
            return Ok(None);
        }
        Ok(Some(OnChainResult {
            tally_digest: r.tallyDigest.0,
            record_digest: r.recordDigest.0,
            final_size: r.finalSize,
            final_root: r.finalRoot.0,
            published_at: r.publishedAt,
            challenge_ends_at: r.challengeEndsAt,
            dispute_count: r.disputeCount,
        }))
    }

    /// The root checkpointed at `size`, if any.
    pub async fn checkpoint_root(
        &self,
        election_id: [u8; 32],
        size: u64,
    ) -> Result<Option<[u8; 32]>, ChainError> {
        self.checkpoint_root_at(election_id, size, None).await
    }

    async fn checkpoint_root_at(
        &self,
        election_id: [u8; 32],
        size: u64,
        block: Option<u64>,
    ) -> Result<Option<[u8; 32]>, ChainError> {
        let root = self
            .view(
                R::checkpointRootCall {
                    electionId: fixed(election_id),
                    size,
                },
                block,
                "checkpointRoot",
            )
            .await?;
        Ok((root != B256::ZERO).then_some(root.0))
    }

    /// The checkpointed tree sizes, in order.
    pub async fn checkpoint_sizes(&self, election_id: [u8; 32]) -> Result<Vec<u64>, ChainError> {
        self.view(
            R::checkpointsCall {
                electionId: fixed(election_id),
            },
            None,
            "checkpoints",
        )
        .await
    }

    /// The fallback ballots' digests, in order.
    pub async fn fallback_digests(
        &self,
        election_id: [u8; 32],
    ) -> Result<Vec<[u8; 32]>, ChainError> {
        let digests = self
            .view(
                R::fallbackBallotsCall {
                    electionId: fixed(election_id),
                },
                None,
                "fallbackBallots",
            )
            .await?;
        Ok(digests.into_iter().map(|d| d.0).collect())
    }

    fn verify_inclusion_call(
        election_id: [u8; 32],
        size: u64,
        index: u64,
        leaf_hash: [u8; 32],
        path: &[[u8; 32]],
    ) -> R::verifyInclusionCall {
        R::verifyInclusionCall {
            electionId: fixed(election_id),
            size,
            index,
            leafHash: fixed(leaf_hash),
            path: path.iter().map(|p| fixed(*p)).collect(),
        }
    }

    /// The `verifyInclusion` view: whether `leaf_hash` is leaf `index` of the checkpointed tree
    /// of `size` leaves, by the RFC 6962 inclusion proof `path`.
    pub async fn verify_inclusion(
        &self,
        election_id: [u8; 32],
        size: u64,
        index: u64,
        leaf_hash: [u8; 32],
        path: &[[u8; 32]],
    ) -> Result<bool, ChainError> {
        let call = Self::verify_inclusion_call(election_id, size, index, leaf_hash, path);
        self.view(call, None, "verifyInclusion").await
    }

    /// The gas `verifyInclusion` uses as a transaction (`eth_estimateGas`; a view costs
    /// nothing when called, this is what a contract calling it would pay).
    pub async fn verify_inclusion_gas(
        &self,
        election_id: [u8; 32],
        size: u64,
        index: u64,
        leaf_hash: [u8; 32],
        path: &[[u8; 32]],
    ) -> Result<u64, ChainError> {
        let call = Self::verify_inclusion_call(election_id, size, index, leaf_hash, path);
        self.chain
            .estimate_gas(None, Some(self.address), Bytes::from(call.abi_encode()))
            .await
            .map_err(|e| e.into_chain_error("verifyInclusion"))
    }

    /// The registry's events for the election, in chain order, decoded.
    pub async fn events(&self, election_id: [u8; 32]) -> Result<Vec<RegistryLog>, ChainError> {
        let block = self.chain.block_number().await?;
        let logs = self
            .chain
            .logs(
                self.address,
                B256::from(election_id),
                self.from_block,
                block,
            )
            .await?;
        logs.iter().map(decode_log).collect()
    }

    /// Everything the chain says about the election, read from the registry's events (with
    /// their transactions) and cross-checked against its view functions at the same block:
    /// the creation, every checkpoint, every fallback ballot (its bytes from the event), the
    /// result and the disputes. Fails with [`ChainError::EvidenceMismatch`] if the events and
    /// the views disagree.
    pub async fn evidence(&self, election_id: [u8; 32]) -> Result<ChainEvidence, ChainError> {
        // The embedded chain keeps only its latest state: if a block lands between the logs and
        // the views, read again.
        let mut attempts = 0;
        loop {
            let block = self.chain.block_number().await?;
            match self.evidence_at(election_id, block).await {
                Err(error) if self.chain.is_embedded() && attempts < 5 => {
                    if self.chain.block_number().await? == block {
                        return Err(error);
                    }
                    attempts += 1;
                }
                other => return other,
            }
        }
    }

    async fn evidence_at(
        &self,
        election_id: [u8; 32],
        block: u64,
    ) -> Result<ChainEvidence, ChainError> {
        let chain_id = self.chain.chain_id().await?;
        let logs = self
            .chain
            .logs(
                self.address,
                B256::from(election_id),
                self.from_block,
                block,
            )
            .await?;
        let mut events = Events::default();
        for log in &logs {
            events.add(log)?;
        }
        let at = Some(block);
        let view = self.election_at(election_id, at).await?;
        let evidence = ChainEvidence {
            chain_id,
            contract: self.address_hex(),
            election: None,
            checkpoints: Vec::new(),
            fallback: Vec::new(),
            result: None,
        };
        let Some(view) = view else {
            if !logs.is_empty() {
                return Err(mismatch(format!(
                    "{} events for an election the registry does not know",
                    logs.len()
                )));
            }
            return Ok(evidence);
        };
        let (created_tx, created) = match events.created.as_slice() {
            [one] => one,
            [] => {
                return Err(mismatch(
                    "the election exists but no ElectionCreated event".to_owned(),
                ))
            }
            many => return Err(mismatch(format!("{} ElectionCreated events", many.len()))),
        };
        let election = ChainElection {
            transaction: hex32(&created_tx.0),
            operator: hex20(&created.operator.into_array()),
            chain_id: created.chainId.saturating_to(),
            manifest_hash: created.manifestHash.0,
            credentials_digest: created.credentialsDigest.0,
            trustee_keys_digest: created.trusteeKeysDigest.0,
            joint_key: created.jointKey.0,
            board_key: created.boardKey.0,
            opens_at: created.opensAt,
            closes_at: created.closesAt,
            challenge_period: created.challengePeriod,
        };
        if created.chainId != U256::from(chain_id) {
            return Err(mismatch(format!(
                "ElectionCreated names chain {} on chain {chain_id}",
                created.chainId
            )));
        }
        let agrees = election.operator == hex20(&view.operator)
            && election.manifest_hash == view.manifest_hash
            && election.credentials_digest == view.credentials_digest
            && election.trustee_keys_digest == view.trustee_keys_digest
            && election.joint_key == view.joint_key
            && election.board_key == view.board_key
            && election.opens_at == view.opens_at
            && election.closes_at == view.closes_at
            && election.challenge_period == view.challenge_period;
        if !agrees {
            return Err(mismatch(
                "ElectionCreated differs from the election view".to_owned(),
            ));
        }

        // Checkpoints: in order, numbered from 0, as many as the view counts, with the sizes of
        // the `checkpoints` view and the roots of `checkpointRoot`.
        if events.checkpoints.len() as u64 != view.checkpoint_count {
            return Err(mismatch(format!(
                "{} Checkpointed events, the view counts {}",
                events.checkpoints.len(),
                view.checkpoint_count
            )));
        }
        let sizes = self
            .view(
                R::checkpointsCall {
                    electionId: fixed(election_id),
                },
                at,
                "checkpoints",
            )
            .await?;
        if sizes.len() != events.checkpoints.len() {
            return Err(mismatch(format!(
                "{} checkpointed sizes, {} Checkpointed events",
                sizes.len(),
                events.checkpoints.len()
            )));
        }
        let mut checkpoints = Vec::with_capacity(sizes.len());
        for (i, ((tx, event), size)) in events.checkpoints.iter().zip(&sizes).enumerate() {
            if event.index != i as u64 || event.size != *size {
                return Err(mismatch(format!(
                    "checkpoint {i}: event index {} size {}, the view has size {size}",
                    event.index, event.size
                )));
            }
            let root = self.checkpoint_root_at(election_id, *size, at).await?;
            if root != Some(event.root.0) {
                return Err(mismatch(format!(
                    "checkpoint {i}: the event's root differs from checkpointRoot({size})"
                )));
            }
            checkpoints.push(ChainCheckpoint {
                transaction: hex32(&tx.0),
                size: event.size,
                root: event.root.0,
                timestamp_ms: event.timestampMs,
                signature: hex::encode(&event.signature),
            });
        }
        if sizes.last().copied().unwrap_or(0) != view.last_checkpoint_size {
            return Err(mismatch(
                "the last checkpoint's size differs from the view".to_owned(),
            ));
        }

        // Fallback ballots: numbered from 0, each event's digest is SHA-256(0x00 ‖ its ballot)
        // and equals the stored one.
        if events.fallback.len() as u64 != view.fallback_count {
            return Err(mismatch(format!(
                "{} FallbackBallotCast events, the view counts {}",
                events.fallback.len(),
                view.fallback_count
            )));
        }
        let digests = self
            .view(
                R::fallbackBallotsCall {
                    electionId: fixed(election_id),
                },
                at,
                "fallbackBallots",
            )
            .await?;
        if digests.len() != events.fallback.len() {
            return Err(mismatch(format!(
                "{} stored fallback digests, {} FallbackBallotCast events",
                digests.len(),
                events.fallback.len()
            )));
        }
        let mut fallback = Vec::with_capacity(digests.len());
        for (i, ((tx, event), digest)) in events.fallback.iter().zip(&digests).enumerate() {
            if event.index != i as u64 {
                return Err(mismatch(format!(
                    "fallback ballot {i}: the event says index {}",
                    event.index
                )));
            }
            if event.digest != *digest || fallback_digest(&event.ballot) != digest.0 {
                return Err(mismatch(format!(
                    "fallback ballot {i}: the event's ballot or digest differs from the stored digest"
                )));
            }
            fallback.push(ChainFallbackBallot {
                transaction: hex32(&tx.0),
                chain_index: event.index,
                digest: event.digest.0,
                ballot: base64::engine::general_purpose::STANDARD.encode(&event.ballot),
            });
        }

        // The result and its disputes.
        let result_view = self.result_at(election_id, at).await?;
        let result = match (events.results.as_slice(), result_view) {
            ([], None) if !view.result_published => {
                if !events.disputes.is_empty() {
                    return Err(mismatch("disputes without a result".to_owned()));
                }
                None
            }
            ([(tx, event)], Some(r)) if view.result_published => {
                let agrees = event.tallyDigest.0 == r.tally_digest
                    && event.recordDigest.0 == r.record_digest
                    && event.finalSize == r.final_size
                    && event.finalRoot.0 == r.final_root
                    && event.challengeEndsAt == r.challenge_ends_at;
                if !agrees {
                    return Err(mismatch(
                        "ResultPublished differs from the result view".to_owned(),
                    ));
                }
                if events.disputes.len() as u64 != r.dispute_count {
                    return Err(mismatch(format!(
                        "{} DisputeFiled events, the view counts {}",
                        events.disputes.len(),
                        r.dispute_count
                    )));
                }
                let mut disputes = Vec::with_capacity(events.disputes.len());
                for (i, (tx, dispute)) in events.disputes.iter().enumerate() {
                    if dispute.index != i as u64 {
                        return Err(mismatch(format!(
                            "dispute {i}: the event says index {}",
                            dispute.index
                        )));
                    }
                    disputes.push(ChainDispute {
                        transaction: hex32(&tx.0),
                        challenger: hex20(&dispute.challenger.into_array()),
                        evidence_digest: dispute.evidenceDigest.0,
                    });
                }
                Some(ChainResult {
                    transaction: hex32(&tx.0),
                    tally_digest: event.tallyDigest.0,
                    record_digest: event.recordDigest.0,
                    final_size: event.finalSize,
                    final_root: event.finalRoot.0,
                    challenge_ends_at: event.challengeEndsAt,
                    disputes,
                })
            }
            (events_found, _) => {
                return Err(mismatch(format!(
                    "{} ResultPublished events, the view says published: {}",
                    events_found.len(),
                    view.result_published
                )))
            }
        };
        Ok(ChainEvidence {
            election: Some(election),
            checkpoints,
            fallback,
            result,
            ..evidence
        })
    }
}

/// The registry's events for one election, sorted by kind, each with its transaction.
#[derive(Default)]
struct Events {
    created: Vec<(B256, R::ElectionCreated)>,
    checkpoints: Vec<(B256, R::Checkpointed)>,
    fallback: Vec<(B256, R::FallbackBallotCast)>,
    results: Vec<(B256, R::ResultPublished)>,
    disputes: Vec<(B256, R::DisputeFiled)>,
}

fn decode_log(log: &LogEntry) -> Result<RegistryLog, ChainError> {
    let event = R::TabellaRegistryEvents::decode_raw_log(&log.topics, &log.data)
        .map_err(decode_error("registry event"))?;
    Ok(RegistryLog {
        block_number: log.block_number,
        transaction: log.transaction.0,
        log_index: log.log_index,
        event,
    })
}

impl Events {
    fn add(&mut self, log: &LogEntry) -> Result<(), ChainError> {
        use R::TabellaRegistryEvents as E;
        let decoded = decode_log(log)?;
        let tx = B256::from(decoded.transaction);
        match decoded.event {
            E::ElectionCreated(e) => self.created.push((tx, e)),
            E::Checkpointed(e) => self.checkpoints.push((tx, e)),
            E::FallbackBallotCast(e) => self.fallback.push((tx, e)),
            E::ResultPublished(e) => self.results.push((tx, e)),
            E::DisputeFiled(e) => self.disputes.push((tx, e)),
        }
        Ok(())
    }
}
