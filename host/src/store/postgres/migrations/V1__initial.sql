-- What a group of nodes shares (docs/operations.md, "Nodes sharing PostgreSQL"). Ids are
-- SHA-256 hashes (32 bytes); keys compare as bytes, as in the embedded database.
CREATE TABLE binaries (
    id BYTEA PRIMARY KEY,
    bytes BYTEA NOT NULL
);
CREATE TABLE machines (
    id BYTEA PRIMARY KEY,
    binary_id BYTEA NOT NULL,
    params BYTEA NOT NULL
);
CREATE INDEX machines_of_binary ON machines (binary_id);
CREATE TABLE state (
    machine BYTEA NOT NULL,
    key BYTEA NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (machine, key)
);
-- Bytes of keys and values each machine's state holds; its row is locked by each commit.
CREATE TABLE state_bytes (
    machine BYTEA PRIMARY KEY,
    bytes BIGINT NOT NULL
);
-- SHA-256 of the first message each committed nonce signed. Deleted only with the nonce
-- secret they were made under.
CREATE TABLE nonces (
    machine BYTEA NOT NULL,
    name BYTEA NOT NULL,
    message BYTEA NOT NULL,
    PRIMARY KEY (machine, name)
);
-- How many records `nonces` holds for each machine; its row is locked by each binding.
CREATE TABLE nonce_counts (
    machine BYTEA PRIMARY KEY,
    count BIGINT NOT NULL
);
CREATE TABLE used_keys (
    machine BYTEA PRIMARY KEY,
    bits SMALLINT NOT NULL
);
-- Binaries and machines the operator removed: JSON of the removal; `seq` orders them, for the
-- other nodes of the group to follow.
CREATE TABLE removed (
    id BYTEA PRIMARY KEY,
    record BYTEA NOT NULL,
    seq BIGSERIAL NOT NULL
);
CREATE INDEX removed_by_seq ON removed (seq);
CREATE TABLE agreements (
    decree BYTEA PRIMARY KEY,
    record BYTEA NOT NULL
);
-- The database's own facts: `nonce-secret`, the salt committed nonces derive from with the
-- node key (32 random bytes; without the node key it derives nothing), and `node-public-key`,
-- the public key every node of the group signs with.
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
