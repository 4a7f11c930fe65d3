package mailing_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/smtptest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

// The SMTP mailer of these tests has generous deadlines, so that a busy
// machine never turns a good send into a timeout; the tests that need a
// deadline to fire shorten it with shortSend.
const mailerDeadline = 5 * time.Second

// newSMTPMailer returns a real SMTP mailer for srv, closed after the test.
func newSMTPMailer(tb testing.TB, srv *smtptest.Server, opts ...func(*smtpmailer.Config)) *smtpmailer.Mailer {
	tb.Helper()
	cfg := smtpmailer.Config{
		Host: srv.Host(), Port: srv.Port(), HELO: "engine.test",
		Connections: 2, DialTimeout: mailerDeadline, SendTimeout: mailerDeadline,
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := smtpmailer.New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = m.Close() })
	return m
}

// shortSend sets the mailer's per-message deadline to d.
func shortSend(d time.Duration) func(*smtpmailer.Config) {
	return func(c *smtpmailer.Config) { c.SendTimeout = d }
}

// smtpConfig is the engine configuration of the SMTP tests. The engine's
// SendTimeout also bounds ledger writes, so it stays above the mailer's
// own deadline, which is the one that fires.
func smtpConfig() mailing.EngineConfig {
	cfg := quiet(fastConfig())
	cfg.SendTimeout = 2 * mailerDeadline
	return cfg
}

// newSMTPWorld is a world on a fresh store of kind whose engine sends
// through srv with a real SMTP mailer.
func newSMTPWorld(t testing.TB, kind storeKind, srv *smtptest.Server, clients int, cfg mailing.EngineConfig, opts ...func(*smtpmailer.Config)) *world {
	t.Helper()
	w := newWorld(t, kind.new(t), clients, cfg)
	w.engine = mailing.NewEngine(w.store, newSMTPMailer(t, srv, opts...), w.clock, cfg)
	return w
}

// attemptLog is c's attempt log as "outcome code" lines, oldest first.
func (w *world) attemptLog(t testing.TB, c mailing.Client) []string {
	t.Helper()
	var out []string
	for _, a := range w.attempts(t, c.ID) {
		out = append(out, string(a.Outcome)+" "+strconv.Itoa(a.Code))
	}
	return out
}

// lastAttempt returns c's latest attempt.
func (w *world) lastAttempt(t testing.TB, c mailing.Client) mailing.Attempt {
	t.Helper()
	as := w.attempts(t, c.ID)
	require.NotEmpty(t, as, "attempts of %s", c.Email)
	return as[len(as)-1]
}

// delivery returns c's only delivery.
func (w *world) delivery(t testing.TB, c mailing.Client) mailing.Delivery {
	t.Helper()
	ds := w.deliveries(t, mailing.DeliveryFilter{ClientID: c.ID})
	require.Len(t, ds, 1, "deliveries of %s", c.Email)
	return ds[0]
}

// received counts the messages srv accepted for email.
func received(srv *smtptest.Server, email string) int {
	n := 0
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, email) {
				n++
			}
		}
	}
	return n
}

