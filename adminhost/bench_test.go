package adminhost_test

import (
	"testing"

	"github.com/skychimp/skychimp/adminhost/internal/hosttest"
)

// BenchmarkDashboardPage times GET /admin on SQLite at 10k and 1M
// deliveries (hosttest.BenchDashboardPage). It adds a million rows to the
// tests' database: run it alone,
//
//	go test -run '^$' -bench BenchmarkDashboardPage ./adminhost
func BenchmarkDashboardPage(b *testing.B) { hosttest.BenchDashboardPage(b, env) }
