package sqlstore_test

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
	"github.com/skychimp/skychimp/accounts/sqlstore"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
)

func newStore(tb testing.TB, db *sql.DB, d sqldb.Dialect) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.New(db, d)
	require.NoError(tb, err)
	require.NoError(tb, s.Migrate(tb.Context()))
	return s
}

func TestStoreSQLite(t *testing.T) {
	accountstest.TestStore(t, func(t *testing.T) accounts.Store {
		return newStore(t, sqldbtest.SQLite(t), sqldb.SQLite)
	})
}

func TestStoreMySQL(t *testing.T) {
	sqldbtest.SkipWithoutMySQL(t)
	accountstest.TestStore(t, func(t *testing.T) accounts.Store {
		return newStore(t, sqldbtest.MySQL(t), sqldb.MySQL)
	})
}

func TestMigrate(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := t.Context()
		s, err := sqlstore.New(sqldbtest.New(t, d), d)
		require.NoError(t, err)

		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, sqldb.Status{Current: 0, Latest: 2, Pending: 2}, st, "before")

		require.NoError(t, s.Migrate(ctx))
		require.NoError(t, s.Migrate(ctx), "a second run changes nothing")
		st, err = s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.True(t, st.UpToDate())
		assert.Equal(t, int64(2), st.Current)
	})
}

func TestNewErrUnknownDialect(t *testing.T) {
	_, err := sqlstore.New(&sql.DB{}, "postgres")
	assert.Error(t, err)
}
