-- The admin panel's own tables (GoAdmin v1.2.26) for MySQL and MariaDB.
-- GoAdmin never creates them. Integers are signed: GoAdmin's row scanner
-- knows "INT" and "BIGINT" but not the driver's "UNSIGNED INT".
--
-- These tables are a projection: accounts is the source of truth for
-- users and roles; the host writes roles, permissions and menus from code
-- at start-up and keeps goadmin_users and goadmin_role_users in step with
-- accounts. No default administrator is seeded.

-- +goose Up
CREATE TABLE goadmin_session (
    id         BIGINT        NOT NULL AUTO_INCREMENT,
    sid        VARCHAR(64)   NOT NULL DEFAULT '',
    `values`   VARCHAR(3000) NOT NULL DEFAULT '',
    created_at TIMESTAMP     NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP     NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    KEY goadmin_session_sid (sid),
    KEY goadmin_session_values (`values`(100))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_users (
    id             BIGINT       NOT NULL AUTO_INCREMENT,
    username       VARCHAR(254) NOT NULL,
    password       VARCHAR(100) NOT NULL DEFAULT '',
    name           VARCHAR(255) NOT NULL,
    avatar         VARCHAR(255) NULL DEFAULT NULL,
    remember_token VARCHAR(100) NULL DEFAULT NULL,
    created_at     TIMESTAMP    NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at     TIMESTAMP    NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    UNIQUE KEY goadmin_users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_roles (
    id         INT         NOT NULL AUTO_INCREMENT,
    name       VARCHAR(50) NOT NULL,
    slug       VARCHAR(50) NOT NULL,
    created_at TIMESTAMP   NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP   NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    UNIQUE KEY goadmin_roles_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_role_users (
    role_id    INT       NOT NULL,
    user_id    BIGINT    NOT NULL,
    created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY goadmin_role_users_role_user (role_id, user_id),
    KEY goadmin_role_users_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_permissions (
    id          INT          NOT NULL AUTO_INCREMENT,
    name        VARCHAR(50)  NOT NULL,
    slug        VARCHAR(50)  NOT NULL,
    http_method VARCHAR(255) NULL DEFAULT NULL,
    http_path   TEXT         NOT NULL,
    created_at  TIMESTAMP    NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMP    NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    UNIQUE KEY goadmin_permissions_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_role_permissions (
    role_id       INT       NOT NULL,
    permission_id INT       NOT NULL,
    created_at    TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY goadmin_role_permissions_role_perm (role_id, permission_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_user_permissions (
    user_id       BIGINT    NOT NULL,
    permission_id INT       NOT NULL,
    created_at    TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY goadmin_user_permissions_user_perm (user_id, permission_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_menu (
    id          INT           NOT NULL AUTO_INCREMENT,
    parent_id   INT           NOT NULL DEFAULT 0,
    type        INT           NOT NULL DEFAULT 0,
    `order`     INT           NOT NULL DEFAULT 0,
    title       VARCHAR(50)   NOT NULL,
    icon        VARCHAR(50)   NOT NULL,
    uri         VARCHAR(3000) NOT NULL DEFAULT '',
    header      VARCHAR(150)  NULL DEFAULT NULL,
    plugin_name VARCHAR(150)  NOT NULL DEFAULT '',
    uuid        VARCHAR(150)  NULL DEFAULT NULL,
    created_at  TIMESTAMP     NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMP     NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_role_menu (
    role_id    INT       NOT NULL,
    menu_id    INT       NOT NULL,
    created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY goadmin_role_menu_role_menu (role_id, menu_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_operation_log (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    user_id    BIGINT       NOT NULL,
    path       VARCHAR(255) NOT NULL,
    method     VARCHAR(10)  NOT NULL,
    ip         VARCHAR(45)  NOT NULL,
    input      TEXT         NOT NULL,
    created_at TIMESTAMP    NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP    NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    KEY goadmin_operation_log_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE goadmin_site (
    id          INT           NOT NULL AUTO_INCREMENT,
    `key`       VARCHAR(100)  NOT NULL,
    value       LONGTEXT      NOT NULL,
    description VARCHAR(3000) NULL DEFAULT NULL,
    state       INT           NOT NULL DEFAULT 0,
    created_at  TIMESTAMP     NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMP     NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

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
