package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/skychimp/skychimp/internal/app"
	"github.com/skychimp/skychimp/mailing"
)

func runSend(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "send")
	config := appFlags(fs, e)
	mailingID := fs.String("mailing", "", "send this mailing's current run now")
	due := fs.Bool("due", false, "make one pass over everything that is due")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	wait := fs.Bool("wait", false, "keep going (retries, and deliveries another engine holds) until the run is final")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var id int64
	switch {
	case *due && *mailingID != "":
		return usagef("give either --mailing ID or --due, not both")
	case !*due && *mailingID == "":
		return usagef("give --mailing ID (one mailing now) or --due (everything due)")
	case *mailingID != "":
		var err error
		if id, err = strconv.ParseInt(*mailingID, 10, 64); err != nil || id <= 0 {
			return usagef("--mailing %q: want a mailing id (a positive whole number)", *mailingID)
		}
	}
	cfg, err := config()
	if err != nil {
		return err
	}

	var bar *progressbar.ProgressBar
	var done atomic.Int64
	if f, ok := e.stderr.(*os.File); ok && !*asJSON && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription("sending"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("msg"),
			progressbar.OptionThrottle(250*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	cfg.OnResult = func(mailing.Delivery, mailing.Attempt, mailing.DeliveryState) {
		done.Add(1)
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return appError(err)
	}
	defer a.Close()

	var sum mailing.Summary
	if *due {
		sum, err = a.Engine.RunDue(ctx)
	} else {
		if bar != nil {
			if m, gerr := a.Store.GetMailing(ctx, id); gerr == nil {
				bar.ChangeMax(len(m.ClientIDs))
			}
		}
		sum, err = a.Engine.SendNow(ctx, id)
	}
	switch {
	case errors.Is(err, mailing.ErrNotFound):
		return usagef("mailing %d not found", id)
	case errors.Is(err, mailing.ErrMailingOver):
		return usagef("%v", err)
	}
	// The state of the run (or, for --due, of everything open), not of
	// this pass alone: another engine may hold some, retries may wait.
	filter := mailing.BacklogFilter{Open: true}
	if !*due {
		filter = mailing.BacklogFilter{MailingID: id, RunAt: sum.Run}
	}
	var b mailing.Backlog
	for err == nil {
		var berr error
		if b, berr = a.Engine.Backlog(ctx, filter); berr != nil {
			err = berr
			break
		}
		if !*wait || b.Final() {
			break
		}
		pause := backlogWait(b, time.Now())
		if sum.BreakerOpen {
			// The SMTP server is failing: give the breaker's cooldown a
			// chance instead of spinning on passes it refuses at once.
			pause = max(pause, time.Second)
			sum.BreakerOpen = false
		}
		if werr := sleepCtx(ctx, pause); werr != nil {
			err = werr
			break
		}
		var more mailing.Summary
		more, err = a.Engine.Deliver(ctx, id)
		sum.Add(more)
		sum.BreakerOpen = more.BreakerOpen
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if *asJSON {
		out := struct {
			mailing.Summary
			Backlog mailing.Backlog `json:"backlog"`
			Mailer  string          `json:"mailer"`
			Error   string          `json:"error,omitempty"`
		}{Summary: sum, Backlog: b, Mailer: a.MailerName}
		if err != nil {
			out.Error = err.Error()
		}
		enc := json.NewEncoder(e.stdout)
		if jerr := enc.Encode(out); jerr != nil {
			return jerr
		}
	} else {
		fmt.Fprintf(e.stdout, "%s (runs opened %d, via %s)\n", sum, sum.Runs, a.MailerName)
		if b.Counts != nil {
			fmt.Fprintln(e.stdout, describeBacklog(b, sum.Run, *due))
		}
	}
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	bad := b.Counts[mailing.DeliveryFailed] + b.Counts[mailing.DeliveryUnknown]
	if *due {
		bad = sum.Failed + sum.Unknown
	}
	if !b.Final() || bad > 0 {
		return errSomeNotSent
	}
	return nil
}

// backlogWait is how long send --wait waits before its next pass: none
// while deliveries are due, until the next retry, and a little while when
// another engine holds deliveries (it may finish them, or die and have
// them taken over once its heartbeat runs out).
func backlogWait(b mailing.Backlog, now time.Time) time.Duration {
	pending := b.Counts[mailing.DeliveryPending] + b.Counts[mailing.DeliverySending]
	if pending-b.Retry-b.Leased > 0 {
		return 0
	}
	d := 2 * time.Second
	if b.Leased == 0 && b.Retry > 0 {
		d = b.NextRetry.Sub(now)
	}
	return max(d, 0)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// describeBacklog says in one line what is left of the run (or of
// everything open, for --due).
func describeBacklog(b mailing.Backlog, run time.Time, due bool) string {
	what := "everything due"
	if !due {
		what = "the run of " + run.UTC().Format("2006-01-02 15:04 UTC")
	}
	if b.Final() {
		var parts []string
		for _, st := range []mailing.DeliveryState{mailing.DeliverySent, mailing.DeliveryFailed, mailing.DeliveryUnknown} {
			if n := b.Counts[st]; n > 0 || st == mailing.DeliverySent {
				parts = append(parts, fmt.Sprintf("%d %s", n, st))
			}
		}
		if due {
			return "nothing left to send"
		}
		return what + " is final: " + strings.Join(parts, ", ")
	}
	var left []string
	pending := b.Counts[mailing.DeliveryPending] + b.Counts[mailing.DeliverySending]
	if n := pending - b.Retry - b.Leased; n > 0 {
		left = append(left, fmt.Sprintf("%d not yet sent", n))
	}
	if b.Retry > 0 {
		left = append(left, fmt.Sprintf("%d waiting for a retry (next at %s)", b.Retry, b.NextRetry.UTC().Format("15:04:05 UTC")))
	}
	if b.Leased > 0 {
		left = append(left, fmt.Sprintf("%d held by a running engine (lease until %s)", b.Leased, b.LeaseEnds.UTC().Format("15:04:05 UTC")))
	}
	if !due {
		for _, st := range []mailing.DeliveryState{mailing.DeliveryFailed, mailing.DeliveryUnknown} {
			if n := b.Counts[st]; n > 0 {
				left = append(left, fmt.Sprintf("%d %s", n, st))
			}
		}
	}
	return fmt.Sprintf("%s is not final: %d sent; left: %s", what, b.Counts[mailing.DeliverySent], strings.Join(left, ", "))
}

// errSomeNotSent makes the exit code say that not everything went out; the
// summary line already said what.
var errSomeNotSent = quietError{"some deliveries were not sent (see the summary)"}

type quietError struct{ msg string }

func (e quietError) Error() string { return e.msg }
