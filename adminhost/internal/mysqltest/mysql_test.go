// Package mysqltest runs the admin host's attack matrix and scenarios on
// MySQL/MariaDB (the server named by SKYCHIMP_TEST_MYSQL), in a test binary
// of its own: GoAdmin allows one host per process, and the adminhost
// package's tests build theirs on SQLite.
package mysqltest_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skychimp/skychimp/adminhost/internal/hosttest"
	"github.com/skychimp/skychimp/internal/sqldb"
)

var env *hosttest.Env

func TestMain(m *testing.M) {
	if os.Getenv(hosttest.MySQLEnv) != "" {
		var err error
		env, err = hosttest.Open(context.Background(), sqldb.MySQL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "adminhost MySQL tests: cannot build the host:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if env != nil {
		env.Close()
	}
	os.Exit(code)
}

func skipWithoutMySQL(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip(hosttest.MySQLEnv + " is unset, so there is no MySQL server to test against: set it to a DSN such as root@tcp(127.0.0.1:3306)/test")
	}
}

// TestAttackMatrix runs every table x route x role case on MySQL.
func TestAttackMatrix(t *testing.T) {
	skipWithoutMySQL(t)
	res := hosttest.RunMatrix(t, env)
	assert.Zero(t, res.Leaks, "leaks")
}

// TestScenarios runs the end-to-end scenarios on MySQL.
func TestScenarios(t *testing.T) {
	skipWithoutMySQL(t)
	hosttest.RunScenarios(t, env)
}

// BenchmarkDashboardPage times GET /admin on MySQL at 10k and 1M
// deliveries (hosttest.BenchDashboardPage); run it alone, with -run '^$'.
func BenchmarkDashboardPage(b *testing.B) {
	if env == nil {
		b.Skip(hosttest.MySQLEnv + " is unset")
	}
	hosttest.BenchDashboardPage(b, env)
}
