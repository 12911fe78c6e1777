// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Tabella election registry
/// @notice Anchors Tabella elections on an EVM chain (spec/anchoring.md): each election's public
/// parameters, the bulletin board's signed tree heads (checkpoints), ballots cast here when the
/// board censors a voter or is down (fallback casting), and the result with the election record's
/// digest, followed by a challenge window in which anyone may file a dispute.
/// @dev Nothing stored can be overwritten: an election is created once, checkpoints only grow, a
/// result is published once. Every state change emits an event; the service and the verifier read
/// the events back. Times are block timestamps (Unix seconds).
contract TabellaRegistry {
    /// The largest fallback ballot accepted, in bytes.
    uint256 public constant MAX_BALLOT_BYTES = 65536;
    /// The longest challenge window, in seconds (a year): bounds `publishedAt + challengePeriod`.
    uint64 public constant MAX_CHALLENGE_PERIOD = 366 days;

    struct Election {
        address operator;
        uint64 opensAt;
        uint64 closesAt;
        uint64 challengePeriod;
        bytes32 manifestHash;
        bytes32 credentialsDigest;
        bytes32 trusteeKeysDigest;
        bytes32 jointKey;
        bytes32 boardKey;
        uint64 checkpointCount;
        uint64 lastCheckpointSize;
        uint64 fallbackCount;
        bool resultPublished;
    }

    struct Result {
        bytes32 tallyDigest;
        bytes32 recordDigest;
        uint64 finalSize;
        bytes32 finalRoot;
        uint64 publishedAt;
        uint64 challengeEndsAt;
        uint64 disputeCount;
    }

    mapping(bytes32 => Election) private elections;
    mapping(bytes32 => Result) private results;
    /// Election id => tree size => checkpointed root.
    mapping(bytes32 => mapping(uint64 => bytes32)) private checkpointRoots;
    /// Election id => checkpointed sizes, in order.
    mapping(bytes32 => uint64[]) private checkpointSizes;
    /// Election id => fallback ballot digests (SHA-256(0x00 || ballot)), in order.
    mapping(bytes32 => bytes32[]) private fallbackDigests;

    event ElectionCreated(
        bytes32 indexed electionId,
        address indexed operator,
        uint256 chainId,
        bytes32 manifestHash,
        bytes32 credentialsDigest,
        bytes32 trusteeKeysDigest,
        bytes32 jointKey,
        bytes32 boardKey,
        uint64 opensAt,
        uint64 closesAt,
        uint64 challengePeriod
    );
    event Checkpointed(
        bytes32 indexed electionId, uint64 index, uint64 size, bytes32 root, uint64 timestampMs, bytes signature
    );
    event FallbackBallotCast(
        bytes32 indexed electionId, uint64 index, bytes32 digest, address indexed voter, bytes ballot
    );
    event ResultPublished(
        bytes32 indexed electionId,
        bytes32 tallyDigest,
        bytes32 recordDigest,
        uint64 finalSize,
        bytes32 finalRoot,
        uint64 challengeEndsAt
    );
    event DisputeFiled(bytes32 indexed electionId, uint64 index, address indexed challenger, bytes32 evidenceDigest);

    error WrongChain(uint256 expected, uint256 actual);
    error ElectionExists(bytes32 electionId);
    error UnknownElection(bytes32 electionId);
    error BadSchedule(uint64 opensAt, uint64 closesAt, uint64 challengePeriod);
    error NotOperator(address caller, address operator);
    error CheckpointNotGrowing(uint64 lastSize, uint64 size);
    error BadSignature(uint256 length);
    error ResultAlreadyPublished(bytes32 electionId);
    error OutsideVotingWindow(uint64 time, uint64 opensAt, uint64 closesAt);
    error BadBallotLength(uint256 length);
    error VotingNotClosed(uint64 time, uint64 closesAt);
    error FinalHeadNotCheckpointed(uint64 finalSize, bytes32 finalRoot);
    error NoResult(bytes32 electionId);
    error ChallengeWindowClosed(uint64 time, uint64 challengeEndsAt);
    error EmptyEvidence();

    modifier onlyOperator(bytes32 electionId) {
        address operator = elections[electionId].operator;
        if (operator == address(0)) revert UnknownElection(electionId);
        if (msg.sender != operator) revert NotOperator(msg.sender, operator);
        _;
    }

    /// @notice Registers an election; the caller becomes its operator. `chainId` must be this
    /// chain's, so a creation prepared for one chain cannot be replayed on another.
    function createElection(
        bytes32 electionId,
        uint256 chainId,
        bytes32 manifestHash,
        bytes32 credentialsDigest,
        bytes32 trusteeKeysDigest,
        bytes32 jointKey,
        bytes32 boardKey,
        uint64 opensAt,
        uint64 closesAt,
        uint64 challengePeriod
    ) external {
        if (chainId != block.chainid) revert WrongChain(block.chainid, chainId);
        if (elections[electionId].operator != address(0)) revert ElectionExists(electionId);
        if (
            opensAt >= closesAt || closesAt <= block.timestamp || challengePeriod == 0
                || challengePeriod > MAX_CHALLENGE_PERIOD
        ) {
            revert BadSchedule(opensAt, closesAt, challengePeriod);
        }
        Election storage e = elections[electionId];
        e.operator = msg.sender;
        e.opensAt = opensAt;
        e.closesAt = closesAt;
        e.challengePeriod = challengePeriod;
        e.manifestHash = manifestHash;
        e.credentialsDigest = credentialsDigest;
        e.trusteeKeysDigest = trusteeKeysDigest;
        e.jointKey = jointKey;
        e.boardKey = boardKey;
        emit ElectionCreated(
            electionId,
            msg.sender,
            chainId,
            manifestHash,
            credentialsDigest,
            trusteeKeysDigest,
            jointKey,
            boardKey,
            opensAt,
            closesAt,
            challengePeriod
        );
    }

    /// @notice Anchors a signed tree head of the board. Sizes strictly grow (the first may be 0);
    /// no checkpoint after the result.
    function checkpoint(bytes32 electionId, uint64 size, bytes32 root, uint64 timestampMs, bytes calldata signature)
        external
        onlyOperator(electionId)
    {
        Election storage e = elections[electionId];
        if (e.resultPublished) revert ResultAlreadyPublished(electionId);
        if (e.checkpointCount > 0 && size <= e.lastCheckpointSize) {
            revert CheckpointNotGrowing(e.lastCheckpointSize, size);
        }
        if (signature.length != 64) revert BadSignature(signature.length);
        uint64 index = e.checkpointCount;
        e.checkpointCount = index + 1;
        e.lastCheckpointSize = size;
        checkpointRoots[electionId][size] = root;
        checkpointSizes[electionId].push(size);
        emit Checkpointed(electionId, index, size, root, timestampMs, signature);
    }

    /// @notice Casts a ballot through the chain during the voting window: its digest is stored
    /// and its bytes are emitted, so that they are public; the board takes it at the close.
    function castFallback(bytes32 electionId, bytes calldata ballot) external returns (uint64 index) {
        Election storage e = elections[electionId];
        if (e.operator == address(0)) revert UnknownElection(electionId);
        uint64 time = uint64(block.timestamp);
        if (time < e.opensAt || time >= e.closesAt) revert OutsideVotingWindow(time, e.opensAt, e.closesAt);
        if (ballot.length == 0 || ballot.length > MAX_BALLOT_BYTES) revert BadBallotLength(ballot.length);
        bytes32 digest = sha256(abi.encodePacked(bytes1(0x00), ballot));
        index = e.fallbackCount;
        e.fallbackCount = index + 1;
        fallbackDigests[electionId].push(digest);
        emit FallbackBallotCast(electionId, index, digest, msg.sender, ballot);
    }

    /// @notice Publishes the result once voting has closed. The final tree head must be the
    /// latest checkpoint. Opens the challenge window.
    function publishResult(
        bytes32 electionId,
        bytes32 tallyDigest,
        bytes32 recordDigest,
        uint64 finalSize,
        bytes32 finalRoot
    ) external onlyOperator(electionId) {
        Election storage e = elections[electionId];
        if (e.resultPublished) revert ResultAlreadyPublished(electionId);
        uint64 time = uint64(block.timestamp);
        if (time < e.closesAt) revert VotingNotClosed(time, e.closesAt);
        if (
            e.checkpointCount == 0 || e.lastCheckpointSize != finalSize
                || checkpointRoots[electionId][finalSize] != finalRoot
        ) revert FinalHeadNotCheckpointed(finalSize, finalRoot);
        e.resultPublished = true;
        uint64 challengeEndsAt = time + e.challengePeriod;
        results[electionId] = Result(tallyDigest, recordDigest, finalSize, finalRoot, time, challengeEndsAt, 0);
        emit ResultPublished(electionId, tallyDigest, recordDigest, finalSize, finalRoot, challengeEndsAt);
    }

    /// @notice Disputes a published result during its challenge window, pointing at evidence
    /// (published elsewhere) by its digest. Anyone may file.
    function dispute(bytes32 electionId, bytes32 evidenceDigest) external returns (uint64 index) {
        if (!elections[electionId].resultPublished) revert NoResult(electionId);
        if (evidenceDigest == bytes32(0)) revert EmptyEvidence();
        Result storage r = results[electionId];
        uint64 time = uint64(block.timestamp);
        if (time >= r.challengeEndsAt) revert ChallengeWindowClosed(time, r.challengeEndsAt);
        index = r.disputeCount;
        r.disputeCount = index + 1;
        emit DisputeFiled(electionId, index, msg.sender, evidenceDigest);
    }

    /// @notice The election's registration and counters (all zero when unknown).
    function election(bytes32 electionId) external view returns (Election memory) {
        return elections[electionId];
    }

    /// @notice The published result (all zero before publication).
    function result(bytes32 electionId) external view returns (Result memory) {
        return results[electionId];
    }

    /// @notice The root checkpointed at `size` (zero when none).
    function checkpointRoot(bytes32 electionId, uint64 size) external view returns (bytes32) {
        return checkpointRoots[electionId][size];
    }

    /// @notice The checkpointed sizes, in order.
    function checkpoints(bytes32 electionId) external view returns (uint64[] memory) {
        return checkpointSizes[electionId];
    }

    /// @notice The fallback ballots' digests, in order.
    function fallbackBallots(bytes32 electionId) external view returns (bytes32[] memory) {
        return fallbackDigests[electionId];
    }

    /// @notice Whether `leafHash` is leaf `index` of the tree of size `size` checkpointed for the
    /// election, by the RFC 6962 / RFC 9162 inclusion proof `path` (SHA-256, through the
    /// precompile). False when no checkpoint has that size or the proof does not verify.
    function verifyInclusion(
        bytes32 electionId,
        uint64 size,
        uint64 index,
        bytes32 leafHash,
        bytes32[] calldata path
    ) external view returns (bool) {
        bytes32 root = checkpointRoots[electionId][size];
        if (root == bytes32(0) || index >= size) return false;
        uint64 fn_ = index;
        uint64 sn = size - 1;
        bytes32 r = leafHash;
        for (uint256 i = 0; i < path.length; i++) {
            if (sn == 0) return false;
            bytes32 p = path[i];
            if (fn_ & 1 == 1 || fn_ == sn) {
                r = sha256(abi.encodePacked(bytes1(0x01), p, r));
                if (fn_ & 1 == 0) {
                    while (fn_ & 1 == 0 && fn_ != 0) {
                        fn_ >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = sha256(abi.encodePacked(bytes1(0x01), r, p));
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }
}
