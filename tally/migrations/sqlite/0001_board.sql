-- Tabella election service, schema version 1 (SQLite). Keep in step with
-- ../postgres/0001_board.sql: the two differ only in the name of the byte-string type.

-- The one election this service runs.
CREATE TABLE election (
    singleton          INTEGER PRIMARY KEY CHECK (singleton = 1),
    election_id        TEXT NOT NULL,
    manifest           TEXT NOT NULL,
    manifest_hash      TEXT NOT NULL,
    board_key          TEXT NOT NULL,
    state              TEXT NOT NULL,
    joint_key          TEXT,
    roll_digest        TEXT,
    voters             BIGINT,
    credentials_digest TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- The public list of eligible credential keys (never linked to voter ids).
CREATE TABLE credentials (
    credential BLOB PRIMARY KEY
);

-- The bulletin board: append-only, one row per Merkle leaf.
CREATE TABLE board (
    idx           BIGINT PRIMARY KEY,
    tracking_code BLOB NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    credential    BLOB NOT NULL,
    ballot        BLOB NOT NULL,
    opening       TEXT,
    receipt       TEXT NOT NULL,
    received_at   BIGINT NOT NULL
);

-- The counted ballot of each credential: its last cast ballot.
CREATE TABLE counted (
    credential BLOB PRIMARY KEY,
    idx        BIGINT NOT NULL UNIQUE REFERENCES board (idx)
);

-- Write-once documents: the ceremony messages and the published results.
CREATE TABLE documents (
    name TEXT PRIMARY KEY,
    body BLOB NOT NULL
);
