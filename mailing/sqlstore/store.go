package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
)

// Dialect names the SQL engine behind a *sql.DB.
type Dialect = sqldb.Dialect

// The dialects the store supports.
const (
	SQLite = sqldb.SQLite // modernc.org/sqlite, driver name "sqlite"
	MySQL  = sqldb.MySQL  // MySQL 8 or MariaDB 10.6+, github.com/go-sql-driver/mysql
)

// Status is where a database's schema stands against the store's
// migrations.
type Status = sqldb.Status

// VersionTable is the table recording the applied migrations of this
// package.
const VersionTable = "mailing_schema_version"

// Open opens and pings the database named by url: "sqlite:PATH" or
// "mysql:DSN" (a github.com/go-sql-driver/mysql DSN). It returns the pool,
// tuned for the store, and its dialect.
func Open(ctx context.Context, url string) (*sql.DB, Dialect, error) {
	return sqldb.OpenURL(ctx, url)
}

// SQLiteDSN returns the modernc.org/sqlite DSN of the database file at
// path with the pragmas the store needs, for callers that open the
// *sql.DB themselves (sql.Open("sqlite", sqlstore.SQLiteDSN(path))).
func SQLiteDSN(path string) string { return sqldb.SQLiteDSN(path) }

//go:embed migrations
var migrations embed.FS

// Store is a mailing.Store on a SQL database. It is safe for concurrent
// use, also by several processes sharing the database.
type Store struct {
	db    *sql.DB
	d     dialect
	clock mailing.Clock
	// writer serialises this store's write transactions on SQLite, which
	// allows one writer at a time anyway: waiting here wakes a writer as soon
	// as the previous one commits, where SQLite's busy handler would poll
	// with sleeps of up to 100 ms. Other processes still wait under
	// busy_timeout.
	writer chan struct{}
	// stmts holds the prepared statements of hot, by text.
	stmts sync.Map
}

var _ mailing.Store = (*Store)(nil)

// New returns a store on db, a pool of dialect d. It panics on an unknown
// dialect. Call Migrate before first use.
func New(db *sql.DB, d Dialect) *Store {
	dl, ok := dialects[d]
	if !ok {
		panic(d.Check())
	}
	return &Store{db: db, d: dl, clock: mailing.SystemClock{}, writer: make(chan struct{}, 1)}
}

// SetClock makes the store stamp CreatedAt and UpdatedAt from c (for
// example a fake clock in tests). Call it before using the store.
func (s *Store) SetClock(c mailing.Clock) { s.clock = c }

// Migrate brings the schema to the latest version; on an up-to-date
// database it changes nothing. It is safe to run from several processes at
// once.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.checkConn(ctx); err != nil {
		return err
	}
	fsys, err := s.migrationsFS()
	if err != nil {
		return err
	}
	if err := sqldb.Migrate(ctx, s.db, s.d.name, fsys, VersionTable); err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	return nil
}

// MigrationStatus reports the applied and latest schema versions.
func (s *Store) MigrationStatus(ctx context.Context) (Status, error) {
	fsys, err := s.migrationsFS()
	if err != nil {
		return Status{}, err
	}
	st, err := sqldb.MigrationStatus(ctx, s.db, s.d.name, fsys, VersionTable)
	if err != nil {
		return Status{}, fmt.Errorf("sqlstore: %w", err)
	}
	return st, nil
}

func (s *Store) migrationsFS() (fs.FS, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+string(s.d.name))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	return fsys, nil
}

// checkConn rejects a database the store cannot work with: a SQLite pool
// opened without foreign keys, whose cascades the store relies on, or a
// MySQL server without SKIP LOCKED and JSON_TABLE (MySQL 8.0, MariaDB
// 10.6).
func (s *Store) checkConn(ctx context.Context) error {
	switch s.d.name {
	case SQLite:
		var on int
		if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
			return fmt.Errorf("sqlstore: check SQLite foreign keys: %w", err)
		}
		if on != 1 {
			return errors.New("sqlstore: SQLite foreign keys are off: open the database with sqlstore.SQLiteDSN or sqlstore.Open")
		}
	case MySQL:
		var version string
		if err := s.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
			return fmt.Errorf("sqlstore: check the MySQL version: %w", err)
		}
		if !mysqlVersionOK(version) {
			return fmt.Errorf("sqlstore: server version %s is too old: the store needs MySQL 8.0 or MariaDB 10.6 (SKIP LOCKED, JSON_TABLE)", version)
		}
	}
	return nil
}

// mysqlVersionOK reports whether a VERSION() string names MySQL 8.0 or
// later, or MariaDB 10.6 or later.
func mysqlVersionOK(version string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return true // unknown format: let the statements tell
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return major > 10 || major == 10 && minor >= 6
	}
	return major >= 8
}

// batchSize bounds the ids of one IN list and the rows of one multi-row
// insert, well under both engines' placeholder limits.
const batchSize = 500

// now returns the store clock's time as the database keeps it.
func (s *Store) now() time.Time { return sqldb.Micro(s.clock.Now()) }

// write runs fn in a read-write transaction.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	release, err := s.lockWriter(ctx)
	if err != nil {
		return err
	}
	defer release()
	return sqldb.InTxWith(ctx, s.db, s.d.txOptions, fn)
}

// exec runs one writing statement on its own.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	release, err := s.lockWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.db.ExecContext(ctx, query, args...)
}

func (s *Store) lockWriter(ctx context.Context) (release func(), err error) {
	if s.d.name != SQLite {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// read runs fn in a read-only transaction, so that a page and its total
// come from one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return sqldb.InTxWith(ctx, s.db, &sql.TxOptions{ReadOnly: true}, fn)
}

// count runs a SELECT COUNT(*).
func count(ctx context.Context, q sqldb.Querier, query string, args ...any) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// affected returns how many rows a statement changed (matched, with
// clientFoundRows on MySQL).
func affected(res sql.Result) (int64, error) {
	return res.RowsAffected()
}

// exists reports whether a row of table has id. table is a constant.
func exists(ctx context.Context, q sqldb.Querier, table string, id int64) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// notFound is the error for a missing row.
func notFound(op, what string, id int64) error {
	return fmt.Errorf("sqlstore: %s: %s %d: %w", op, what, id, mailing.ErrNotFound)
}

// wrap adds the operation to an error from the database.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// uniqueIDs returns ids sorted without duplicates, in a new slice.
func uniqueIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// maxText bounds the free text the ledger stores per row (server answers
// and errors), within a MySQL TEXT column.
const maxText = 8000

// clip cuts s to at most maxText bytes on a character boundary.
func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	i := maxText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
