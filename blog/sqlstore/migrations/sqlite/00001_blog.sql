-- Blog posts (SQLite). Times are TEXT in UTC at whole microseconds, fixed
-- width, so text order is time order; NULL is the zero time. Booleans are
-- INTEGER 0/1. Slugs compare byte for byte (BINARY, the default).

-- +goose Up
CREATE TABLE blog_posts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id    INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    slug         TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    image_path   TEXT    NOT NULL DEFAULT '',
    image_type   TEXT    NOT NULL DEFAULT '',
    views        INTEGER NOT NULL DEFAULT 0,
    published    INTEGER NOT NULL DEFAULT 0,
    published_at TEXT    NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
CREATE UNIQUE INDEX blog_posts_slug ON blog_posts (slug);
CREATE INDEX blog_posts_published ON blog_posts (published, published_at, id);

-- +goose Down
DROP TABLE blog_posts;
