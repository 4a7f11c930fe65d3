-- Blog posts (MySQL and MariaDB, InnoDB, utf8mb4). Times are DATETIME(6)
-- in UTC; NULL is the zero time. Slugs compare byte for byte (utf8mb4_bin),
-- as the application does.

-- +goose Up
CREATE TABLE blog_posts (
    id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    author_id    BIGINT       NOT NULL,
    title        VARCHAR(200) NOT NULL,
    slug         VARCHAR(100) NOT NULL COLLATE utf8mb4_bin,
    content      MEDIUMTEXT   NOT NULL,
    image_path   VARCHAR(64)  NOT NULL DEFAULT '',
    image_type   VARCHAR(32)  NOT NULL DEFAULT '',
    views        BIGINT       NOT NULL DEFAULT 0,
    published    BOOLEAN      NOT NULL DEFAULT FALSE,
    published_at DATETIME(6)  NULL,
    created_at   DATETIME(6)  NOT NULL,
    updated_at   DATETIME(6)  NOT NULL,
    UNIQUE KEY blog_posts_slug (slug),
    KEY blog_posts_published (published, published_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE blog_posts;