func TestEngineSMTPFaults(t *testing.T) {
	eachStore(t, func(t *testing.T, kind storeKind) {
		t.Run("SlowDataTimesOutAsUnknown", func(t *testing.T) {
			const deadline = 300 * time.Millisecond
			srv := smtptest.Start(t)
			w := newSMTPWorld(t, kind, srv, 1, smtpConfig(), shortSend(deadline))
			slow := w.clients[0]
			srv.AddRule(smtptest.Rule{Rcpt: slow.Email, Fault: smtptest.SlowData(10 * time.Second)})
			w.mailing(t, t0.Add(-time.Hour), 10)

			start := time.Now()
			sum := w.runDue(t)
			elapsed := time.Since(start)
			assert.Equal(t, mailing.Summary{Runs: 1, Unknown: 1}, sum)
			assert.GreaterOrEqual(t, elapsed, deadline, "the send waited for its deadline")
			assert.Less(t, elapsed, 5*time.Second, "the mailer's deadline fired")

			assert.Equal(t, []string{"unknown 0"}, w.attemptLog(t, slow))
			resp := w.lastAttempt(t, slow).Response
			assert.Contains(t, resp, "no reply after the message body")
			assert.Contains(t, resp, "timeout")
			assert.Equal(t, mailing.DeliveryUnknown, w.delivery(t, slow).State)

			w.clock.Advance(2 * time.Hour)
			assert.Equal(t, mailing.Summary{}, w.runDue(t), "unknown is not resent")
			assert.Equal(t, 1, srv.Tries(slow.Email))
			assert.Zero(t, received(srv, slow.Email))
		})

		t.Run("SlowDataPastEngineTimeoutIsUnknown", func(t *testing.T) {
			srv := smtptest.Start(t)
			cfg := smtpConfig()
			cfg.SendTimeout = time.Second
			w := newSMTPWorld(t, kind, srv, 1, cfg, shortSend(time.Minute))
			slow := w.clients[0]
			srv.AddRule(smtptest.Rule{Rcpt: slow.Email, Fault: smtptest.SlowData(10 * time.Second)})
			w.mailing(t, t0.Add(-time.Hour), 10)

			start := time.Now()
			assert.Equal(t, mailing.Summary{Runs: 1, Unknown: 1}, w.runDue(t))
			elapsed := time.Since(start)
			assert.GreaterOrEqual(t, elapsed, cfg.SendTimeout, "the send waited for the engine's timeout")
			assert.Less(t, elapsed, 5*time.Second, "the engine's timeout fired")
			assert.Equal(t, []string{"unknown 0"}, w.attemptLog(t, slow))
			assert.Contains(t, w.lastAttempt(t, slow).Response, "deadline exceeded")
			assert.Equal(t, mailing.DeliveryUnknown, w.delivery(t, slow).State)
			w.clock.Advance(2 * time.Hour)
			assert.Equal(t, mailing.Summary{}, w.runDue(t), "unknown is not resent")
			assert.Equal(t, 1, srv.Tries(slow.Email))
		})

		for _, tc := range []struct {
			name  string
			fault smtptest.Fault
			code  int
			text  string
		}{
			{"421AtRcptRetriedThenSent", smtptest.Reject(421, "too busy"), 421, "too busy"},
			{"451AtRcptRetriedThenSent", smtptest.Reject(451, "4.7.1 greylisted"), 451, "greylisted"},
			{"451AfterBodyRetriedThenSent", smtptest.RejectData(451, "4.3.0 local error"), 451, "local error"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				srv := smtptest.Start(t)
				w := newSMTPWorld(t, kind, srv, 2, smtpConfig())
				flaky, ok := w.clients[0], w.clients[1]
				srv.AddRule(smtptest.Rule{Rcpt: flaky.Email, Tries: 1, Fault: tc.fault})
				w.mailing(t, t0.Add(-time.Hour), 10)

				assert.Equal(t, mailing.Summary{Runs: 1, Sent: 1, Retried: 1}, w.runDue(t))
				a := w.lastAttempt(t, flaky)
				assert.Equal(t, mailing.OutcomeTemporary, a.Outcome)
				assert.Equal(t, tc.code, a.Code)
				assert.Contains(t, a.Response, tc.text)
				d := w.delivery(t, flaky)
				assert.Equal(t, mailing.DeliveryPending, d.State)
				assert.Equal(t, 1, d.Attempts)
				assert.WithinRange(t, d.NextAttemptAt, t0.Add(48*time.Second), t0.Add(72*time.Second), "a minute of backoff, 20% jitter")

				assert.Equal(t, mailing.Summary{}, w.runDue(t), "the retry waits for its backoff")
				assert.Equal(t, 1, srv.Tries(flaky.Email))

				w.clock.Advance(2 * time.Minute)
				assert.Equal(t, mailing.Summary{Sent: 1}, w.runDue(t))
				assert.Equal(t, []string{"temporary " + strconv.Itoa(tc.code), "sent 250"}, w.attemptLog(t, flaky))
				assert.Equal(t, mailing.DeliverySent, w.delivery(t, flaky).State)
				assert.Equal(t, []string{"sent 250"}, w.attemptLog(t, ok))
				assert.Equal(t, 2, srv.Tries(flaky.Email))
				assert.Equal(t, 1, received(srv, flaky.Email))
				assert.Equal(t, 1, received(srv, ok.Email))
			})
		}

		t.Run("550FailsAfterOneAttempt", func(t *testing.T) {
			srv := smtptest.Start(t)
			w := newSMTPWorld(t, kind, srv, 2, smtpConfig())
			gone, ok := w.clients[0], w.clients[1]
			srv.AddRule(smtptest.Rule{Rcpt: gone.Email, Fault: smtptest.Reject(550, "5.1.1 no such user")})
			w.mailing(t, t0.Add(-time.Hour), 10)

			assert.Equal(t, mailing.Summary{Runs: 1, Sent: 1, Failed: 1}, w.runDue(t))
			assert.Equal(t, []string{"permanent 550"}, w.attemptLog(t, gone))
			assert.Contains(t, w.lastAttempt(t, gone).Response, "no such user")
			d := w.delivery(t, gone)
			assert.Equal(t, mailing.DeliveryFailed, d.State)
			assert.Contains(t, d.LastError, "no such user")

			w.clock.Advance(2 * time.Hour)
			assert.Equal(t, mailing.Summary{}, w.runDue(t), "5xx is never retried")
			assert.Equal(t, 1, srv.Tries(gone.Email))
			assert.Equal(t, []string{"sent 250"}, w.attemptLog(t, ok))
		})

		t.Run("GarbageGreetingRetriedThenSent", func(t *testing.T) {
			srv := smtptest.Start(t)
			srv.SetGarbageGreeting(true)
			w := newSMTPWorld(t, kind, srv, 2, smtpConfig())
			w.mailing(t, t0.Add(-time.Hour), 10)

			assert.Equal(t, mailing.Summary{Runs: 1, Retried: 2}, w.runDue(t))
			for _, c := range w.clients {
				a := w.lastAttempt(t, c)
				assert.Equal(t, mailing.OutcomeTemporary, a.Outcome)
				assert.Zero(t, a.Code)
				assert.Contains(t, a.Response, "greeting")
				assert.Equal(t, mailing.DeliveryPending, w.delivery(t, c).State)
			}
			assert.Equal(t, "closed", w.engine.BreakerState(), "two failures stay below BreakerFailures")

			srv.SetGarbageGreeting(false)
			w.clock.Advance(2 * time.Minute)
			assert.Equal(t, mailing.Summary{Sent: 2}, w.runDue(t))
			for _, c := range w.clients {
				assert.Equal(t, []string{"temporary 0", "sent 250"}, w.attemptLog(t, c))
				assert.Equal(t, 1, received(srv, c.Email))
			}
		})

		t.Run("DropAfterBodyIsUnknown", func(t *testing.T) {
			srv := smtptest.Start(t)
			w := newSMTPWorld(t, kind, srv, 2, smtpConfig())
			lost, ok := w.clients[0], w.clients[1]
			srv.AddRule(smtptest.Rule{Rcpt: lost.Email, Tries: 1, Fault: smtptest.DropAfterBody()})
			w.mailing(t, t0.Add(-time.Hour), 10)

			assert.Equal(t, mailing.Summary{Runs: 1, Sent: 1, Unknown: 1}, w.runDue(t))
			assert.Equal(t, []string{"unknown 0"}, w.attemptLog(t, lost))
			assert.Contains(t, w.lastAttempt(t, lost).Response, "no reply after the message body")
			assert.Equal(t, mailing.DeliveryUnknown, w.delivery(t, lost).State)

			w.clock.Advance(2 * time.Hour)
			assert.Equal(t, mailing.Summary{}, w.runDue(t), "unknown is not resent")
			assert.Equal(t, 1, srv.Tries(lost.Email))
			assert.Zero(t, received(srv, lost.Email))
			assert.Equal(t, 1, received(srv, ok.Email))
		})

		t.Run("DropAfterBodyResentWhenConfigured", func(t *testing.T) {
			srv := smtptest.Start(t)
			cfg := smtpConfig()
			cfg.ResendUnknown = true
			w := newSMTPWorld(t, kind, srv, 1, cfg)
			lost := w.clients[0]
			srv.AddRule(smtptest.Rule{Rcpt: lost.Email, Tries: 1, Fault: smtptest.DropAfterBody()})
			w.mailing(t, t0.Add(-time.Hour), 10)

			assert.Equal(t, mailing.Summary{Runs: 1, Retried: 1}, w.runDue(t))
			assert.Equal(t, mailing.DeliveryPending, w.delivery(t, lost).State)
			w.clock.Advance(2 * time.Minute)
			assert.Equal(t, mailing.Summary{Sent: 1}, w.runDue(t))
			assert.Equal(t, []string{"unknown 0", "sent 250"}, w.attemptLog(t, lost))
			assert.Equal(t, 1, received(srv, lost.Email))
		})

		t.Run("MixedFaultsInOnePass", func(t *testing.T) {
			srv := smtptest.Start(t)
			w := newSMTPWorld(t, kind, srv, 40, smtpConfig(), shortSend(time.Second))
			flaky, gone, lost, slow := w.clients[0], w.clients[1], w.clients[2], w.clients[3]
			srv.AddRule(smtptest.Rule{Rcpt: flaky.Email, Tries: 1, Fault: smtptest.Reject(451, "4.7.1 greylisted")})
			srv.AddRule(smtptest.Rule{Rcpt: gone.Email, Fault: smtptest.Reject(550, "5.1.1 no such user")})
			srv.AddRule(smtptest.Rule{Rcpt: lost.Email, Fault: smtptest.DropAfterBody()})
			srv.AddRule(smtptest.Rule{Rcpt: slow.Email, Fault: smtptest.SlowData(10 * time.Second)})
			w.mailing(t, t0.Add(-time.Hour), 10)

			assert.Equal(t, mailing.Summary{Runs: 1, Sent: 36, Retried: 1, Failed: 1, Unknown: 2}, w.runDue(t))
			w.clock.Advance(2 * time.Minute)
			assert.Equal(t, mailing.Summary{Sent: 1}, w.runDue(t))

			assert.Equal(t, []string{"temporary 451", "sent 250"}, w.attemptLog(t, flaky))
			assert.Equal(t, []string{"permanent 550"}, w.attemptLog(t, gone))
			assert.Equal(t, []string{"unknown 0"}, w.attemptLog(t, lost))
			assert.Equal(t, []string{"unknown 0"}, w.attemptLog(t, slow))
			for _, c := range w.clients[4:] {
				assert.Equal(t, []string{"sent 250"}, w.attemptLog(t, c), c.Email)
				assert.Equal(t, 1, received(srv, c.Email), c.Email)
			}
			assert.Equal(t, 1, received(srv, flaky.Email))
			assert.EqualValues(t, 37, srv.Accepted())
		})
	})
}

