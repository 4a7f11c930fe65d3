-- The engines that hold leases, each with the time its heartbeat runs out.
-- A lease of an engine whose heartbeat has run out is over at once: its
-- pending deliveries can be claimed and its sends are unknown, without
-- waiting for the lease itself to end.

-- +goose Up
CREATE TABLE mailing_engines (
    name       VARCHAR(255) NOT NULL PRIMARY KEY,
    started_at DATETIME(6)  NOT NULL,
    expires_at DATETIME(6)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE mailing_engines;
