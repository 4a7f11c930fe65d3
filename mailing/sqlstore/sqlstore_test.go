package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/mailing/sqlstore"
)

// newStore opens a fresh migrated store of dialect d on its own database.
func newStore(tb testing.TB, d sqlstore.Dialect) *sqlstore.Store {
	tb.Helper()
	s := sqlstore.New(sqldbtest.New(tb, d), d)
	require.NoError(tb, s.Migrate(context.Background()))
	return s
}

func TestStoreSQLite(t *testing.T) {
	mailingtest.TestStore(t, func(t *testing.T) mailing.Store { return newStore(t, sqlstore.SQLite) })
}

func TestStoreMySQL(t *testing.T) {
	sqldbtest.SkipWithoutMySQL(t)
	mailingtest.TestStore(t, func(t *testing.T) mailing.Store { return newStore(t, sqlstore.MySQL) })
}
