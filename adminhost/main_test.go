package adminhost_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/skychimp/skychimp/adminhost/internal/hosttest"
	"github.com/skychimp/skychimp/internal/sqldb"
)

// env is the one host of this test binary (GoAdmin allows one per process),
// over a seeded SQLite database.
var env *hosttest.Env

func TestMain(m *testing.M) {
	var err error
	env, err = hosttest.Open(context.Background(), sqldb.SQLite)
	if err != nil {
		fmt.Fprintln(os.Stderr, "adminhost tests: cannot build the host:", err)
		os.Exit(1)
	}
	code := m.Run()
	env.Close()
	os.Exit(code)
}
