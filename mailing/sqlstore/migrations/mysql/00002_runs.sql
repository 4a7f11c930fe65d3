-- Runs are opened in chunks: a run's row says how far its ledger rows have
-- been created (every client of the mailing's set with an id up to
-- opened_through has its delivery), so sending starts with the first chunk
-- and any engine carries on opening a run another left half-way.

-- +goose Up
CREATE TABLE mailing_runs (
    mailing_id     BIGINT      NOT NULL,
    run_at         DATETIME(6) NOT NULL,
    opened_through BIGINT      NOT NULL DEFAULT 0,
    complete       BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at     DATETIME(6) NOT NULL,
    updated_at     DATETIME(6) NOT NULL,
    PRIMARY KEY (mailing_id, run_at),
    KEY mailing_runs_opening (complete, mailing_id),
    CONSTRAINT mailing_runs_mailing_fk FOREIGN KEY (mailing_id) REFERENCES mailings (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- The runs opened before this migration were opened whole.
INSERT INTO mailing_runs (mailing_id, run_at, opened_through, complete, created_at, updated_at)
SELECT mailing_id, run_at, MAX(client_id), TRUE, MIN(created_at), MAX(created_at)
FROM mailing_deliveries GROUP BY mailing_id, run_at;

-- +goose Down
DROP TABLE mailing_runs;
