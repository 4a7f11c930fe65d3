package mailing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

// EngineConfig tunes an Engine. The zero value of every field means its
// documented default.
type EngineConfig struct {
	// Name identifies this engine instance in leases; it must differ between
	// processes sharing a database. Default: host-pid-random.
	Name string
	// Workers is the number of concurrent sends. Default 32 (measured best
	// on 2 cores with 8 SMTP connections, see the README). Give two to
	// eight times as many workers as the Mailer has connections: the ledger
	// starts deliveries in batches of half the workers, and a worker waiting
	// for its batch is then one whose connection would be busy anyway. More
	// workers make bigger batches (fewer ledger transactions, which counts
	// most on a database server) at the price of more deliveries started
	// but not yet on the wire: what a crash leaves unknown, and what still
	// goes out after the mailing is disabled.
	Workers int
	// ClaimBatch is how many deliveries are leased at a time. Default 256.
	ClaimBatch int
	// OpenChunk is how many deliveries of a run are created per ledger
	// transaction when the run is opened. Sending starts after the first
	// chunk, while the rest of the run is opened behind it, so the first
	// message of a run of any size leaves at once and memory does not grow
	// with the run. Default 2000.
	OpenChunk int
	// Lease is how long a claim lasts before another engine may take the
	// deliveries over. It must comfortably exceed the time to send a batch.
	// Default 5 minutes.
	Lease time.Duration
	// Heartbeat is how long the engine's leases outlive the engine. While
	// a pass runs, the engine renews its heartbeat in the ledger every third
	// of it; when the engine dies (killed, or cut off from the database),
	// another engine takes its pending deliveries over, and finds its sends
	// in flight unknown, this long after the last renewal instead of when
	// their leases end. A pass that cannot renew its heartbeat for half of
	// it stops sending. Default 15 s.
	Heartbeat time.Duration
	// SendTimeout bounds one send. A pass cancelled mid-way lets sends in
	// flight finish within this time and records them. Default 60 s.
	SendTimeout time.Duration
	// MaxAttempts is how many temporary failures a delivery may have before
	// it is failed for good. Default 5.
	MaxAttempts int
	// RetryInitial and RetryMax bound the capped exponential backoff between
	// attempts (doubling, with 20% jitter). Defaults 1 minute and 1 hour.
	RetryInitial, RetryMax time.Duration
	// ResendUnknown makes a send whose outcome is unknown (connection lost
	// after the body) be retried like a temporary failure. Default false:
	// the server may have accepted it, and a duplicate is worse.
	ResendUnknown bool
	// RatePerSecond limits sends to the SMTP server (token bucket, burst
	// RateBurst, default burst 1). 0 means unlimited.
	RatePerSecond float64
	RateBurst     int
	// RatePerHour limits sends per hour (token bucket refilling evenly over
	// the hour, burst of the whole hour's allowance). 0 means unlimited.
	RatePerHour int
	// BreakerFailures is how many consecutive connection-level failures open
	// the circuit breaker. Default 5.
	BreakerFailures int
	// BreakerCooldown is how long the breaker stays open before it lets one
	// probe through. Default 30 s.
	BreakerCooldown time.Duration
	// From and FromName are the sender of every message.
	From, FromName string
	// UnsubscribeURL, when set, gives the one-click unsubscribe link of a
	// delivery (List-Unsubscribe).
	UnsubscribeURL func(Delivery) string
	// OnResult, when set, is called after every attempt is recorded (for a
	// progress bar). It must be quick and safe for concurrent use.
	OnResult func(Delivery, Attempt, DeliveryState)
	// Logger receives the engine's log; default slog.Default().
	Logger *slog.Logger
}