// TestEngineSMTPBreaker refuses connections until the circuit breaker
// opens, then brings the server back: the breaker keeps the engine off it
// for its cooldown, lets one probe through, closes, and everything is sent.
//
// The breaker's cooldown runs on the wall clock, so the engine runs inside
// a synctest bubble, whose clock is virtual: time.Sleep there skips ahead
// as soon as every goroutine of the bubble is blocked. The SMTP server stays
// outside the bubble (its goroutines wait on the network, which would stop
// the virtual clock), and is restarted by a goroutine outside it too.
func TestEngineSMTPBreaker(t *testing.T) {
	eachStore(t, func(t *testing.T, kind storeKind) {
		srv := smtptest.Start(t)
		require.NoError(t, srv.Stop())
		restart, restarted := make(chan struct{}), make(chan error)
		go func() {
			for range restart {
				restarted <- srv.Restart()
			}
		}()
		defer close(restart)

		synctest.Test(t, func(t *testing.T) {
			cfg := smtpConfig()
			cfg.Workers = 1 // one send at a time: the breaker opens after exactly BreakerFailures
			cfg.BreakerFailures = 3
			cfg.BreakerCooldown = 30 * time.Second
			w := newSMTPWorld(t, kind, srv, 6, cfg)
			w.mailing(t, t0.Add(-time.Hour), 10)

			sum := w.runDue(t)
			assert.Equal(t, mailing.Summary{Runs: 1, Retried: 3, Deferred: 3, BreakerOpen: true}, sum)
			assert.Equal(t, "open", w.engine.BreakerState())
			for _, c := range w.clients[:3] {
				assert.Equal(t, []string{"temporary 0"}, w.attemptLog(t, c))
				assert.Contains(t, w.lastAttempt(t, c).Response, "refused")
			}
			for _, c := range w.clients[3:] {
				assert.Empty(t, w.attemptLog(t, c), "not tried once the breaker opened")
				d := w.delivery(t, c)
				assert.Equal(t, mailing.DeliveryPending, d.State)
				assert.Empty(t, d.LeaseOwner, "deferred deliveries are released")
			}

			// The server is back and the retries are due, but the breaker
			// keeps the engine off the server until its cooldown ends.
			restart <- struct{}{}
			require.NoError(t, <-restarted)
			w.clock.Advance(2 * time.Minute)
			assert.Equal(t, mailing.Summary{Deferred: 6, BreakerOpen: true}, w.runDue(t))
			assert.Zero(t, srv.Connections(), "no connection while the breaker is open")

			time.Sleep(cfg.BreakerCooldown - time.Second) // virtual: returns at once
			assert.Equal(t, mailing.Summary{Deferred: 6, BreakerOpen: true}, w.runDue(t), "a second before the cooldown ends")
			time.Sleep(2 * time.Second)
			assert.Equal(t, "half-open", w.engine.BreakerState())
			assert.Equal(t, mailing.Summary{Sent: 6}, w.runDue(t), "the probe succeeds and closes the breaker")
			assert.Equal(t, "closed", w.engine.BreakerState())
			for i, c := range w.clients {
				want := []string{"sent 250"}
				if i < 3 {
					want = []string{"temporary 0", "sent 250"}
				}
				assert.Equal(t, want, w.attemptLog(t, c), c.Email)
				assert.Equal(t, 1, received(srv, c.Email), c.Email)
			}
			assert.Equal(t, mailing.Summary{}, w.runDue(t))
		})
	})
}

