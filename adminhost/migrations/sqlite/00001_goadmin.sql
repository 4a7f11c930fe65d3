-- The admin panel's own tables (GoAdmin v1.2.26) for SQLite. GoAdmin never
-- creates them. Column types are the plain names GoAdmin's row scanner
-- knows (INTEGER, TEXT, TIMESTAMP: no lengths, which it would not strip).
--
-- These tables are a projection: accounts is the source of truth for
-- users and roles; the host writes roles, permissions and menus from code
-- at start-up and keeps goadmin_users and goadmin_role_users in step with
-- accounts. No default administrator is seeded.

-- +goose Up
CREATE TABLE goadmin_session (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sid        TEXT    NOT NULL DEFAULT '',
    `values`   TEXT    NOT NULL DEFAULT '',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX goadmin_session_sid ON goadmin_session (sid);
CREATE INDEX goadmin_session_values ON goadmin_session (`values`);

CREATE TABLE goadmin_users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT    NOT NULL,
    password       TEXT    NOT NULL DEFAULT '',
    name           TEXT    NOT NULL,
    avatar         TEXT    DEFAULT NULL,
    remember_token TEXT    DEFAULT NULL,
    created_at     TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at     TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX goadmin_users_username ON goadmin_users (username);

CREATE TABLE goadmin_roles (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    slug       TEXT    NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX goadmin_roles_slug ON goadmin_roles (slug);

CREATE TABLE goadmin_role_users (
    role_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX goadmin_role_users_role_user ON goadmin_role_users (role_id, user_id);
CREATE INDEX goadmin_role_users_user ON goadmin_role_users (user_id);

CREATE TABLE goadmin_permissions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL,
    http_method TEXT    DEFAULT NULL,
    http_path   TEXT    NOT NULL DEFAULT '',
    created_at  TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX goadmin_permissions_slug ON goadmin_permissions (slug);

CREATE TABLE goadmin_role_permissions (
    role_id       INTEGER NOT NULL,
    permission_id INTEGER NOT NULL,
    created_at    TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX goadmin_role_permissions_role_perm ON goadmin_role_permissions (role_id, permission_id);

CREATE TABLE goadmin_user_permissions (
    user_id       INTEGER NOT NULL,
    permission_id INTEGER NOT NULL,
    created_at    TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX goadmin_user_permissions_user_perm ON goadmin_user_permissions (user_id, permission_id);

CREATE TABLE goadmin_menu (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id   INTEGER NOT NULL DEFAULT 0,
    type        INTEGER NOT NULL DEFAULT 0,
    `order`     INTEGER NOT NULL DEFAULT 0,
    title       TEXT    NOT NULL,
    icon        TEXT    NOT NULL,
    uri         TEXT    NOT NULL DEFAULT '',
    header      TEXT    DEFAULT NULL,
    plugin_name TEXT    NOT NULL DEFAULT '',
    uuid        TEXT    DEFAULT NULL,
    created_at  TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE goadmin_role_menu (
    role_id    INTEGER NOT NULL,
    menu_id    INTEGER NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX goadmin_role_menu_role_menu ON goadmin_role_menu (role_id, menu_id);

CREATE TABLE goadmin_operation_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    path       TEXT    NOT NULL,
    method     TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    input      TEXT    NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX goadmin_operation_log_user ON goadmin_operation_log (user_id);

CREATE TABLE goadmin_site (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    `key`       TEXT    NOT NULL,
    value       TEXT    NOT NULL DEFAULT '',
    description TEXT    DEFAULT NULL,
    state       INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE goadmin_site;
DROP TABLE goadmin_operation_log;
DROP TABLE goadmin_role_menu;
DROP TABLE goadmin_menu;
DROP TABLE goadmin_user_permissions;
DROP TABLE goadmin_role_permissions;
DROP TABLE goadmin_permissions;
DROP TABLE goadmin_role_users;
DROP TABLE goadmin_roles;
DROP TABLE goadmin_users;
DROP TABLE goadmin_session;
