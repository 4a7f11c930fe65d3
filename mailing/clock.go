package mailing

import "time"

// Clock tells the time. The engine and the Service never call time.Now
// directly, so tests drive them with mailingtest.FakeClock.
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
