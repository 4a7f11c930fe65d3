package accounts

import "time"

// Clock tells the time. The Service reads token expiry and creation times
// from it, so tests drive it with accountstest.FakeClock. Any clock with a
// Now method fits, mailing.Clock included.
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
