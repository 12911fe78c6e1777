-- Tabella election service, schema version 3 (SQLite): the credential list as a registrar
-- makes it offline and the officials upload it (spec/credentials.md §7, spec/api.md §5). Keep in
-- step with ../postgres/0003_credentials.sql: the two differ only in the name of the byte-string type.

-- The eligible credential keys in strictly ascending order, 32 bytes each, concatenated in
-- chunks of at most 100,000 keys (chunk 0 first): a million keys are ten rows, written and read
-- in a second. It replaces the one-row-per-key `credentials` table of schema 1, which stays
-- only for elections whose roll was imported before; the service reads it when no chunk is
-- stored.
CREATE TABLE credential_chunks (
    chunk BIGINT PRIMARY KEY,
    keys  BLOB NOT NULL
);

-- The credentials replaced before voting opened, in the order they were replaced: each the
-- CredentialReplacement JSON document the officials uploaded, as the record publishes it.
CREATE TABLE credential_replacements (
    seq         BIGINT PRIMARY KEY,
    replacement TEXT NOT NULL,
    replaced_at BIGINT NOT NULL
);
