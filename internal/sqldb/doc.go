// Package sqldb is the SQL plumbing shared by the project's SQL stores
// (mailing/sqlstore, accounts, blog): opening a database from a URL,
// versioned migrations per package, transactions, the time column format,
// and driver error classification, for SQLite (modernc.org/sqlite) and
// MySQL/MariaDB (github.com/go-sql-driver/mysql).
//
// Quick start:
//
//	db, dialect, err := sqldb.OpenURL(ctx, "sqlite:skychimp.db")
//	...
//	err = sqldb.Migrate(ctx, db, dialect, migrationsFS, "mypkg_schema_version")
//
// Stores share these helpers, not function bodies: each store keeps its own
// SQL next to its methods and puts what differs per dialect behind a small
// seam of its own.
package sqldb
