-- Users and their one-time tokens (MySQL, MariaDB).
-- email_key and name_key are the lower-cased email and full name, computed
-- by the store in Go, with a binary collation so that comparisons are exact
-- (the table's unicode_ci collation would also fold accents, unlike SQLite):
-- email_key makes addresses unique case-insensitively, both serve the search.

-- +goose Up
CREATE TABLE accounts_users (
    id            BIGINT       NOT NULL AUTO_INCREMENT,
    email         VARCHAR(254) NOT NULL,
    email_key     VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    full_name     VARCHAR(200) NOT NULL,
    name_key      VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    password_hash VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    role          VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    verified      BOOLEAN      NOT NULL DEFAULT FALSE,
    blocked       BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at    DATETIME(6)  NOT NULL,
    updated_at    DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY accounts_users_email_key (email_key),
    KEY accounts_users_role (role, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE accounts_tokens (
    hash       CHAR(64)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind       VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id    BIGINT      NOT NULL,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (hash),
    KEY accounts_tokens_user (user_id, kind, created_at),
    KEY accounts_tokens_expires (expires_at),
    CONSTRAINT accounts_tokens_user_fk FOREIGN KEY (user_id) REFERENCES accounts_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- +goose Down
DROP TABLE accounts_tokens;
DROP TABLE accounts_users;
