package main

import (
	"context"
	"database/sql"
	"flag"
	"time"

	"github.com/skychimp/skychimp/internal/sqldb"
)

const defaultDB = "sqlite:skychimp.db"

// dbFlag registers --db on fs, defaulting to SKYCHIMP_DB.
func dbFlag(fs *flag.FlagSet, e env) *string {
	return fs.String("db", envDefault(e, "SKYCHIMP_DB", defaultDB),
		"database: sqlite:PATH or mysql:DSN (env SKYCHIMP_DB)")
}

// openDB opens and pings the database; any failure is a usage error: the
// person running the command must fix the value or start the server.
func openDB(ctx context.Context, url string) (*sql.DB, sqldb.Dialect, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, d, err := sqldb.OpenURL(ctx, url)
	if err != nil {
		return nil, "", usagef("%v", err)
	}
	return db, d, nil
}
