package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"

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
			progressbar.OptionClearOnFinish())
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
	if bar != nil {
		_ = bar.Finish()
	}
	switch {
	case errors.Is(err, mailing.ErrNotFound):
		return usagef("mailing %d not found", id)
	case errors.Is(err, mailing.ErrMailingOver):
		return usagef("%v", err)
	}
	if *asJSON {
		out := struct {
			mailing.Summary
			Mailer string `json:"mailer"`
			Error  string `json:"error,omitempty"`
		}{Summary: sum, Mailer: a.MailerName}
		if err != nil {
			out.Error = err.Error()
		}
		enc := json.NewEncoder(e.stdout)
		if jerr := enc.Encode(out); jerr != nil {
			return jerr
		}
	} else {
		fmt.Fprintf(e.stdout, "%s (runs opened %d, via %s)\n", sum, sum.Runs, a.MailerName)
	}
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if sum.Failed+sum.Unknown+sum.Retried+sum.Deferred > 0 || sum.BreakerOpen {
		return errSomeNotSent
	}
	return nil
}

// errSomeNotSent makes the exit code say that not everything went out; the
// summary line already said what.
var errSomeNotSent = quietError{"some deliveries were not sent (see the summary)"}

type quietError struct{ msg string }

func (e quietError) Error() string { return e.msg }
