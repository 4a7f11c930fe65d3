package dashbench

import (
	"fmt"
	"testing"
	"time"
)

// World is one ledger size a benchmark compares: its name (10k, 1M),
// the call to time, and what runs beside it while it is timed (nil:
// nothing), started before its round and stopped after.
type World struct {
	Name   string
	Call   func() error
	Beside func() (stop func())
}

// Interleave times the worlds' calls in alternating rounds of about
// round each (at least one call), one round per world per b.Loop
// iteration, so that a machine whose load drifts (shared cores) weighs on
// every world alike. It reports each world's p50 and p99 in milliseconds
// and the last world's p99 over the first's.
func Interleave(b *testing.B, round time.Duration, worlds ...World) {
	lat := make([]Latencies, len(worlds))
	for b.Loop() {
		for i, w := range worlds {
			stop := func() {}
			if w.Beside != nil {
				stop = w.Beside()
			}
			end := time.Now().Add(round)
			for first := true; first || time.Now().Before(end); first = false {
				var err error
				lat[i].Time(func() { err = w.Call() })
				if err != nil {
					stop()
					b.Fatalf("%s: %v", w.Name, err)
				}
			}
			stop()
		}
	}
	for i, w := range worlds {
		b.ReportMetric(float64(lat[i].Percentile(50))/1e6, w.Name+"-p50-ms")
		b.ReportMetric(float64(lat[i].Percentile(99))/1e6, w.Name+"-p99-ms")
		b.ReportMetric(float64(len(lat[i].d)), w.Name+"-calls")
	}
	if n := len(worlds); n > 1 {
		b.ReportMetric(float64(lat[n-1].Percentile(99))/float64(lat[0].Percentile(99)),
			fmt.Sprintf("p99-%s/%s", worlds[n-1].Name, worlds[0].Name))
	}
}