func (c *EngineConfig) setDefaults() {
	if c.Name == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.Name = host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Workers, 32)
	def(&c.ClaimBatch, 256)
	def(&c.OpenChunk, 2000)
	def(&c.MaxAttempts, 5)
	def(&c.BreakerFailures, 5)
	def(&c.RateBurst, 1)
	defd(&c.Lease, 5*time.Minute)
	defd(&c.Heartbeat, 15*time.Second)
	defd(&c.SendTimeout, time.Minute)
	defd(&c.RetryInitial, time.Minute)
	defd(&c.RetryMax, time.Hour)
	defd(&c.BreakerCooldown, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Summary counts what one pass did.
type Summary struct {
	Runs     int `json:"runs"`     // runs opened
	Sent     int `json:"sent"`     // delivered
	Failed   int `json:"failed"`   // failed for good (5xx, or out of attempts)
	Retried  int `json:"retried"`  // failed temporarily; retried later
	Unknown  int `json:"unknown"`  // lost after the body (or a dead engine's sends found)
	Deferred int `json:"deferred"` // leased but left untried (cancelled, or breaker open)
	// BreakerOpen says the pass stopped early because the SMTP server is
	// failing; the deferred deliveries wait for a later pass.
	BreakerOpen bool `json:"breaker_open"`
	// Run is the run SendNow sent (zero for other passes).
	Run time.Time `json:"run,omitzero"`
}

// Add adds o's counts to s.
func (s *Summary) Add(o Summary) {
	s.Runs += o.Runs
	s.Sent += o.Sent
	s.Failed += o.Failed
	s.Retried += o.Retried
	s.Unknown += o.Unknown
	s.Deferred += o.Deferred
	s.BreakerOpen = s.BreakerOpen || o.BreakerOpen
	if s.Run.IsZero() {
		s.Run = o.Run
	}
}

func (s Summary) String() string {
	out := fmt.Sprintf("sent %d, failed %d, retried later %d, unknown %d", s.Sent, s.Failed, s.Retried, s.Unknown)
	if s.Deferred > 0 {
		out += fmt.Sprintf(", deferred %d", s.Deferred)
	}
	if s.BreakerOpen {
		out += " (SMTP server failing: circuit breaker open)"
	}
	return out
}

// ErrMailingOver is returned by SendNow for a mailing with no run to send:
// not started yet, ended, or disabled.
var ErrMailingOver = errors.New("mailing: nothing to send now")

// Engine sends mailings: it opens the runs that are due in the ledger,
// leases their deliveries, sends them through a bounded pool of workers,
// and records every attempt. Several engines (in one process or many) may
// share one Store: the ledger makes every client get a run at most once.
//
// Catch-up policy: after downtime only the latest missed run of a mailing is
// sent, once; runs missed before it are skipped, and nothing is sent after
// the mailing's end.
//
// Outcomes: 2xx is sent; 4xx and network errors before the body are retried
// with capped exponential backoff up to MaxAttempts; 5xx fails at once; a
// connection lost after the body is unknown and not resent (ResendUnknown
// changes that). A circuit breaker stops a pass when the server keeps
// failing at the connection level, and token buckets pace the sends. The
// engine never sleeps on the wall clock: its time comes from the Clock.
type Engine struct {
	store   Store
	mailer  Mailer
	clock   Clock
	cfg     EngineConfig
	log     *slog.Logger
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	limits  []*rate.Limiter

	hb heartbeat
}

// heartbeat keeps the engine's heartbeat in the ledger while passes run.
type heartbeat struct {
	mu     sync.Mutex
	passes int           // passes running
	stop   chan struct{} // closed to end the renewing goroutine
	done   chan struct{} // closed when it has ended
	lost   atomic.Bool   // renewals have failed for half of Heartbeat
}

// NewEngine returns an engine sending through mailer. A nil clock means
// SystemClock.
func NewEngine(store Store, mailer Mailer, clock Clock, cfg EngineConfig) *Engine {
	cfg.setDefaults()
	if clock == nil {
		clock = SystemClock{}
	}
	e := &Engine{store: store, mailer: mailer, clock: clock, cfg: cfg, log: cfg.Logger}
	e.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "smtp",
		MaxRequests: 1,
		Timeout:     cfg.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(cfg.BreakerFailures) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			e.log.Warn("smtp circuit breaker", "from", from.String(), "to", to.String())
		},
	})
	if cfg.RatePerSecond > 0 {
		e.limits = append(e.limits, rate.NewLimiter(rate.Limit(cfg.RatePerSecond), cfg.RateBurst))
	}
	if cfg.RatePerHour > 0 {
		e.limits = append(e.limits, rate.NewLimiter(rate.Limit(float64(cfg.RatePerHour)/3600), cfg.RatePerHour))
	}
	return e
}

// Config returns the engine's configuration with defaults filled in.
func (e *Engine) Config() EngineConfig { return e.cfg }

