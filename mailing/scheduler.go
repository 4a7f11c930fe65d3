package mailing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/reugn/go-quartz/job"
	"github.com/reugn/go-quartz/quartz"
)

// SchedulerConfig tunes a Scheduler.
type SchedulerConfig struct {
	// Interval between passes when nothing else wakes the scheduler; it
	// bounds how late a retry or another instance's change is picked up.
	// Default 30 s.
	Interval time.Duration
	// OnPass, when set, is called after every pass.
	OnPass func(Summary, error)
	// Logger receives the scheduler's log; default slog.Default().
	Logger *slog.Logger
}

// Scheduler drives an Engine with go-quartz. A pass (Engine.RunDue) runs
//   - every Interval,
//   - at the moment the next mailing is due (read from the store after
//     every pass, so the first message leaves on time, not at the next tick),
//   - at once when Kick is called (a mailing was created or changed).
//
// Passes never overlap: kicks that arrive during a pass fold into one more
// pass after it. The database holds every mailing's next run, so a restart
// loses nothing, and the jobs only wake the scheduler's own loop: the work
// runs on the engine's bounded workers.
type Scheduler struct {
	engine *Engine
	cfg    SchedulerConfig
	log    *slog.Logger
	kick   chan struct{}
	quartz quartz.Scheduler
}

var (
	tickKey    = quartz.NewJobKeyWithGroup("tick", "skychimp")
	nextDueKey = quartz.NewJobKeyWithGroup("next-due", "skychimp")
)

// NewScheduler returns a scheduler for e; call Run to start it.
func NewScheduler(e *Engine, cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// A firing that is late (a busy machine, a GC pause) must still wake
	// us: the work is idempotent, so allow a generous threshold.
	q, err := quartz.NewStdScheduler(quartz.WithOutdatedThreshold(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("mailing: scheduler: %w", err)
	}
	return &Scheduler{engine: e, cfg: cfg, log: cfg.Logger, kick: make(chan struct{}, 1), quartz: q}, nil
}

// Kick asks for a pass as soon as possible. It never blocks.
func (s *Scheduler) Kick() {
	select {
	case s.kick <- struct{}{}:
	default: // a pass is already asked for
	}
}

// KickHook adapts Kick to the Service's change hook (WithChangeHook).
func (s *Scheduler) KickHook(context.Context, int64) { s.Kick() }

// Run starts the scheduler and blocks until ctx ends. It runs a first pass
// at once (catching up after downtime). When ctx ends, the pass under way
// stops starting sends, lets those in flight finish and records them, then
// Run returns.
func (s *Scheduler) Run(ctx context.Context) error {
	wake := job.NewFunctionJob(func(context.Context) (struct{}, error) {
		s.Kick()
		return struct{}{}, nil
	})
	if err := s.quartz.ScheduleJob(quartz.NewJobDetail(wake, tickKey), quartz.NewSimpleTrigger(s.cfg.Interval)); err != nil {
		return fmt.Errorf("mailing: scheduler: %w", err)
	}
	s.quartz.Start(ctx)
	defer func() {
		s.quartz.Stop()
		s.quartz.Wait(context.Background())
	}()
	s.Kick()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		}
		sum, err := s.engine.RunDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("scheduled pass failed", "err", err)
		} else if sum != (Summary{}) {
			s.log.Info("scheduled pass", "summary", sum.String())
		}
		if s.cfg.OnPass != nil {
			s.cfg.OnPass(sum, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if sum.BreakerOpen {
			continue // wait for the tick: the breaker needs its cooldown
		}
		s.armNextDue(ctx, wake)
	}
}

// armNextDue schedules a wake-up at the earliest next run in the store.
func (s *Scheduler) armNextDue(ctx context.Context, wake quartz.Job) {
	now := s.engine.clock.Now()
	next, err := s.engine.store.DueMailings(ctx, now.AddDate(100, 0, 0), 1)
	if err != nil {
		s.log.Error("scheduler: read the next due mailing", "err", err)
		return
	}
	_ = s.quartz.DeleteJob(nextDueKey)
	if len(next) == 0 {
		return
	}
	at := next[0].NextRun
	if !at.After(now) {
		s.Kick() // due already (opened by a concurrent change): go again
		return
	}
	err = s.quartz.ScheduleJob(quartz.NewJobDetail(wake, nextDueKey), atTrigger{at: at})
	if err != nil && !errors.Is(err, quartz.ErrTriggerExpired) {
		s.log.Error("scheduler: arm the next due mailing", "err", err)
	}
}

// atTrigger fires once, at an absolute time (go-quartz only has a relative
// run-once trigger).
type atTrigger struct{ at time.Time }

// NextFireTime implements quartz.Trigger.
func (t atTrigger) NextFireTime(prev int64) (int64, error) {
	if at := t.at.UnixNano(); prev < at {
		return at, nil
	}
	return 0, quartz.ErrTriggerExpired
}

// Description implements quartz.Trigger.
func (t atTrigger) Description() string { return "at " + t.at.Format(time.RFC3339) }
