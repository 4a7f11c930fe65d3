package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/blog/blogtest"
	"github.com/skychimp/skychimp/blog/sqlstore"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
)

// newStore opens a fresh migrated store of dialect d on its own database.
func newStore(tb testing.TB, d sqldb.Dialect) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.New(sqldbtest.New(tb, d), d)
	require.NoError(tb, err)
	require.NoError(tb, s.Migrate(context.Background()))
	return s
}

func TestStoreSQLite(t *testing.T) {
	blogtest.TestStore(t, func(t *testing.T) blog.Store { return newStore(t, sqldb.SQLite) })
}

func TestStoreMySQL(t *testing.T) {
	sqldbtest.SkipWithoutMySQL(t)
	blogtest.TestStore(t, func(t *testing.T) blog.Store { return newStore(t, sqldb.MySQL) })
}

func TestMigrate(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		s := newStore(t, d)
		st, err := s.MigrationStatus(t.Context())
		require.NoError(t, err)
		assert.True(t, st.UpToDate())
		assert.EqualValues(t, 1, st.Current)
		require.NoError(t, s.Migrate(t.Context()), "a second run changes nothing")
	})
}

func TestNew(t *testing.T) {
	_, err := sqlstore.New(nil, sqldb.SQLite)
	assert.Error(t, err)
	_, err = sqlstore.New(nil, "pg")
	assert.ErrorContains(t, err, "unknown dialect")
}