// BreakerState reports the circuit breaker's state: "closed", "half-open" or "open".
func (e *Engine) BreakerState() string { return e.breaker.State().String() }

// RunDue makes one synchronous pass: it marks sends of dead engines
// unknown, opens the run due now of every due mailing, and sends every
// pending delivery that is due, until none is left. When ctx ends it stops
// starting sends, lets those in flight finish, records them, and returns
// ctx's error with the summary so far.
func (e *Engine) RunDue(ctx context.Context) (Summary, error) {
	var sum Summary
	if err := e.enterPass(ctx); err != nil {
		return sum, err
	}
	defer e.leavePass()
	now := e.clock.Now()
	if err := e.expire(ctx, now, &sum); err != nil {
		return sum, err
	}
	due, err := e.store.DueMailings(ctx, now, 0)
	if err != nil {
		return sum, fmt.Errorf("mailing: due mailings: %w", err)
	}
	known := make(map[int64]int64, len(due))
	for _, m := range due {
		opened, err := e.openRun(ctx, m, now)
		if err != nil {
			return sum, err
		}
		if opened {
			sum.Runs++
		}
		known[m.ID] = m.MessageID
	}
	err = e.deliver(ctx, 0, known, &sum)
	return sum, err
}

// after fires once d has passed on the engine's clock (when it can wait:
// FakeClock does; SystemClock is the wall clock).
func (e *Engine) after(d time.Duration) <-chan time.Time {
	if tc, ok := e.clock.(timerClock); ok {
		return tc.After(d)
	}
	return time.After(d)
}

// enterPass starts a pass: the first one running registers the engine's
// heartbeat and starts renewing it.
func (e *Engine) enterPass(ctx context.Context) error {
	e.hb.mu.Lock()
	defer e.hb.mu.Unlock()
	if e.hb.passes == 0 {
		now := e.clock.Now()
		if err := e.store.Heartbeat(ctx, e.cfg.Name, now.Add(e.cfg.Heartbeat), now); err != nil {
			return fmt.Errorf("mailing: engine heartbeat: %w", err)
		}
		e.hb.lost.Store(false)
		e.hb.stop, e.hb.done = make(chan struct{}), make(chan struct{})
		go e.renew(e.hb.stop, e.hb.done, now)
	}
	e.hb.passes++
	return nil
}

// leavePass ends a pass: the last one running stops the renewals and
// retires the engine's heartbeat (its leases are released or finished).
func (e *Engine) leavePass() {
	e.hb.mu.Lock()
	defer e.hb.mu.Unlock()
	if e.hb.passes--; e.hb.passes > 0 {
		return
	}
	close(e.hb.stop)
	<-e.hb.done
	ctx, cancel := context.WithTimeout(context.Background(), ledgerWriteTimeout)
	defer cancel()
	if err := e.store.RetireEngine(ctx, e.cfg.Name); err != nil {
		e.log.Warn("retire engine heartbeat", "err", err)
	}
}

// renew renews the heartbeat every third of cfg.Heartbeat, waiting on the
// engine's clock, until stop is closed. last is the time of the last
// renewal.
func (e *Engine) renew(stop <-chan struct{}, done chan<- struct{}, last time.Time) {
	defer close(done)
	every := e.cfg.Heartbeat / 3
	for {
		select {
		case <-stop:
			return
		case <-e.after(every):
		}
		now := e.clock.Now()
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := e.store.Heartbeat(ctx, e.cfg.Name, now.Add(e.cfg.Heartbeat), now)
		cancel()
		if err == nil {
			last = now
			e.hb.lost.Store(false)
			continue
		}
		e.log.Warn("engine heartbeat", "err", err)
		if now.Sub(last) >= e.cfg.Heartbeat/2 {
			e.hb.lost.Store(true) // passes stop: others may soon take our leases
		}
	}
}

