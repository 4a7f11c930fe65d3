// Package sqlstore is a mailing.Store on database/sql for SQLite
// (modernc.org/sqlite, no cgo) and MySQL 8.0 or MariaDB 10.6 and later
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
// SQLiteDSN (foreign keys on, WAL, busy timeout, immediate transactions);
// any go-sql-driver DSN works for MySQL (times are written as UTC text and
// read back by their wall clock, whatever parseTime and loc say).
//
// The schema is versioned with goose migrations embedded per dialect,
// recorded in the table mailing_schema_version; its tables are prefixed
// (mailing_clients, mailing_messages, mailings, mailing_recipients,
// mailing_deliveries, mailing_attempts) so they sit beside an
// application's own. Owner ids are plain integers: the store references no
// users table. Times are UTC at whole microseconds: DATETIME(6) on MySQL,
// fixed-width TEXT ('2006-01-02 15:04:05.000000') on SQLite, whose text
// order is time order.
//
// Where the mailing.Store contract leaves room, the store behaves as
// mailingtest.MemStore documents: claims take the earliest NextAttemptAt
// first, then the lowest id; a lease has ended at LeaseUntil; LastError
// reads "code response" for every outcome.
//
// Concurrency: on MySQL, write transactions run at READ COMMITTED and
// claims lock rows with FOR UPDATE SKIP LOCKED; on SQLite, a write
// transaction takes the database's write lock at BEGIN (IMMEDIATE) and
// other processes wait for it under busy_timeout, while one store
// serialises its own writers in-process.
package sqlstore
