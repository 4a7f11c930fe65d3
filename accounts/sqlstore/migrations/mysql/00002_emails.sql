-- Account emails sent to each user (confirmation, reset, "already
-- registered"), kept for a day to limit how often an address gets mail
-- through the public forms.

-- +goose Up
CREATE TABLE accounts_emails (
    id      BIGINT      NOT NULL AUTO_INCREMENT,
    user_id BIGINT      NOT NULL,
    kind    VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    sent_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    KEY accounts_emails_user (user_id, sent_at),
    CONSTRAINT accounts_emails_user_fk FOREIGN KEY (user_id) REFERENCES accounts_users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- +goose Down
DROP TABLE accounts_emails;