// openRun opens the run of m due at now and moves its NextRun on. It
// reports whether this engine opened it (another engine may have).
func (e *Engine) openRun(ctx context.Context, m Mailing, now time.Time) (bool, error) {
	plan := RunPlan{MailingID: m.ID, Expect: m.NextRun, Now: now, Limit: e.cfg.OpenChunk}
	run, ok := m.RunDue(now)
	if ok && !now.After(m.End) {
		plan.RunAt = run
		plan.Next, _ = m.RunAfter(now)
	} // else: over; a zero RunAt only clears NextRun
	created, err := e.store.OpenRun(ctx, plan)
	switch {
	case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
		return false, nil // another engine opened it, or it was changed or deleted meanwhile
	case err != nil:
		return false, fmt.Errorf("mailing: open run of mailing %d: %w", m.ID, err)
	}
	if plan.RunAt.IsZero() {
		return false, nil
	}
	e.log.Info("run opened", "mailing", m.ID, "run", plan.RunAt, "deliveries", created, "next", plan.Next)
	return true, nil
}

// SendNow sends one mailing's current run at once: it opens the run if it
// is not open yet (adding any client missing from it) and sends its pending
// deliveries. ErrMailingOver when the mailing has no current run
// (ErrNotFound when it does not exist).
func (e *Engine) SendNow(ctx context.Context, mailingID int64) (Summary, error) {
	var sum Summary
	m, err := e.store.GetMailing(ctx, mailingID)
	if err != nil {
		return sum, err
	}
	if err := e.enterPass(ctx); err != nil {
		return sum, err
	}
	defer e.leavePass()
	now := e.clock.Now()
	if err := e.expire(ctx, now, &sum); err != nil {
		return sum, err
	}
	run, ok := m.RunDue(now)
	switch {
	case !m.Enabled:
		return sum, fmt.Errorf("%w: mailing %d is disabled", ErrMailingOver, m.ID)
	case !ok:
		return sum, fmt.Errorf("%w: mailing %d starts at %s", ErrMailingOver, m.ID, m.Start.Format(time.RFC3339))
	case now.After(m.End):
		return sum, fmt.Errorf("%w: mailing %d ended at %s", ErrMailingOver, m.ID, m.End.Format(time.RFC3339))
	}
	next := m.NextRun
	if next.IsZero() || !next.After(now) {
		next, _ = m.RunAfter(now)
	}
	if _, err := e.store.OpenRun(ctx, RunPlan{MailingID: m.ID, RunAt: run, Expect: m.NextRun, Next: next, Now: now, Limit: e.cfg.OpenChunk}); err != nil && !errors.Is(err, ErrConflict) {
		return sum, fmt.Errorf("mailing: open run of mailing %d: %w", m.ID, err)
	}
	sum.Runs++
	sum.Run = run
	err = e.deliver(ctx, m.ID, map[int64]int64{m.ID: m.MessageID}, &sum)
	return sum, err
}

// Deliver sends the pending deliveries that are due of one mailing (0:
// every mailing) without opening any run, and goes on opening the runs
// left half-way: a later pass over a run SendNow or RunDue opened, for
// example once its retries are due.
func (e *Engine) Deliver(ctx context.Context, mailingID int64) (Summary, error) {
	var sum Summary
	if err := e.enterPass(ctx); err != nil {
		return sum, err
	}
	defer e.leavePass()
	if err := e.expire(ctx, e.clock.Now(), &sum); err != nil {
		return sum, err
	}
	err := e.deliver(ctx, mailingID, map[int64]int64{}, &sum)
	return sum, err
}

// expire marks the sends of dead engines unknown and counts them in sum:
// the start of every pass.
func (e *Engine) expire(ctx context.Context, now time.Time, sum *Summary) error {
	n, err := e.store.ExpireSending(ctx, now)
	if err != nil {
		return fmt.Errorf("mailing: expire stale sends: %w", err)
	}
	sum.Unknown += n
	return nil
}

// Backlog says what is left of the deliveries f selects, now.
func (e *Engine) Backlog(ctx context.Context, f BacklogFilter) (Backlog, error) {
	return e.store.Backlog(ctx, f, e.clock.Now())
}

// prepared is a mailing's parsed message, shared by a pass's workers.
type prepared struct {
	tmpl *Template
	err  error // the message cannot be rendered: its deliveries fail
}

// pass is the state of one delivery pass.
type pass struct {
	e         *Engine
	mailingID int64

	mu       sync.Mutex
	prep     map[int64]prepared // by mailing id
	known    map[int64]int64    // message ids of mailings read at the start of the pass, by mailing id
	sum      *Summary
	err      error // the first store error
	stop     atomic.Bool
	deferred []int64 // leased deliveries left untried

	starts  chan startReq
	results chan Result
}

