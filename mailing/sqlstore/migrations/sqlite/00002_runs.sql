-- Runs are opened in chunks: a run's row says how far its ledger rows have
-- been created (every client of the mailing's set with an id up to
-- opened_through has its delivery), so sending starts with the first chunk
-- and any engine carries on opening a run another left half-way.

-- +goose Up
CREATE TABLE mailing_runs (
    mailing_id     INTEGER NOT NULL REFERENCES mailings (id) ON DELETE CASCADE,
    run_at         TEXT    NOT NULL,
    opened_through INTEGER NOT NULL DEFAULT 0,
    complete       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    PRIMARY KEY (mailing_id, run_at)
) WITHOUT ROWID;
CREATE INDEX mailing_runs_opening ON mailing_runs (mailing_id) WHERE complete = 0;

-- The runs opened before this migration were opened whole.
INSERT INTO mailing_runs (mailing_id, run_at, opened_through, complete, created_at, updated_at)
SELECT mailing_id, run_at, MAX(client_id), 1, MIN(created_at), MAX(created_at)
FROM mailing_deliveries GROUP BY mailing_id, run_at;

-- +goose Down
DROP TABLE mailing_runs;
