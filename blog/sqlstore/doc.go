// Package sqlstore is a blog.Store on SQLite (modernc.org/sqlite) or
// MySQL/MariaDB (github.com/go-sql-driver/mysql), with its own versioned
// migrations per dialect, recorded in table blog_schema_version.
//
//	db, dialect, err := sqldb.OpenURL(ctx, "sqlite:skychimp.db") // the caller opens the pool
//	store, err := sqlstore.New(db, dialect)
//	err = store.Migrate(ctx)
package sqlstore
