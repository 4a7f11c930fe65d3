-- Account emails sent to each user (confirmation, reset, "already
-- registered"), kept for a day to limit how often an address gets mail
-- through the public forms.

-- +goose Up
CREATE TABLE accounts_emails (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES accounts_users (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL,
    sent_at TEXT    NOT NULL
);
CREATE INDEX accounts_emails_user ON accounts_emails (user_id, sent_at);

-- +goose Down
DROP TABLE accounts_emails;