// startReq asks the committer to start one delivery. It carries the
// asking worker's previous result, if any, so that a worker going from one
// send to the next wakes the committer once.
type startReq struct {
	id  int64
	ok  chan bool
	res *Result
}

// deliver sends pending deliveries (of one mailing, or all) until none is
// left, ctx ends, or the breaker opens. known gives the message of
// mailings the caller has read, so the pass need not read them again.
func (e *Engine) deliver(ctx context.Context, mailingID int64, known map[int64]int64, sum *Summary) error {
	p := &pass{
		e: e, mailingID: mailingID, prep: map[int64]prepared{}, known: known, sum: sum,
		starts:  make(chan startReq, e.cfg.Workers),
		results: make(chan Result, e.cfg.Workers),
	}
	queue := make(chan Delivery, e.cfg.ClaimBatch)
	committed := make(chan struct{})
	go func() { p.commitLoop(ctx); close(committed) }()

	var workers sync.WaitGroup
	for range e.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			ok := make(chan bool, 1)
			var held *Result // the last result, waiting to go with the next start
			for {
				var d Delivery
				var more bool
				select {
				case d, more = <-queue:
				default:
					// Nothing to send right now: record the result at once
					// rather than hold it while waiting.
					if held != nil {
						p.results <- *held
						held = nil
					}
					d, more = <-queue
				}
				if !more {
					break
				}
				held = p.work(ctx, d, ok, held)
			}
			if held != nil {
				p.results <- *held
			}
		}()
	}

	opened := p.openRuns(ctx)
	for !p.stop.Load() && ctx.Err() == nil {
		batch, err := e.store.ClaimDeliveries(ctx, ClaimRequest{
			Owner: e.cfg.Name, Now: e.clock.Now(), Lease: e.cfg.Lease, Limit: e.cfg.ClaimBatch, MailingID: mailingID,
		})
		if err != nil {
			if ctx.Err() == nil {
				p.fail(fmt.Errorf("mailing: claim deliveries: %w", err))
			}
			break
		}
		if len(batch) == 0 {
			if opened == nil {
				break
			}
			// Runs are still being opened: claim again once the next
			// chunk is in the ledger (or the opening is over).
			select {
			case _, more := <-opened:
				if !more {
					opened = nil
				}
			case <-ctx.Done():
			}
			continue
		}
		for _, d := range batch {
			queue <- d // workers defer what they may no longer send
		}
	}
	close(queue)
	workers.Wait()
	close(p.starts)
	<-committed

	if len(p.deferred) > 0 {
		rctx, cancel := p.storeCtx(ctx)
		if err := e.store.ReleaseDeliveries(rctx, e.cfg.Name, p.deferred); err != nil {
			p.fail(fmt.Errorf("mailing: release deliveries: %w", err))
		}
		cancel()
		sum.Deferred += len(p.deferred)
	}
	if e.breaker.State() == gobreaker.StateOpen {
		sum.BreakerOpen = true
	}
	if p.err != nil {
		return p.err
	}
	return ctx.Err()
}

// openRuns goes on opening the runs not wholly open yet (of the pass's
// mailing, or all), chunk by chunk, behind the sends: those just opened by
// this pass and those another engine left half-way. It returns nil when
// there is none; otherwise a channel that receives after every chunk and
// is closed when the opening is over (or the pass stops).
func (p *pass) openRuns(ctx context.Context) <-chan struct{} {
	e := p.e
	runs, err := e.store.OpeningRuns(ctx, p.mailingID)
	if err != nil {
		if ctx.Err() == nil {
			p.fail(fmt.Errorf("mailing: opening runs: %w", err))
		}
		return nil
	}
	if len(runs) == 0 {
		return nil
	}
	progress := make(chan struct{}, 1)
	go func() {
		defer close(progress)
		for _, r := range runs {
			for done := false; !done; {
				if p.stop.Load() || ctx.Err() != nil {
					return
				}
				var n int
				err := p.retry(ctx, "open run", func(c context.Context) error {
					var err error
					n, done, err = e.store.ExtendRun(c, r, e.cfg.OpenChunk, e.clock.Now())
					return err
				})
				if err != nil {
					p.fail(fmt.Errorf("%w (mailing %d, run %s)", err, r.MailingID, r.RunAt.Format(time.RFC3339)))
					return
				}
				if n > 0 {
					select {
					case progress <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	return progress
}

func (p *pass) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
		p.e.log.Error("delivery pass stopped", "err", err)
	}
	p.mu.Unlock()
	p.stop.Store(true)
}

func (p *pass) postpone(d Delivery) {
	p.mu.Lock()
	p.deferred = append(p.deferred, d.ID)
	p.mu.Unlock()
}

// storeCtx is the context for ledger writes: they must happen even when the
// pass was cancelled, or an attempt would be lost.
func (p *pass) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), ledgerWriteTimeout)
}

