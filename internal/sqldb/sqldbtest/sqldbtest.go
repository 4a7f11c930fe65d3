// Package sqldbtest gives tests a fresh, isolated database of each dialect:
// a SQLite file in a temporary directory, or a uniquely named MySQL
// database on the server named by SKYCHIMP_TEST_MYSQL, dropped after the
// test.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/sqldb"
)

// MySQLEnv names the environment variable holding the DSN of a MySQL or
// MariaDB server for tests, e.g.
// "root@tcp(127.0.0.1:3306)/test?parseTime=true&loc=UTC". Its database part
// is ignored: every test gets its own database.
const MySQLEnv = "SKYCHIMP_TEST_MYSQL"

// SQLitePath returns the path of a database file (not yet created) in a
// temporary directory removed after the test.
func SQLitePath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "test.db")
}

// SQLite opens a fresh SQLite database file with sqldb.OpenURL and closes
// it after the test.
func SQLite(tb testing.TB) *sql.DB {
	tb.Helper()
	return Open(tb, "sqlite:"+SQLitePath(tb))
}

// Open opens url with sqldb.OpenURL and closes the pool after the test.
func Open(tb testing.TB, url string) *sql.DB {
	tb.Helper()
	db, _, err := sqldb.OpenURL(context.Background(), url)
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	return db
}

// SkipWithoutMySQL skips the test when SKYCHIMP_TEST_MYSQL is unset.
func SkipWithoutMySQL(tb testing.TB) {
	tb.Helper()
	if os.Getenv(MySQLEnv) == "" {
		tb.Skip(MySQLEnv + " is unset, so there is no MySQL server to test against: set it to a DSN such as root@tcp(127.0.0.1:3306)/test")
	}
}

// MySQLURL creates a uniquely named empty database on the server of
// SKYCHIMP_TEST_MYSQL, drops it after the test, and returns its
// "mysql:DSN" URL for sqldb.OpenURL. It skips the test when the variable
// is unset. Pools opened on the URL must be closed before the test ends
// (Open does that).
func MySQLURL(tb testing.TB) string {
	tb.Helper()
	SkipWithoutMySQL(tb)
	cfg, err := mysql.ParseDSN(os.Getenv(MySQLEnv))
	require.NoError(tb, err, MySQLEnv)
	cfg.DBName = ""
	cfg.Loc = time.UTC
	cfg.ParseTime = true
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(tb, err)
	tb.Cleanup(func() { admin.Close() })

	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "skychimp_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	require.NoError(tb, err, "create test database")
	tb.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return "mysql:" + cfg.FormatDSN()
}

// MySQL opens a fresh MySQL database (see MySQLURL) with sqldb.OpenURL.
func MySQL(tb testing.TB) *sql.DB {
	tb.Helper()
	return Open(tb, MySQLURL(tb))
}

// URL returns the "sqlite:PATH" or "mysql:DSN" URL of a fresh database of
// dialect d (see SQLitePath and MySQLURL).
func URL(tb testing.TB, d sqldb.Dialect) string {
	tb.Helper()
	switch d {
	case sqldb.SQLite:
		return "sqlite:" + SQLitePath(tb)
	case sqldb.MySQL:
		return MySQLURL(tb)
	}
	tb.Fatalf("sqldbtest: unknown dialect %q", d)
	return ""
}

// New opens a fresh database of dialect d, closed after the test.
func New(tb testing.TB, d sqldb.Dialect) *sql.DB {
	tb.Helper()
	return Open(tb, URL(tb, d))
}

// Each runs f as a subtest named after each dialect: "SQLite" always,
// "MySQL" when SKYCHIMP_TEST_MYSQL is set (skipped otherwise).
func Each(t *testing.T, f func(t *testing.T, d sqldb.Dialect)) {
	t.Helper()
	t.Run("SQLite", func(t *testing.T) { f(t, sqldb.SQLite) })
	t.Run("MySQL", func(t *testing.T) {
		SkipWithoutMySQL(t)
		f(t, sqldb.MySQL)
	})
}
