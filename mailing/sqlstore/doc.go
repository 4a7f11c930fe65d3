// Package sqlstore is a mailing.Store on database/sql for SQLite
// (modernc.org/sqlite, no cgo) and MySQL or MariaDB
// (github.com/go-sql-driver/mysql). Several processes may share one
// database: the delivery ledger never hands one delivery to two engines.
//
// Quick start:
//
//	db, dialect, err := sqlstore.Open(ctx, "sqlite:skychimp.db") // or "mysql:user:pass@tcp(host:3306)/db"
//	if err != nil { ... }
//	store := sqlstore.New(db, dialect)
//	if err := store.Migrate(ctx); err != nil { ... }
//
// A caller that opens the *sql.DB itself must give SQLite the pragmas of
// SQLiteDSN (foreign keys on, WAL, busy timeout, immediate transactions)
// and MySQL a DSN with parseTime=true (times are stored in UTC whatever
// loc says).
//
// The schema is versioned with goose migrations embedded per dialect,
// recorded in the table mailing_schema_version; its tables are prefixed
// (mailing_clients, mailing_messages, mailings, mailing_recipients,
// mailing_deliveries, mailing_attempts) so they sit beside an
// application's own. Owner ids are plain integers: the store references no
// users table.
package sqlstore