// ledgerWriteTimeout bounds one ledger write of a pass, retries included.
const ledgerWriteTimeout = 30 * time.Second

// work takes one leased delivery through rate limit, breaker, start, send
// and result. held is the worker's previous result not yet handed to the
// committer: it goes with this delivery's start request, or on its own
// before anything that may wait. work returns the result of this
// delivery's send, for the worker's next start request; ok is the worker's
// channel for start answers.
func (p *pass) work(ctx context.Context, d Delivery, ok chan bool, held *Result) *Result {
	e := p.e
	if p.stop.Load() || ctx.Err() != nil {
		p.postpone(d)
		return held
	}
	if e.hb.lost.Load() {
		p.fail(errors.New("mailing: the engine cannot renew its heartbeat in the ledger: sending stopped"))
		p.postpone(d)
		return held
	}
	if len(e.limits) > 0 && held != nil {
		p.results <- *held // a rate limit may wait long
		held = nil
	}
	if err := e.wait(ctx); err != nil {
		p.postpone(d)
		return held
	}
	prep, err := p.prepare(ctx, d.MailingID)
	if err != nil {
		if !errors.Is(err, ErrNotFound) { // a deleted mailing took its ledger along
			p.fail(err)
			p.postpone(d)
		}
		return held
	}
	done, err := e.breaker.Allow()
	if err != nil { // open, or half-open with its probe under way
		p.mu.Lock()
		p.sum.BreakerOpen = true
		p.mu.Unlock()
		p.stop.Store(true)
		p.postpone(d)
		return held
	}
	p.starts <- startReq{id: d.ID, ok: ok, res: held}
	if !<-ok {
		done(true) // nothing was tried
		return nil
	}
	d.Attempts++
	res := p.send(ctx, d, prep)
	done(!breakerFailure(res.Attempt))
	if len(e.limits) > 0 {
		p.results <- res
		return nil
	}
	return &res
}

// breakerFailure says whether an attempt shows the server itself failing
// (no connection, timeouts, 421) rather than refusing one message.
func breakerFailure(a Attempt) bool {
	switch a.Outcome {
	case OutcomeUnknown:
		return true
	case OutcomeTemporary:
		return a.Code == 0 || a.Code == 421
	}
	return false
}

// wait takes a token from every rate limit, waiting on the engine's clock;
// the wait ends at once when ctx does.
func (e *Engine) wait(ctx context.Context) error {
	for _, l := range e.limits {
		now := e.clock.Now()
		r := l.ReserveN(now, 1)
		if !r.OK() {
			return fmt.Errorf("mailing: rate limit burst is below 1")
		}
		d := r.DelayFrom(now)
		if d <= 0 {
			continue
		}
		select {
		case <-e.after(d):
		case <-ctx.Done():
			r.CancelAt(e.clock.Now())
			return ctx.Err()
		}
	}
	return nil
}

func (p *pass) prepare(ctx context.Context, mailingID int64) (prepared, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr, ok := p.prep[mailingID]; ok {
		return pr, nil
	}
	messageID, ok := p.known[mailingID]
	if !ok {
		m, err := p.e.store.GetMailing(ctx, mailingID)
		if err != nil {
			return prepared{}, err
		}
		messageID = m.MessageID
	}
	msg, err := p.e.store.GetMessage(ctx, messageID)
	if err != nil {
		return prepared{}, err
	}
	t, err := ParseTemplate(msg)
	pr := prepared{tmpl: t, err: err}
	p.prep[mailingID] = pr
	return pr, nil
}

