package mailing_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

// The scheduler tests run inside a synctest bubble: its clock is virtual,
// so the engine uses mailing.SystemClock, go-quartz's timers run on the
// same clock, time.Sleep(3 * time.Hour) returns at once, and
// synctest.Wait returns once every goroutine of the bubble (the
// scheduler's loop, quartz, the engine's workers) is blocked.

// sendLog records when each message was sent, by the bubble's clock.
type sendLog struct {
	mu    sync.Mutex
	sends []sentAt
}

type sentAt struct {
	to string
	at time.Time
}

func (l *sendLog) handler(_ context.Context, e mailing.Envelope) (mailing.Reply, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sends = append(l.sends, sentAt{to: e.To, at: time.Now()})
	return mailing.Reply{Code: 250, Text: "2.0.0 Ok"}, nil
}

func (l *sendLog) all() []sentAt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sentAt(nil), l.sends...)
}

// scheduled is a scheduler over MemStore and FakeMailer on the system
// clock (virtual inside a bubble), with a Service whose changes kick it.
type scheduled struct {
	store   *mailingtest.MemStore
	log     *sendLog
	sched   *mailing.Scheduler
	svc     *mailing.Service // changes kick the scheduler
	mu      sync.Mutex
	npasses int
	clients []int64
	message int64
}

// newScheduled builds the scheduler and a user's clients and message.
// Call it inside the bubble.
func newScheduled(t testing.TB, clients int) *scheduled {
	t.Helper()
	s := &scheduled{store: mailingtest.NewMemStore(), log: &sendLog{}}
	mailer := mailingtest.NewFakeMailer()
	mailer.SetHandler(s.log.handler)
	engine := mailing.NewEngine(s.store, mailer, mailing.SystemClock{}, quiet(fastConfig()))
	var err error
	s.sched, err = mailing.NewScheduler(engine, mailing.SchedulerConfig{
		Interval: time.Minute,
		Logger:   slog.New(slog.DiscardHandler),
		OnPass: func(_ mailing.Summary, err error) {
			assert.NoError(t, err, "scheduled pass")
			s.mu.Lock()
			s.npasses++
			s.mu.Unlock()
		},
	})
	require.NoError(t, err)
	s.svc = mailing.NewService(s.store, mailing.SystemClock{}, mailing.WithChangeHook(s.sched.KickHook))
	batch := make([]mailing.Client, clients)
	for i := range batch {
		batch[i] = mailing.Client{Email: fmt.Sprintf("client%04d@example.com", i), Name: fmt.Sprintf("Client %d", i)}
	}
	cs, err := s.svc.ImportClients(as(alice), batch)
	require.NoError(t, err)
	for _, c := range cs {
		s.clients = append(s.clients, c.ID)
	}
	msg, err := s.svc.CreateMessage(as(alice), mailing.Message{Subject: "Hello {{.Name}}", Body: "<p>Dear {{.Name}}</p>"})
	require.NoError(t, err)
	s.message = msg.ID
	return s
}

// run starts the scheduler; stop cancels it and reports Run's error once
// it has returned, failing the test if it has not.
func (s *scheduled) run(t testing.TB) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.sched.Run(ctx) }()
	return func() error {
		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			return err
		default:
			t.Fatal("Run did not return after its context was cancelled")
			return nil
		}
	}
}

func (s *scheduled) passCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.npasses
}

// daily creates a daily mailing to every client from start for 10 days,
// through svc.
func (s *scheduled) daily(t testing.TB, svc *mailing.Service, start time.Time) mailing.Mailing {
	t.Helper()
	m, err := svc.CreateMailing(as(alice), mailing.Mailing{
		MessageID: s.message, ClientIDs: s.clients,
		Start: start, End: start.AddDate(0, 0, 10), Period: mailing.Daily,
	})
	require.NoError(t, err)
	return m
}

// assertSentAt checks that sends holds one message per client, each within
// a second of at.
func assertSentAt(t testing.TB, sends []sentAt, clients int, at time.Time) {
	t.Helper()
	require.Len(t, sends, clients)
	seen := map[string]bool{}
	for _, s := range sends {
		assert.WithinDuration(t, at, s.at, time.Second, "message to %s", s.to)
		assert.False(t, seen[s.to], "a second message to %s", s.to)
		seen[s.to] = true
	}
}

func TestSchedulerSendsAtStartThenDaily(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const clients = 3
		s := newScheduled(t, clients)
		stop := s.run(t)
		synctest.Wait() // the first pass, at once: nothing to send

		// The start is off the one-minute tick, so a message sent on time
		// shows that the scheduler woke for it, not for the next tick.
		start := time.Now().Add(3*time.Hour - 25*time.Second)
		s.daily(t, s.svc, start)
		synctest.Wait()
		assert.Empty(t, s.log.all(), "nothing before the start")

		time.Sleep(3 * time.Hour)
		synctest.Wait()
		assertSentAt(t, s.log.all(), clients, start)
		assert.GreaterOrEqual(t, s.passCount(), 180, "a pass every minute meanwhile")

		time.Sleep(24 * time.Hour)
		synctest.Wait()
		sends := s.log.all()
		require.Len(t, sends, 2*clients, "one more run a day later, and nothing else")
		assertSentAt(t, sends[clients:], clients, start.Add(24*time.Hour))

		require.NoError(t, stop())
	})
}

func TestSchedulerSendsChangedMailingAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const clients = 2
		s := newScheduled(t, clients)
		stop := s.run(t)
		time.Sleep(90 * time.Second) // between two ticks
		synctest.Wait()

		now := time.Now()
		s.daily(t, s.svc, now.Add(-time.Hour)) // inside its window: due now
		synctest.Wait()                        // no time passes: the change hook kicked a pass
		assertSentAt(t, s.log.all(), clients, now)
		assert.Equal(t, now, time.Now(), "sent without waiting")

		// Without the hook, a change waits for the next tick (at most Interval).
		noHook := mailing.NewService(s.store, mailing.SystemClock{})
		s.daily(t, noHook, now.Add(-time.Hour))
		synctest.Wait()
		assert.Len(t, s.log.all(), clients, "not sent before the tick")
		time.Sleep(time.Minute)
		synctest.Wait()
		sends := s.log.all()
		require.Len(t, sends, 2*clients)
		assert.WithinRange(t, sends[clients].at, now, now.Add(time.Minute), "sent at the next tick")

		require.NoError(t, stop())
	})
}

func TestSchedulerFirstPassCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduled(t, 2)
		// Created while no scheduler ran: its run is due already.
		start := time.Now().Add(-2 * time.Hour)
		s.daily(t, s.svc, start)
		now := time.Now()
		stop := s.run(t)
		synctest.Wait()
		assertSentAt(t, s.log.all(), 2, now)
		require.NoError(t, stop())
	})
}

func TestSchedulerStopsWhenCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduled(t, 1)
		stop := s.run(t)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		passes := s.passCount()
		assert.GreaterOrEqual(t, passes, 10)
		require.NoError(t, stop(), "Run returns nil when its context ends")
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, passes, s.passCount(), "no pass after Run returned")
		// synctest.Test fails if any goroutine (quartz's included) is left.
	})
}
