package mailingtest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

var clockStart = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestFakeClock(t *testing.T) {
	t.Run("NowIsUTC", func(t *testing.T) {
		moscow := time.FixedZone("MSK", 3*60*60)
		c := mailingtest.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, moscow))
		var _ mailing.Clock = c
		assert.Equal(t, clockStart, c.Now())
		assert.Equal(t, time.UTC, c.Now().Location())

		c.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, moscow))
		assert.Equal(t, clockStart.Add(24*time.Hour), c.Now())
		c.Advance(90 * time.Second)
		assert.Equal(t, clockStart.Add(24*time.Hour+90*time.Second), c.Now())
	})

	t.Run("AfterFiresOnAdvance", func(t *testing.T) {
		c := mailingtest.NewFakeClock(clockStart)
		ch := c.After(time.Minute)
		assert.Equal(t, 1, c.Waiters())

		c.Advance(59 * time.Second)
		assertNotFired(t, ch)
		assert.Equal(t, 1, c.Waiters())

		c.Advance(time.Second)
		assertFired(t, ch, clockStart.Add(time.Minute))
		assert.Equal(t, 0, c.Waiters())

		c.Advance(time.Hour) // fires once only
		assertNotFired(t, ch)
	})

	t.Run("AfterFiresOnSetPast", func(t *testing.T) {
		c := mailingtest.NewFakeClock(clockStart)
		short := c.After(time.Minute)
		long := c.After(time.Hour)
		c.Set(clockStart.Add(2 * time.Minute))
		assertFired(t, short, clockStart.Add(2*time.Minute))
		assertNotFired(t, long)
		assert.Equal(t, 1, c.Waiters())

		c.Set(clockStart) // backwards: nothing fires
		assertNotFired(t, long)
		c.Set(clockStart.Add(time.Hour))
		assertFired(t, long, clockStart.Add(time.Hour))
		assert.Equal(t, 0, c.Waiters())
	})

	t.Run("AfterNonPositiveFiresAtOnce", func(t *testing.T) {
		c := mailingtest.NewFakeClock(clockStart)
		assertFired(t, c.After(0), clockStart)
		assertFired(t, c.After(-time.Second), clockStart)
		assert.Equal(t, 0, c.Waiters())
	})

	t.Run("BlockUntilWaiters", func(t *testing.T) {
		c := mailingtest.NewFakeClock(clockStart)
		ctx := t.Context()
		var wg sync.WaitGroup
		woke := make(chan time.Time, 3)
		for i := range 3 {
			wg.Go(func() {
				woke <- <-c.After(time.Duration(i+1) * time.Second)
			})
		}
		require.NoError(t, c.BlockUntil(ctx, 3))
		assert.Equal(t, 3, c.Waiters())
		c.Advance(3 * time.Second)
		wg.Wait()
		close(woke)
		n := 0
		for got := range woke {
			assert.Equal(t, clockStart.Add(3*time.Second), got)
			n++
		}
		assert.Equal(t, 3, n)
		require.NoError(t, c.BlockUntil(ctx, 0))
	})

	t.Run("BlockUntilContextEnds", func(t *testing.T) {
		c := mailingtest.NewFakeClock(clockStart)
		c.After(time.Second)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- c.BlockUntil(ctx, 2) }()
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})

	t.Run("ConcurrentUse", func(t *testing.T) {
		c := mailingtest.NewFakeClock(clockStart)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 100 {
					ch := c.After(time.Millisecond)
					c.Advance(time.Millisecond)
					<-ch
					_ = c.Now()
					_ = c.Waiters()
				}
			})
		}
		wg.Wait()
		assert.Equal(t, clockStart.Add(400*time.Millisecond), c.Now())
		assert.Equal(t, 0, c.Waiters())
	})
}

func assertFired(tb testing.TB, ch <-chan time.Time, want time.Time) {
	tb.Helper()
	select {
	case got := <-ch:
		assert.Equal(tb, want, got)
	default:
		tb.Errorf("After channel has not fired; want it to fire with %s", want)
	}
}

func assertNotFired(tb testing.TB, ch <-chan time.Time) {
	tb.Helper()
	select {
	case got := <-ch:
		tb.Errorf("After channel fired with %s; want it pending", got)
	default:
	}
}
