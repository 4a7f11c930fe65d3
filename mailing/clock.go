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

// After waits for d on the wall clock.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// timerClock is a Clock that can also wait. The engine uses it, when the
// Clock given has it, for rate-limit waits; otherwise it waits on the wall clock.
type timerClock interface {
	Clock
	After(d time.Duration) <-chan time.Time
}
