package pages

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		48 * time.Hour:               "48 hours",
		time.Hour:                    "1 hour",
		90 * time.Minute:             "1 hour 30 minutes",
		30 * time.Minute:             "30 minutes",
		time.Minute:                  "1 minute",
		30 * time.Second:             "30 seconds",
		7 * 24 * time.Hour:           "7 days",
		72*time.Hour + 5*time.Minute: "72 hours 5 minutes",
	} {
		assert.Equal(t, want, humanDuration(d), d.String())
	}
}

func TestClientKey(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2::a":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::a":      "2001:db8:1:3::/64",
		"not an address":       "not an address",
	} {
		assert.Equal(t, want, clientKey(ip), ip)
	}
}

func TestLimiterForgetsIdleAddresses(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l := newLimiter(2, time.Second, func() time.Time { return now })
	assert.True(t, l.allow("a"))
	assert.True(t, l.allow("b"))
	assert.True(t, l.allow("b"))
	assert.False(t, l.allow("b"))
	now = now.Add(sweepEvery)
	assert.True(t, l.allow("c"))
	assert.Len(t, l.buckets, 1, "a and b were full again, so forgotten")
}
