package mailingtest

import (
	"context"
	"sync"
	"time"

	"github.com/skychimp/skychimp/mailing"
)

// FakeClock is a mailing.Clock whose time moves only when Set or Advance is
// called. It is safe for concurrent use.
//
// Code under test that waits on After can be synchronised with BlockUntil:
//
//	go engine.Run(ctx)             // waits on clock.After(time.Minute)
//	clock.BlockUntil(ctx, 1)       // until the engine is waiting
//	clock.Advance(time.Minute)     // wakes it
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
	// added is closed (and replaced) whenever a waiter is added, so
	// BlockUntil can wait for it together with ctx.
	added chan struct{}
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

var _ mailing.Clock = (*FakeClock)(nil)

// NewFakeClock returns a clock that reads t (in UTC).
func NewFakeClock(t time.Time) *FakeClock {
	return &FakeClock{now: t.UTC(), added: make(chan struct{})}
}

// Now returns the clock's current time, in UTC.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t (forwards or backwards) and fires every After
// channel whose time has come.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
	c.fire()
}

// Advance moves the clock forward by d and fires every After channel whose
// time has come.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fire()
}

// After returns a channel (buffered, capacity 1) that receives the clock's
// time once Set or Advance moves it to or past Now()+d. When d <= 0 the
// channel holds the current time at once.
func (c *FakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, &fakeWaiter{at: c.now.Add(d), ch: ch})
	close(c.added)
	c.added = make(chan struct{})
	return ch
}

// Waiters returns the number of After channels that have not fired yet.
func (c *FakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// BlockUntil waits until at least n After channels are pending, or until
// ctx ends (returning ctx.Err()). It does not poll: it wakes on each new
// waiter.
func (c *FakeClock) BlockUntil(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.waiters) >= n {
			c.mu.Unlock()
			return nil
		}
		added := c.added
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-added:
		}
	}
}

// fire sends the time to every due waiter and drops it. c.mu is held.
func (c *FakeClock) fire() {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now // capacity 1, sent once: never blocks
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}
