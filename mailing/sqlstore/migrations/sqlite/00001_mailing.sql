-- The mailing domain for SQLite. Times are TEXT in UTC at whole
-- microseconds, fixed width ('YYYY-MM-DD HH:MM:SS.ffffff'), so text order
-- is time order; NULL is the zero time. Booleans are INTEGER 0/1.
-- AUTOINCREMENT keeps ids from being reused after the newest rows are
-- deleted (an engine may still hold a deleted delivery's id).

-- +goose Up
CREATE TABLE mailing_clients (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   INTEGER NOT NULL,
    email      TEXT    NOT NULL,
    email_norm TEXT    NOT NULL, -- trimmed, lower-cased email: unique per owner
    name       TEXT    NOT NULL DEFAULT '',
    name_norm  TEXT    NOT NULL DEFAULT '', -- lower-cased name, for search
    comment    TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL
);
CREATE UNIQUE INDEX mailing_clients_owner_email ON mailing_clients (owner_id, email_norm);

CREATE TABLE mailing_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   INTEGER NOT NULL,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX mailing_messages_owner ON mailing_messages (owner_id);

CREATE TABLE mailings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   INTEGER NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    message_id INTEGER NOT NULL REFERENCES mailing_messages (id), -- no delete while used
    start_at   TEXT    NOT NULL,
    end_at     TEXT    NOT NULL,
    period     TEXT    NOT NULL,
    time_zone  TEXT    NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 0,
    next_run   TEXT    NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX mailings_owner ON mailings (owner_id);
CREATE INDEX mailings_message ON mailings (message_id);
CREATE INDEX mailings_due ON mailings (enabled, next_run);

-- A mailing's client set.
CREATE TABLE mailing_recipients (
    mailing_id INTEGER NOT NULL REFERENCES mailings (id) ON DELETE CASCADE,
    client_id  INTEGER NOT NULL REFERENCES mailing_clients (id) ON DELETE CASCADE,
    PRIMARY KEY (mailing_id, client_id)
) WITHOUT ROWID;
CREATE INDEX mailing_recipients_client ON mailing_recipients (client_id);

-- The ledger: one row per mailing x run x client. client_id has no foreign
-- key: a deleted client's rows stay, with their copy of its email and name.
CREATE TABLE mailing_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    mailing_id      INTEGER NOT NULL REFERENCES mailings (id) ON DELETE CASCADE,
    owner_id        INTEGER NOT NULL,
    run_at          TEXT    NOT NULL,
    client_id       INTEGER NOT NULL,
    email           TEXT    NOT NULL,
    name            TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     TEXT    NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX mailing_deliveries_run_client ON mailing_deliveries (mailing_id, run_at, client_id);
-- Partial indexes: only the rows the engine looks for (pending ones to
-- claim, sending ones to expire), so finished rows cost them nothing.
CREATE INDEX mailing_deliveries_claim ON mailing_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX mailing_deliveries_sending ON mailing_deliveries (lease_until) WHERE state = 'sending';
CREATE INDEX mailing_deliveries_client ON mailing_deliveries (client_id);
CREATE INDEX mailing_deliveries_owner ON mailing_deliveries (owner_id);

-- The send log. mailing_id, owner_id, client_id and run_at are copies from
-- the delivery, for filters; the mailing's deletion takes its attempts.
CREATE TABLE mailing_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL,
    mailing_id  INTEGER NOT NULL REFERENCES mailings (id) ON DELETE CASCADE,
    owner_id    INTEGER NOT NULL,
    client_id   INTEGER NOT NULL,
    run_at      TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    duration_ns INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT    NOT NULL,
    code        INTEGER NOT NULL DEFAULT 0,
    response    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX mailing_attempts_delivery ON mailing_attempts (delivery_id);
CREATE INDEX mailing_attempts_mailing ON mailing_attempts (mailing_id);
CREATE INDEX mailing_attempts_client ON mailing_attempts (client_id);
CREATE INDEX mailing_attempts_owner ON mailing_attempts (owner_id);

-- +goose Down
DROP TABLE mailing_attempts;
DROP TABLE mailing_deliveries;
DROP TABLE mailing_recipients;
DROP TABLE mailings;
DROP TABLE mailing_messages;
DROP TABLE mailing_clients;
