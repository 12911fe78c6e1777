-- Tabella election service, schema version 2 (SQLite): on-chain anchoring (spec/api.md §12).
-- Keep in step with ../postgres/0002_anchoring.sql: the two differ only in the name of the
-- byte-string type.

-- Settings of the anchoring client that must survive restarts: the registry contract the
-- service deployed or was given, per chain.
CREATE TABLE anchor_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The anchoring queue: what the service anchors on chain, sent in `seq` order. `item` names
-- the thing anchored ('election', 'checkpoint-<size>', 'result'), so nothing is queued twice.
-- `state`: 'pending' (not sent), 'sending' (a transaction may be on its way: the chain is
-- checked before anything is sent again), 'done' (anchored), 'superseded' (a later checkpoint
-- covers it).
CREATE TABLE anchor_queue (
    seq          BIGINT PRIMARY KEY,
    item         TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    size         BIGINT,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    transaction_hash TEXT,
    block_number BIGINT,
    gas_used     BIGINT,
    attempts     BIGINT NOT NULL,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    anchored_at  BIGINT
);

-- The ballots cast through the contract (fallback casting), as the service took them at the
-- close: the board entry that holds each, or why it was refused.
CREATE TABLE fallback_ballots (
    chain_index      BIGINT PRIMARY KEY,
    transaction_hash TEXT NOT NULL,
    tracking_code    BLOB NOT NULL,
    idx              BIGINT,
    reason           TEXT
);
