-- Users and their one-time tokens (SQLite).
-- email_key and name_key are the lower-cased email and full name, computed
-- by the store in Go (Unicode-aware, unlike SQLite's LOWER): email_key
-- makes addresses unique case-insensitively, both serve the list search.

-- +goose Up
CREATE TABLE accounts_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    email_key     TEXT    NOT NULL,
    full_name     TEXT    NOT NULL,
    name_key      TEXT    NOT NULL,
    password_hash TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL,
    verified      INTEGER NOT NULL DEFAULT 0,
    blocked       INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX accounts_users_email_key ON accounts_users (email_key);
CREATE INDEX accounts_users_role ON accounts_users (role, id);

CREATE TABLE accounts_tokens (
    hash       TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES accounts_users (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX accounts_tokens_user ON accounts_tokens (user_id, kind, created_at);
CREATE INDEX accounts_tokens_expires ON accounts_tokens (expires_at);

-- +goose Down
DROP TABLE accounts_tokens;
DROP TABLE accounts_users;