// send renders and sends d and turns the outcome into a Result.
func (p *pass) send(ctx context.Context, d Delivery, prep prepared) Result {
	e := p.e
	at := e.clock.Now()
	a := Attempt{DeliveryID: d.ID, MailingID: d.MailingID, ClientID: d.ClientID, RunAt: d.RunAt, At: at}
	var reply Reply
	err := prep.err
	if err == nil {
		var env Envelope
		env, err = e.envelope(d, prep.tmpl)
		if err == nil {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.SendTimeout)
			reply, err = e.mailer.Send(sctx, env)
			cancel()
		} else {
			err = &SendError{Kind: Permanent, Text: "the message cannot be rendered: " + err.Error(), Err: err}
		}
	} else {
		err = &SendError{Kind: Permanent, Text: "the message cannot be rendered: " + err.Error(), Err: err}
	}
	a.Duration = e.clock.Now().Sub(at)
	if err == nil {
		a.Outcome, a.Code, a.Response = OutcomeSent, reply.Code, reply.Text
		return Result{Attempt: a, State: DeliverySent}
	}
	se := AsSendError(err)
	a.Outcome, a.Code, a.Response = se.Kind.Outcome(), se.Code, se.Error()
	switch {
	case se.Kind == Permanent:
		return Result{Attempt: a, State: DeliveryFailed}
	case se.Kind == Unknown && !e.cfg.ResendUnknown:
		return Result{Attempt: a, State: DeliveryUnknown}
	case d.Attempts >= e.cfg.MaxAttempts:
		a.Response = fmt.Sprintf("%s (gave up after %d attempts)", a.Response, d.Attempts)
		return Result{Attempt: a, State: DeliveryFailed}
	}
	return Result{Attempt: a, State: DeliveryPending, NextAttemptAt: at.Add(e.retryDelay(d.Attempts))}
}

// retryDelay is the backoff before attempt n+1, after n attempts.
func (e *Engine) retryDelay(n int) time.Duration {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = e.cfg.RetryInitial
	b.MaxInterval = e.cfg.RetryMax
	b.Multiplier = 2
	b.RandomizationFactor = 0.2
	d := b.NextBackOff()
	for i := 1; i < n; i++ {
		d = b.NextBackOff()
	}
	return d
}

func (e *Engine) envelope(d Delivery, t *Template) (Envelope, error) {
	var unsubscribe string
	if e.cfg.UnsubscribeURL != nil {
		unsubscribe = e.cfg.UnsubscribeURL(d)
	}
	c, err := t.Render(Recipient{Name: d.Name, Email: d.Email, UnsubscribeURL: unsubscribe})
	if err != nil {
		return Envelope{}, err
	}
	return Envelope{
		From: e.cfg.From, FromName: e.cfg.FromName,
		To: d.Email, ToName: d.Name,
		Subject: c.Subject, HTML: c.HTML, Text: c.Text,
		ListUnsubscribe: unsubscribe,
		Headers:         map[string]string{"X-Skychimp-Delivery": strconv.FormatInt(d.ID, 10)},
	}, nil
}

