// Package sqlstore is a stats.Store that computes the figures with SQL
// over the tables of mailing/sqlstore, on SQLite or MySQL/MariaDB. It
// only reads and has no schema of its own.
//
//	mstore := mailingsql.New(db, dialect) // mstore.Migrate(ctx) creates the tables
//	figures, err := sqlstore.New(db, dialect)
package sqlstore
