package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/bench"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
)

func TestRun(t *testing.T) {
	t.Run("MeasuresEveryCase", func(t *testing.T) {
		mysql := os.Getenv(sqldbtest.MySQLEnv)
		var log bytes.Buffer
		rep, err := bench.Run(context.Background(), bench.Config{
			Sizes: []int{200}, Workers: 4, Connections: 2, MySQL: mysql, Dir: t.TempDir(), Log: &log,
		})
		require.NoError(t, err)
		want := []string{bench.CaseSMTP, bench.CaseSQLite}
		if mysql != "" {
			want = append(want, bench.CaseMySQL)
		} else {
			require.Len(t, rep.Skipped, 1)
			assert.Contains(t, rep.Skipped[0], "mysql")
		}
		require.Len(t, rep.Results, len(want))
		for i, r := range rep.Results {
			assert.Equal(t, want[i], r.Case)
			assert.Equal(t, 200, r.N)
			assert.Positive(t, r.Seconds, r.Case)
			assert.Positive(t, r.MsgsPerSec, r.Case)
			assert.Positive(t, r.Ratio, r.Case)
			assert.Positive(t, r.PeakHeapMB, r.Case)
			assert.Positive(t, r.FirstMessageMS, r.Case)
			assert.LessOrEqual(t, r.FirstMessageMS, r.Seconds*1000, r.Case)
			assert.Positive(t, r.MicrosPerRecipient, r.Case)
			assert.Equal(t, 1, r.Runs, r.Case)
		}
		assert.InDelta(t, 1.0, rep.Results[0].Ratio, 1e-9, "the ceiling is its own reference")
		assert.Contains(t, log.String(), "sqlite n=200: sending")

		var table bytes.Buffer
		require.NoError(t, rep.WriteTable(&table))
		assert.Contains(t, table.String(), "msgs/s")
		assert.Contains(t, table.String(), "sqlite")
		_, err = json.Marshal(rep)
		require.NoError(t, err)
	})

	t.Run("OnlyTheCasesAsked", func(t *testing.T) {
		rep, err := bench.Run(context.Background(), bench.Config{Sizes: []int{20, 30}, Workers: 2, Connections: 1, Cases: []string{bench.CaseSMTP}})
		require.NoError(t, err)
		require.Len(t, rep.Results, 2)
		assert.Equal(t, 20, rep.Results[0].N)
		assert.Equal(t, 30, rep.Results[1].N)
		assert.Empty(t, rep.Skipped)
	})

	t.Run("KeepsTheFastestOfRepeatedRuns", func(t *testing.T) {
		rep, err := bench.Run(context.Background(), bench.Config{Sizes: []int{20}, Workers: 2, Connections: 1, Cases: []string{bench.CaseSMTP}, Repeat: 3})
		require.NoError(t, err)
		require.Len(t, rep.Results, 1)
		assert.Equal(t, 3, rep.Results[0].Runs)
		assert.Equal(t, 3, rep.Repeat)
	})

	t.Run("ErrBadSize", func(t *testing.T) {
		_, err := bench.Run(context.Background(), bench.Config{Sizes: []int{0}})
		assert.ErrorContains(t, err, "size 0")
	})

	t.Run("ErrCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := bench.Run(ctx, bench.Config{Sizes: []int{50}, Workers: 2, Connections: 1, Cases: []string{bench.CaseSQLite}, Dir: t.TempDir()})
		assert.ErrorIs(t, err, context.Canceled)
	})
}

// benchRecipients is the number of recipients per iteration of the
// benchmarks below.
const benchRecipients = 10_000

// BenchmarkCeiling sends 10,000 messages per iteration with the SMTP
// client alone to an in-process sink (16 goroutines, 8 connections).
func BenchmarkCeiling(b *testing.B) {
	var sum float64
	for range b.N {
		r, err := bench.RunSMTP(b.Context(), bench.Config{}, benchRecipients)
		require.NoError(b, err)
		sum += r.MsgsPerSec
	}
	b.ReportMetric(sum/float64(b.N), "msgs/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEngineSQLite sends a due mailing to 10,000 clients per
// iteration through the engine with its ledger on SQLite (setup not
// timed by the metric).
func BenchmarkEngineSQLite(b *testing.B) {
	benchEngine(b, func(b *testing.B, i int) string {
		return "sqlite:" + filepath.Join(b.TempDir(), "bench-"+strconv.Itoa(i)+".db")
	})
}

// BenchmarkEngineMySQL is BenchmarkEngineSQLite on a fresh database of the
// server of SKYCHIMP_TEST_MYSQL per iteration.
func BenchmarkEngineMySQL(b *testing.B) {
	sqldbtest.SkipWithoutMySQL(b)
	benchEngine(b, func(b *testing.B, _ int) string { return sqldbtest.MySQLURL(b) })
}

func benchEngine(b *testing.B, url func(b *testing.B, i int) string) {
	b.Helper()
	var rate, heap, first float64
	for i := range b.N {
		r, err := bench.RunEngine(b.Context(), bench.Config{}, "engine", url(b, i), benchRecipients)
		require.NoError(b, err)
		rate += r.MsgsPerSec
		heap = max(heap, r.PeakHeapMB)
		first = max(first, r.FirstMessageMS)
	}
	b.ReportMetric(rate/float64(b.N), "msgs/s")
	b.ReportMetric(heap, "peak-heap-MB")
	b.ReportMetric(first, "first-msg-ms")
	b.ReportMetric(0, "ns/op")
}
