package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/sqldb"
)

// VersionTable is the table in which the store's migrations are recorded.
const VersionTable = "accounts_schema_version"

//go:embed migrations
var migrations embed.FS

// Store is an accounts.Store on a SQL database. It is safe for concurrent
// use, also by several processes sharing the database.
type Store struct {
	db      *sql.DB
	dialect sqldb.Dialect
}

var _ accounts.Store = (*Store)(nil)

// New returns a store on db, a database of dialect d. It does not touch
// the database: call Migrate before use.
func New(db *sql.DB, d sqldb.Dialect) (*Store, error) {
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("accounts/sqlstore: %w", err)
	}
	if db == nil {
		return nil, fmt.Errorf("accounts/sqlstore: no database")
	}
	return &Store{db: db, dialect: d}, nil
}

// Migrations returns the goose migrations of dialect d.
func Migrations(d sqldb.Dialect) (fs.FS, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	return fs.Sub(migrations, "migrations/"+string(d))
}

// Migrate brings the schema up to date. Running it again, or from several
// processes at once, is safe.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := Migrations(s.dialect)
	if err != nil {
		return err
	}
	return sqldb.Migrate(ctx, s.db, s.dialect, fsys, VersionTable)
}

// MigrationStatus reports the applied and available schema versions.
func (s *Store) MigrationStatus(ctx context.Context) (sqldb.Status, error) {
	fsys, err := Migrations(s.dialect)
	if err != nil {
		return sqldb.Status{}, err
	}
	return sqldb.MigrationStatus(ctx, s.db, s.dialect, fsys, VersionTable)
}
