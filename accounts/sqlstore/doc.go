// Package sqlstore is the accounts.Store on database/sql, for SQLite
// (modernc.org/sqlite) and MySQL/MariaDB (github.com/go-sql-driver/mysql),
// with its schema as versioned goose migrations per dialect, recorded in
// the table accounts_schema_version.
//
// The caller opens the database (sqldb.OpenURL sets the pragmas and DSN
// options the store relies on) and migrates it once at start-up:
//
//	db, dialect, err := sqldb.OpenURL(ctx, "sqlite:skychimp.db")
//	...
//	store, err := sqlstore.New(db, dialect)
//	...
//	err = store.Migrate(ctx)
//
// Tables: accounts_users (email unique by its lower-cased form, email_key),
// accounts_tokens (one-time tokens by SHA-256 hash, cascading with their
// user) and accounts_emails (the account emails of the last day per user,
// for the email limits; pruned as it is written).
package sqlstore
