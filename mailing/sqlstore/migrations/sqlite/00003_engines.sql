-- The engines that hold leases, each with the time its heartbeat runs out.
-- A lease of an engine whose heartbeat has run out is over at once: its
-- pending deliveries can be claimed and its sends are unknown, without
-- waiting for the lease itself to end.

-- +goose Up
CREATE TABLE mailing_engines (
    name       TEXT NOT NULL PRIMARY KEY,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE mailing_engines;
