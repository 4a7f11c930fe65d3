package app

import (
	"context"
	"database/sql"
	"fmt"

	accountssql "github.com/skychimp/skychimp/accounts/sqlstore"
	"github.com/skychimp/skychimp/adminhost"
	blogsql "github.com/skychimp/skychimp/blog/sqlstore"
	"github.com/skychimp/skychimp/internal/sqldb"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
)

// schema is one package's versioned migrations.
type schema struct {
	name    string
	migrate func(context.Context) error
	status  func(context.Context) (sqldb.Status, error)
}

// schemas lists every package's migrations, in the order they apply.
func schemas(db *sql.DB, d sqldb.Dialect) ([]schema, error) {
	as, err := accountssql.New(db, d)
	if err != nil {
		return nil, err
	}
	ms := mailingsql.New(db, d)
	ah := adminhost.NewSchema(db, d)
	bs, err := blogsql.New(db, d)
	if err != nil {
		return nil, err
	}
	return []schema{
		{"accounts", as.Migrate, as.MigrationStatus},
		{"mailing", ms.Migrate, ms.MigrationStatus},
		{"adminhost", ah.Migrate, ah.MigrationStatus},
		{"blog", bs.Migrate, bs.MigrationStatus},
	}, nil
}

// MigrationReport says what Migrate did to one package's schema.
type MigrationReport struct {
	Schema  string
	From    int64 // the version before
	To      int64 // the version after
	Applied int   // migrations applied
}

func (r MigrationReport) String() string {
	if r.Applied == 0 {
		return fmt.Sprintf("%s: up to date (version %d)", r.Schema, r.To)
	}
	return fmt.Sprintf("%s: applied %d migration(s), version %d -> %d", r.Schema, r.Applied, r.From, r.To)
}

// Migrate brings every package's schema to its latest version. On an up
// to date database it changes nothing.
func Migrate(ctx context.Context, db *sql.DB, d sqldb.Dialect) ([]MigrationReport, error) {
	var out []MigrationReport
	list, err := schemas(db, d)
	if err != nil {
		return nil, err
	}
	for _, s := range list {
		before, err := s.status(ctx)
		if err != nil {
			return out, fmt.Errorf("%s schema: %w", s.name, err)
		}
		if err := s.migrate(ctx); err != nil {
			return out, fmt.Errorf("%s schema: %w", s.name, err)
		}
		after, err := s.status(ctx)
		if err != nil {
			return out, fmt.Errorf("%s schema: %w", s.name, err)
		}
		out = append(out, MigrationReport{Schema: s.name, From: before.Current, To: after.Current, Applied: before.Pending - after.Pending})
	}
	return out, nil
}
