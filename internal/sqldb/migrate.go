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
	if d == SQLite {
		attempts = 2
	}
	for range attempts {
		var p *goose.Provider
		if p, err = provider(db, d, fsys, table, true); err != nil {
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
	p, err := provider(db, d, fsys, table, false)
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

func provider(db *sql.DB, d Dialect, fsys fs.FS, table string, lock bool) (*goose.Provider, error) {
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
	if lock && d == MySQL {
		opts = append(opts, goose.WithSessionLocker(mysqlLocker{name: table}))
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("sqldb: migrations for %s: %w", table, err)
	}
	return p, nil
}

// mysqlLocker serialises migration runs on one MySQL database with a named
// lock scoped to the database and version table.
type mysqlLocker struct{ name string }

// mysqlLockWait is how long (seconds) a run waits for another to finish.
const mysqlLockWait = 300

func (l mysqlLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	var got sql.NullInt64
	err := conn.QueryRowContext(ctx,
		`SELECT GET_LOCK(CONCAT('goose_', MD5(CONCAT(DATABASE(), '.', ?))), ?)`, l.name, mysqlLockWait).Scan(&got)
	if err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return fmt.Errorf("take the migration lock: another migration held it for %d seconds", mysqlLockWait)
	}
	return nil
}

func (l mysqlLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx,
		`SELECT RELEASE_LOCK(CONCAT('goose_', MD5(CONCAT(DATABASE(), '.', ?))))`, l.name)
	return err
}
