package dashbench

import (
	"slices"
	"testing"
	"time"
)

// Latencies records how long each call of a benchmark took.
type Latencies struct {
	d []time.Duration
}

// Time calls f and records how long it took.
func (l *Latencies) Time(f func()) {
	start := time.Now()
	f()
	l.d = append(l.d, time.Since(start))
}

// Percentile returns the duration that p percent of the calls took at
// most (nearest rank), 0 without calls.
func (l *Latencies) Percentile(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Report adds p50, p99 (in milliseconds) and the number of calls to b's
// results.
func (l *Latencies) Report(b *testing.B) {
	b.ReportMetric(float64(l.Percentile(50))/1e6, "p50-ms")
	b.ReportMetric(float64(l.Percentile(99))/1e6, "p99-ms")
	b.ReportMetric(float64(len(l.d)), "calls")
}