// TestEngineSMTPCancelAndResume cancels a pass while a message is on the
// wire: that send finishes and is recorded, nothing else starts, and a
// restarted engine sends the rest. The server sees every client once.
func TestEngineSMTPCancelAndResume(t *testing.T) {
	eachStore(t, func(t *testing.T, kind storeKind) {
		const clients = 30
		srv := smtptest.Start(t)
		w := newSMTPWorld(t, kind, srv, clients, smtpConfig())
		m := w.mailing(t, t0.Add(-time.Hour), 10)
		onWire := make(chan struct{}, 1)
		srv.AddRule(smtptest.Rule{Rcpt: w.clients[10].Email, Fault: smtptest.Fault{Stage: smtptest.StageData, Delay: 200 * time.Millisecond, Signal: onWire}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-onWire
			cancel()
		}()

		sum, err := w.engine.RunDue(ctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, sum.Unknown+sum.Failed+sum.Retried, "sends in flight finish and are recorded: %v", sum)
		assert.Less(t, sum.Sent, clients)
		assert.Equal(t, []string{"sent 250"}, w.attemptLog(t, w.clients[10]), "the message on the wire when the pass was cancelled")
		assert.EqualValues(t, sum.Sent, srv.Accepted())
		pending := w.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID, States: []mailing.DeliveryState{mailing.DeliveryPending}})
		assert.Len(t, pending, clients-sum.Sent)

		cfg := smtpConfig()
		cfg.Name = "engine-restarted"
		restarted := mailing.NewEngine(w.store, newSMTPMailer(t, srv), w.clock, cfg)
		rest, err := restarted.RunDue(context.Background())
		require.NoError(t, err)
		assert.Equal(t, mailing.Summary{Sent: clients - sum.Sent}, rest)
		for _, c := range w.clients {
			assert.Equal(t, 1, received(srv, c.Email), "messages to %s", c.Email)
			assert.Equal(t, 1, srv.Tries(c.Email), "tries of %s", c.Email)
		}
		assertLedgerOnce(t, w, m, m.Start)
	})
}
