package accountstest

import (
	"context"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/skychimp/skychimp/accounts"
)

// FakeClock is an accounts.Clock that moves only when told to. It is safe
// for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a clock that reads t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t.UTC()} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// FastArgon2 are argon2id parameters cheap enough for tests (64 KiB, one
// pass): never use them for real passwords.
var FastArgon2 = accounts.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// FastHasher returns a PasswordHasher with FastArgon2.
func FastHasher() *accounts.PasswordHasher { return accounts.NewPasswordHasher(FastArgon2) }

// FakeNotifier is an accounts.Notifier that records every notice. Set Err
// to make Notify fail (the notice is not recorded then). It is safe for
// concurrent use.
type FakeNotifier struct {
	mu      sync.Mutex
	notices []accounts.Notice
	err     error
}

var _ accounts.Notifier = (*FakeNotifier)(nil)

// Notify records n, or returns the error set with Fail.
func (f *FakeNotifier) Notify(ctx context.Context, n accounts.Notice) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.notices = append(f.notices, n)
	return nil
}

// Fail makes every later Notify return err; nil makes it succeed again.
func (f *FakeNotifier) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Notices returns the notices recorded so far, oldest first.
func (f *FakeNotifier) Notices() []accounts.Notice {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.notices)
}

// Last returns the latest notice of kind sent to email (compared
// case-insensitively), and whether there is one.
func (f *FakeNotifier) Last(kind accounts.NoticeKind, email string) (accounts.Notice, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.notices) - 1; i >= 0; i-- {
		n := f.notices[i]
		if n.Kind == kind && accounts.EmailKey(n.User.Email) == accounts.EmailKey(email) {
			return n, true
		}
	}
	return accounts.Notice{}, false
}

// Count returns how many notices of kind were sent to email.
func (f *FakeNotifier) Count(kind accounts.NoticeKind, email string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, x := range f.notices {
		if x.Kind == kind && accounts.EmailKey(x.User.Email) == accounts.EmailKey(email) {
			n++
		}
	}
	return n
}

// Reset forgets the notices recorded so far.
func (f *FakeNotifier) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notices = nil
}

// TokenFrom returns the "token" query parameter of a link, or "".
func TokenFrom(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Query().Get("token")
}
