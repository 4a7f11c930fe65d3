-- The mailing domain for MySQL and MariaDB (InnoDB, utf8mb4). Times are
-- DATETIME(6) in UTC; NULL is the zero time. The *_norm columns hold text
-- normalised by the application and compare byte for byte (utf8mb4_bin),
-- exactly as the application does.

-- +goose Up
CREATE TABLE mailing_clients (
    id         BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id   BIGINT        NOT NULL,
    email      VARCHAR(254)  NOT NULL,
    email_norm VARCHAR(254)  NOT NULL COLLATE utf8mb4_bin, -- trimmed, lower-cased email: unique per owner
    name       VARCHAR(200)  NOT NULL DEFAULT '',
    name_norm  VARCHAR(200)  NOT NULL DEFAULT '' COLLATE utf8mb4_bin, -- lower-cased name, for search
    comment    VARCHAR(2000) NOT NULL DEFAULT '',
    created_at DATETIME(6)   NOT NULL,
    UNIQUE KEY mailing_clients_owner_email (owner_id, email_norm)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE mailing_messages (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id   BIGINT       NOT NULL,
    subject    VARCHAR(300) NOT NULL,
    body       MEDIUMTEXT   NOT NULL,
    created_at DATETIME(6)  NOT NULL,
    KEY mailing_messages_owner (owner_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE mailings (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id   BIGINT       NOT NULL,
    name       VARCHAR(200) NOT NULL DEFAULT '',
    message_id BIGINT       NOT NULL,
    start_at   DATETIME(6)  NOT NULL,
    end_at     DATETIME(6)  NOT NULL,
    period     VARCHAR(16)  NOT NULL,
    time_zone  VARCHAR(64)  NOT NULL DEFAULT '',
    enabled    BOOLEAN      NOT NULL DEFAULT FALSE,
    next_run   DATETIME(6)  NULL,
    created_at DATETIME(6)  NOT NULL,
    updated_at DATETIME(6)  NOT NULL,
    KEY mailings_owner (owner_id),
    KEY mailings_message (message_id),
    KEY mailings_due (enabled, next_run),
    CONSTRAINT mailings_message_fk FOREIGN KEY (message_id) REFERENCES mailing_messages (id) -- no delete while used
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A mailing's client set.
CREATE TABLE mailing_recipients (
    mailing_id BIGINT NOT NULL,
    client_id  BIGINT NOT NULL,
    PRIMARY KEY (mailing_id, client_id),
    KEY mailing_recipients_client (client_id),
    CONSTRAINT mailing_recipients_mailing_fk FOREIGN KEY (mailing_id) REFERENCES mailings (id) ON DELETE CASCADE,
    CONSTRAINT mailing_recipients_client_fk FOREIGN KEY (client_id) REFERENCES mailing_clients (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- The ledger: one row per mailing x run x client. client_id has no foreign
-- key: a deleted client's rows stay, with their copy of its email and name.
CREATE TABLE mailing_deliveries (
    id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    mailing_id      BIGINT       NOT NULL,
    owner_id        BIGINT       NOT NULL,
    run_at          DATETIME(6)  NOT NULL,
    client_id       BIGINT       NOT NULL,
    email           VARCHAR(254) NOT NULL,
    name            VARCHAR(200) NOT NULL DEFAULT '',
    state           VARCHAR(16)  NOT NULL,
    attempts        INT          NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6)  NOT NULL,
    lease_owner     VARCHAR(255) NOT NULL DEFAULT '' COLLATE utf8mb4_bin,
    lease_until     DATETIME(6)  NULL,
    last_error      TEXT         NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    updated_at      DATETIME(6)  NOT NULL,
    UNIQUE KEY mailing_deliveries_run_client (mailing_id, run_at, client_id),
    KEY mailing_deliveries_claim (state, next_attempt_at),
    KEY mailing_deliveries_client (client_id),
    KEY mailing_deliveries_owner (owner_id),
    CONSTRAINT mailing_deliveries_mailing_fk FOREIGN KEY (mailing_id) REFERENCES mailings (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The send log. mailing_id, owner_id, client_id and run_at are copies from
-- the delivery, for filters; the mailing's deletion takes its attempts.
CREATE TABLE mailing_attempts (
    id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    delivery_id BIGINT      NOT NULL,
    mailing_id  BIGINT      NOT NULL,
    owner_id    BIGINT      NOT NULL,
    client_id   BIGINT      NOT NULL,
    run_at      DATETIME(6) NOT NULL,
    at          DATETIME(6) NOT NULL,
    duration_ns BIGINT      NOT NULL DEFAULT 0,
    outcome     VARCHAR(16) NOT NULL,
    code        INT         NOT NULL DEFAULT 0,
    response    TEXT        NOT NULL,
    KEY mailing_attempts_delivery (delivery_id),
    KEY mailing_attempts_mailing (mailing_id),
    KEY mailing_attempts_client (client_id),
    KEY mailing_attempts_owner (owner_id),
    CONSTRAINT mailing_attempts_mailing_fk FOREIGN KEY (mailing_id) REFERENCES mailings (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE mailing_attempts;
DROP TABLE mailing_deliveries;
DROP TABLE mailing_recipients;
DROP TABLE mailings;
DROP TABLE mailing_messages;
DROP TABLE mailing_clients;
