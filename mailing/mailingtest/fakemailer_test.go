package mailingtest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

func kindOf(tb testing.TB, err error) mailing.FailureKind {
	tb.Helper()
	var se *mailing.SendError
	require.True(tb, errors.As(err, &se), "not a SendError: %v", err)
	return se.Kind
}

func TestFakeMailer(t *testing.T) {
	t.Run("RecordsSends", func(t *testing.T) {
		var m mailingtest.FakeMailer // the zero value works
		hdr := map[string]string{"X-Skychimp-Delivery": "1"}
		reply, err := m.Send(t.Context(), mailing.Envelope{To: "Ann@example.org", Subject: "a", Headers: hdr})
		require.NoError(t, err)
		assert.Equal(t, 250, reply.Code)
		assert.NotEmpty(t, reply.Text)
		hdr["X-Skychimp-Delivery"] = "changed"
		_, err = m.Send(t.Context(), mailing.Envelope{To: "bob@example.org", Subject: "b"})
		require.NoError(t, err)

		assert.Equal(t, 2, m.Count())
		sent := m.Sent()
		require.Len(t, sent, 2)
		assert.Equal(t, "a", sent[0].Subject)
		assert.Equal(t, "1", sent[0].Headers["X-Skychimp-Delivery"], "the record must not alias the caller's map")
		require.Len(t, m.SentTo("ann@EXAMPLE.org"), 1)
		assert.Empty(t, m.SentTo("nobody@example.org"))
		assert.Len(t, m.Attempts(), 2)
	})
	t.Run("FailNext", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		m.FailNext(2, nil)
		m.FailNext(1, mailingtest.PermError(554, "no"))
		for _, want := range []mailing.FailureKind{mailing.Temporary, mailing.Temporary, mailing.Permanent} {
			_, err := m.Send(t.Context(), mailing.Envelope{To: "a@example.org"})
			assert.Equal(t, want, kindOf(t, err))
		}
		_, err := m.Send(t.Context(), mailing.Envelope{To: "a@example.org"})
		require.NoError(t, err)
		assert.Equal(t, 1, m.Count())
		attempts := m.Attempts()
		require.Len(t, attempts, 4)
		assert.Error(t, attempts[0].Err)
		assert.NoError(t, attempts[3].Err)
	})
	t.Run("FailRecipient", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		m.FailRecipient("greylist@example.org", mailingtest.TempError(451, "later"), 2)
		m.FailRecipient("gone@example.org", mailingtest.PermError(550, "gone"), -1)
		for range 2 {
			_, err := m.Send(t.Context(), mailing.Envelope{To: "Greylist@example.org"})
			assert.Equal(t, mailing.Temporary, kindOf(t, err))
		}
		_, err := m.Send(t.Context(), mailing.Envelope{To: "greylist@example.org"})
		assert.NoError(t, err)
		for range 3 {
			_, err := m.Send(t.Context(), mailing.Envelope{To: "gone@example.org"})
			assert.Equal(t, mailing.Permanent, kindOf(t, err))
		}
		m.FailRecipient("gone@example.org", nil, 0)
		_, err = m.Send(t.Context(), mailing.Envelope{To: "gone@example.org"})
		assert.NoError(t, err)
	})
	t.Run("Handler", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		m.SetHandler(func(_ context.Context, e mailing.Envelope) (mailing.Reply, error) {
			if e.Subject == "bad" {
				return mailing.Reply{}, mailingtest.UnknownError("connection lost")
			}
			return mailing.Reply{Code: 250, Text: "custom"}, nil
		})
		reply, err := m.Send(t.Context(), mailing.Envelope{To: "a@example.org"})
		require.NoError(t, err)
		assert.Equal(t, "custom", reply.Text)
		_, err = m.Send(t.Context(), mailing.Envelope{To: "a@example.org", Subject: "bad"})
		assert.Equal(t, mailing.Unknown, kindOf(t, err))
		assert.Equal(t, 1, m.Count())
	})
	t.Run("CancelledContext", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := m.Send(ctx, mailing.Envelope{To: "a@example.org"})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, mailing.Temporary, kindOf(t, err))
		assert.Zero(t, m.Count())
	})
	t.Run("BlockThenRelease", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		release := m.Block()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				_, err := m.Send(t.Context(), mailing.Envelope{To: "a@example.org"})
				assert.NoError(t, err)
			})
		}
		require.NoError(t, m.BlockUntil(t.Context(), 3))
		assert.Equal(t, 3, m.Waiting())
		assert.Zero(t, m.Count())
		release()
		release()
		wg.Wait()
		assert.Equal(t, 3, m.Count())
		_, err := m.Send(t.Context(), mailing.Envelope{To: "a@example.org"})
		assert.NoError(t, err, "released: sends go through")
	})
	t.Run("BlockThenCancel", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		defer m.Block()()
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, err := m.Send(ctx, mailing.Envelope{To: "a@example.org"})
			errc <- err
		}()
		require.NoError(t, m.BlockUntil(t.Context(), 1))
		cancel()
		err := <-errc
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, mailing.Temporary, kindOf(t, err))
		assert.Zero(t, m.Waiting())
		assert.Len(t, m.Attempts(), 1)
	})
	t.Run("BlockUntilHonoursContext", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		assert.ErrorIs(t, m.BlockUntil(ctx, 1), context.Canceled)
	})
	t.Run("Concurrent", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		m.FailRecipient("x@example.org", nil, -1)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				for j := range 20 {
					_, _ = m.Send(t.Context(), mailing.Envelope{To: fmt.Sprintf("u%d-%d@example.org", i, j)})
					_, _ = m.Send(t.Context(), mailing.Envelope{To: "x@example.org"})
					_ = m.Count()
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 320, m.Count())
		assert.Len(t, m.Attempts(), 640)
	})
	t.Run("Reset", func(t *testing.T) {
		m := mailingtest.NewFakeMailer()
		m.FailNext(5, nil)
		_, _ = m.Send(t.Context(), mailing.Envelope{To: "a@example.org"})
		m.Reset()
		_, err := m.Send(t.Context(), mailing.Envelope{To: "a@example.org"})
		assert.NoError(t, err)
		assert.Equal(t, 1, m.Count())
		assert.Len(t, m.Attempts(), 1)
	})
}

func ExampleFakeMailer() {
	m := mailingtest.NewFakeMailer()
	m.FailNext(1, mailingtest.TempError(451, "4.7.1 try later"))
	m.FailRecipient("bob@example.org", mailingtest.PermError(550, "5.1.1 no such user"), -1)

	ctx := context.Background()
	for _, to := range []string{"ann@example.org", "ann@example.org", "bob@example.org"} {
		reply, err := m.Send(ctx, mailing.Envelope{To: to, Subject: "Hi"})
		fmt.Println(to, reply.Code, err)
	}
	fmt.Println(m.Count(), len(m.SentTo("ANN@example.org")), len(m.Attempts()))
	// Output:
	// ann@example.org 0 temporary failure: 451 4.7.1 try later
	// ann@example.org 250 <nil>
	// bob@example.org 0 permanent failure: 550 5.1.1 no such user
	// 1 1 3
}