// commitLoop group-commits the ledger writes of a pass, in rounds: one
// transaction (AdvanceDeliveries) records every result that has come in
// and starts every delivery asked for since the last round.
//
// Starts are on the workers' path: a round runs once half of the workers
// have asked, or at once while fewer sends than that are under way. With
// more workers than SMTP connections (32 workers on 8 connections, say)
// the workers waiting for a start are those whose connection would be busy
// anyway, so the wait costs no throughput and saves most of the
// transactions.
//
// A worker hands its result over with its next start request, so the
// result is recorded in the very transaction that starts its next
// delivery: no worker ever has more than one delivery in sending, and a
// crash leaves at most Workers deliveries unknown. A worker with nothing
// left to send hands its result over on its own, which runs a round at
// once.
//
// commitLoop returns once p.starts is closed (every worker is done) and
// every result is recorded.
func (p *pass) commitLoop(ctx context.Context) {
	startAt := max(1, p.e.cfg.Workers/2)
	outstanding := 0 // started deliveries whose result has not come yet
	starts := p.starts
	var sb []startReq
	var rb []Result
	take := func(r startReq, ok bool) {
		if !ok {
			starts = nil
			return
		}
		if r.res != nil {
			rb = append(rb, *r.res)
			outstanding--
		}
		sb = append(sb, r)
	}
	// Up to maxRounds rounds run at once: on a database server the next
	// round's transaction runs while the last one waits for its commit
	// (their rows are disjoint: each worker is in one round at a time); on
	// SQLite they queue for its one writer.
	rounds := make(chan int, maxRounds)
	inflight := 0
	dispatch := func() {
		inflight++
		results, reqs := rb, sb
		rb, sb = nil, nil
		go func() { rounds <- p.advance(ctx, results, reqs) }()
	}
	for starts != nil {
		quiet := false
		select { // block for the first item, then take whatever else is ready
		case r, ok := <-starts:
			take(r, ok)
		case res := <-p.results:
			rb, quiet = append(rb, res), true
			outstanding--
		case n := <-rounds:
			inflight--
			outstanding += n
		}
	drain:
		for starts != nil {
			select {
			case r, ok := <-starts:
				take(r, ok)
			case res := <-p.results:
				rb = append(rb, res)
				outstanding--
			case n := <-rounds:
				inflight--
				outstanding += n
			default:
				break drain
			}
		}
		if inflight >= maxRounds {
			continue // what came in waits for the next free round
		}
		startNow := len(sb) > 0 && (len(sb) >= startAt || outstanding < startAt || starts == nil)
		if startNow || (len(rb) > 0 && (quiet || starts == nil)) {
			dispatch()
		}
	}
	for ; inflight > 0; inflight-- {
		<-rounds
	}
	// Every worker has returned, so every result is buffered.
	for {
		select {
		case res := <-p.results:
			rb = append(rb, res)
			continue
		default:
		}
		break
	}
	if len(rb) > 0 || len(sb) > 0 {
		p.advance(ctx, rb, sb)
	}
}

// maxRounds is how many ledger rounds of a pass may run at once.
const maxRounds = 2

// advance records results and starts the deliveries of reqs in one
// transaction, answers every request, and returns how many it started.
func (p *pass) advance(ctx context.Context, results []Result, reqs []startReq) int {
	e := p.e
	ids := make([]int64, len(reqs))
	for i, r := range reqs {
		ids[i] = r.id
	}
	var started []int64
	err := p.retry(ctx, "record attempts and start deliveries", func(c context.Context) error {
		var err error
		started, err = e.store.AdvanceDeliveries(c, e.cfg.Name, results, ids, e.clock.Now())
		return err
	})
	if err != nil {
		p.fail(err)
	} else {
		p.recorded(results)
	}
	ok := make(map[int64]bool, len(started))
	for _, id := range started {
		ok[id] = true
	}
	for _, r := range reqs {
		r.ok <- ok[r.id]
		if !ok[r.id] {
			// Not started: the mailing was disabled or has ended, or the
			// lease was lost (releasing someone else's lease does nothing).
			p.postpone(Delivery{ID: r.id})
		}
	}
	return len(started)
}

// recorded counts results in the pass's summary and reports them.
func (p *pass) recorded(results []Result) {
	e := p.e
	p.mu.Lock()
	for _, r := range results {
		switch r.State {
		case DeliverySent:
			p.sum.Sent++
		case DeliveryFailed:
			p.sum.Failed++
		case DeliveryUnknown:
			p.sum.Unknown++
		case DeliveryPending:
			p.sum.Retried++
		}
	}
	p.mu.Unlock()
	if e.cfg.OnResult != nil {
		for _, r := range results {
			e.cfg.OnResult(Delivery{ID: r.Attempt.DeliveryID, MailingID: r.Attempt.MailingID, ClientID: r.Attempt.ClientID, RunAt: r.Attempt.RunAt}, r.Attempt, r.State)
		}
	}
}

// retry runs a ledger write with a few quick retries: an attempt record must
// survive a passing database hiccup, and a pass cancelled mid-way still
// writes what it did.
func (p *pass) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	sctx, cancel := p.storeCtx(ctx)
	defer cancel()
	_, err := backoff.Retry(sctx, func() (struct{}, error) {
		err := fn(sctx)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 50 * time.Millisecond, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: 2 * time.Second,
	}), backoff.WithMaxTries(5))
	if err != nil {
		return fmt.Errorf("mailing: %s: %w", what, err)
	}
	return nil
}
