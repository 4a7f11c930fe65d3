package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

// Migrate applies the migrations in fsys that the database lacks, in
// version order, recording them in table (one version table per package,
// so several packages keep their own migrations in one database). fsys
// holds the goose SQL files of one dialect at its root, e.g. an embed.FS
// narrowed with fs.Sub. A database that is up to date is left as it is.
//
// Concurrent runs from several processes are safe: on MySQL they take turns
// under a named server lock (GET_LOCK); on SQLite each migration runs in a
// transaction that holds the write lock, and a run that lost the race to
// apply a version starts over once and finds it applied.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS, table string) error {
	var err error
	attempts := 1
	switch d {
	case SQLite:
		attempts = 2
	case MySQL:
		// goose's own session locker leaves Up's first check unlocked, where
		// a concurrent run can see a half-made version table: lock it all.
		unlock, err := mysqlLock(ctx, db, table)
		if err != nil {
			return fmt.Errorf("sqldb: migrate %s: %w", table, err)
		}
		defer unlock()
	}
	for range attempts {
		var p *goose.Provider
		if p, err = provider(db, d, fsys, table); err != nil {
			return err
		}
		if _, err = p.Up(ctx); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("sqldb: migrate %s: %w", table, err)
	}
	return nil
}

// Status is where a database stands against a set of migrations.
type Status struct {
	Current int64 // the highest version applied; 0 when none
	Latest  int64 // the highest version available
	Pending int   // how many available versions are not applied
}

// UpToDate reports whether no migration is pending.
func (s Status) UpToDate() bool { return s.Pending == 0 }

// MigrationStatus reports the applied and available versions of the
// migrations in fsys, recorded in table, without changing anything but
// creating the (empty) version table when it is missing.
func MigrationStatus(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS, table string) (Status, error) {
	p, err := provider(db, d, fsys, table)
	if err != nil {
		return Status{}, err
	}
	ms, err := p.Status(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("sqldb: migration status %s: %w", table, err)
	}
	var st Status
	for _, m := range ms {
		v := m.Source.Version
		st.Latest = max(st.Latest, v)
		if m.State == goose.StateApplied {
			st.Current = max(st.Current, v)
		} else {
			st.Pending++
		}
	}
	return st, nil
}

func provider(db *sql.DB, d Dialect, fsys fs.FS, table string) (*goose.Provider, error) {
	var gd goose.Dialect
	switch d {
	case SQLite:
		gd = database.DialectSQLite3
	case MySQL:
		gd = database.DialectMySQL
	default:
		return nil, d.Check()
	}
	if table == "" {
		return nil, errors.New("sqldb: migrate: the version table needs a name")
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(table),
		goose.WithDisableGlobalRegistry(true),
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("sqldb: migrations for %s: %w", table, err)
	}
	return p, nil
}

// mysqlLockWait is how long (seconds) a migration run waits for another.
const mysqlLockWait = 300

// mysqlLock serialises migration runs on one MySQL database with a named
// server lock, scoped to the database and the version table, held by a
// connection of its own until unlock.
func mysqlLock(ctx context.Context, db *sql.DB, table string) (unlock func(), err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	const name = `CONCAT('goose_', MD5(CONCAT(DATABASE(), '.', ?)))`
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(`+name+`, ?)`, table, mysqlLockWait).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		conn.Close()
		return nil, fmt.Errorf("take the migration lock: another migration held it for %d seconds", mysqlLockWait)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT RELEASE_LOCK(`+name+`)`, table)
		conn.Close()
	}, nil
}
