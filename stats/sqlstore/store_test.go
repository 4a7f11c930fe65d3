package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
	"github.com/skychimp/skychimp/stats/sqlstore"
	"github.com/skychimp/skychimp/stats/statstest"
)

// newStores opens a fresh migrated mailing store of dialect d and the
// stats store on the same database.
func newStores(tb testing.TB, d sqldb.Dialect) statstest.Stores {
	tb.Helper()
	db := sqldbtest.New(tb, d)
	m := mailingsql.New(db, d)
	require.NoError(tb, m.Migrate(context.Background()))
	s, err := sqlstore.New(db, d)
	require.NoError(tb, err)
	return statstest.Stores{Mailing: m, Stats: s}
}

func TestStoreSQLite(t *testing.T) {
	statstest.TestStore(t, func(t *testing.T) statstest.Stores { return newStores(t, sqldb.SQLite) })
}

func TestStoreMySQL(t *testing.T) {
	sqldbtest.SkipWithoutMySQL(t)
	statstest.TestStore(t, func(t *testing.T) statstest.Stores { return newStores(t, sqldb.MySQL) })
}

func TestNew(t *testing.T) {
	_, err := sqlstore.New(nil, sqldb.SQLite)
	assert.Error(t, err)
	_, err = sqlstore.New(nil, "pg")
	assert.ErrorContains(t, err, "unknown dialect")
}
