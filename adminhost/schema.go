package adminhost

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/skychimp/skychimp/internal/sqldb"
)

// VersionTable records which of this package's migrations (GoAdmin's own
// tables) a database has.
const VersionTable = "adminhost_schema_version"

//go:embed migrations
var migrations embed.FS

// Migrations returns the goose migrations of GoAdmin's tables for dialect
// d, one SQL file per version at the root of the returned FS.
func Migrations(d sqldb.Dialect) (fs.FS, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	return fs.Sub(migrations, "migrations/"+string(d))
}

// Schema creates and upgrades the tables GoAdmin needs (goadmin_session,
// goadmin_users, goadmin_roles, goadmin_menu, ...) on SQLite and MySQL,
// which GoAdmin itself never does. It seeds no rows: New writes roles,
// permissions and menus from code at every start, and keeps the users in
// step with accounts.
type Schema struct {
	db *sql.DB
	d  sqldb.Dialect
}

// NewSchema returns the schema of GoAdmin's tables on db, a pool of dialect d.
func NewSchema(db *sql.DB, d sqldb.Dialect) *Schema { return &Schema{db: db, d: d} }

// Migrate applies the migrations the database lacks.
func (s *Schema) Migrate(ctx context.Context) error {
	fsys, err := Migrations(s.d)
	if err != nil {
		return fmt.Errorf("adminhost: %w", err)
	}
	return sqldb.Migrate(ctx, s.db, s.d, fsys, VersionTable)
}

// MigrationStatus reports the applied and available versions.
func (s *Schema) MigrationStatus(ctx context.Context) (sqldb.Status, error) {
	fsys, err := Migrations(s.d)
	if err != nil {
		return sqldb.Status{}, fmt.Errorf("adminhost: %w", err)
	}
	return sqldb.MigrationStatus(ctx, s.db, s.d, fsys, VersionTable)
}
