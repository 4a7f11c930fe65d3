package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/skychimp/skychimp/internal/app"
)

// appFlags registers the flags every service command shares; each falls
// back to its SKYCHIMP_* environment variable.
func appFlags(fs *flag.FlagSet, e env) func() (app.Config, error) {
	c := app.Config{}
	fs.StringVar(&c.DB, "db", envDefault(e, "SKYCHIMP_DB", defaultDB), "database: sqlite:PATH or mysql:DSN (env SKYCHIMP_DB)")
	fs.StringVar(&c.SMTP, "smtp", e.getenv("SKYCHIMP_SMTP"), "SMTP server: smtp://user:pass@host:port?tls=none|starttls|tls (env SKYCHIMP_SMTP); empty writes .eml files to --outbox")
	fs.StringVar(&c.Outbox, "outbox", envDefault(e, "SKYCHIMP_OUTBOX", "outbox"), "directory for .eml files when no SMTP server is set (env SKYCHIMP_OUTBOX)")
	fs.StringVar(&c.From, "from", envDefault(e, "SKYCHIMP_FROM", "skychimp@localhost"), "sender address (env SKYCHIMP_FROM)")
	fs.StringVar(&c.FromName, "from-name", envDefault(e, "SKYCHIMP_FROM_NAME", "Skychimp"), "sender name (env SKYCHIMP_FROM_NAME)")
	fs.StringVar(&c.BaseURL, "base-url", envDefault(e, "SKYCHIMP_BASE_URL", "http://127.0.0.1:8080"), "the service's public URL, for links in emails (env SKYCHIMP_BASE_URL)")
	fs.StringVar(&c.SecretFile, "secret-file", envDefault(e, "SKYCHIMP_SECRET_FILE", "skychimp.secret"), "file keeping the signing secret, created on first use, unless SKYCHIMP_SECRET is set")
	workers := fs.String("workers", envDefault(e, "SKYCHIMP_WORKERS", "32"), "concurrent sends (env SKYCHIMP_WORKERS)")
	rate := fs.String("rate", envDefault(e, "SKYCHIMP_RATE", "0"), "at most this many messages per second to the SMTP server, 0 for no limit (env SKYCHIMP_RATE)")
	perHour := fs.String("rate-per-hour", envDefault(e, "SKYCHIMP_RATE_PER_HOUR", "0"), "at most this many messages per hour, 0 for no limit (env SKYCHIMP_RATE_PER_HOUR)")
	heartbeat := fs.String("heartbeat", envDefault(e, "SKYCHIMP_HEARTBEAT", "15s"), "how long a stopped engine's deliveries stay held before another engine takes them over (env SKYCHIMP_HEARTBEAT)")
	retryAfter := fs.String("retry-after", envDefault(e, "SKYCHIMP_RETRY_AFTER", "1m"), "delay before the first retry of a temporary failure; it doubles up to an hour (env SKYCHIMP_RETRY_AFTER)")
	resend := fs.String("resend-unknown", envDefault(e, "SKYCHIMP_RESEND_UNKNOWN", "false"), "resend a message whose outcome is unknown (connection lost after its body): at least once instead of at most once (env SKYCHIMP_RESEND_UNKNOWN)")
	return func() (app.Config, error) {
		c.Secret = e.getenv("SKYCHIMP_SECRET")
		var err error
		if c.Workers, err = strconv.Atoi(*workers); err != nil || c.Workers < 1 || c.Workers > 1024 {
			return c, usagef("--workers %q: want a whole number from 1 to 1024", *workers)
		}
		if c.RatePerSecond, err = strconv.ParseFloat(*rate, 64); err != nil || c.RatePerSecond < 0 {
			return c, usagef("--rate %q: want a number of messages per second, 0 for no limit", *rate)
		}
		if c.RatePerHour, err = strconv.Atoi(*perHour); err != nil || c.RatePerHour < 0 {
			return c, usagef("--rate-per-hour %q: want a whole number, 0 for no limit", *perHour)
		}
		if c.Heartbeat, err = time.ParseDuration(*heartbeat); err != nil || c.Heartbeat < time.Second || c.Heartbeat > time.Hour {
			return c, usagef("--heartbeat %q: want a duration from 1s to 1h, such as 15s", *heartbeat)
		}
		if c.RetryAfter, err = time.ParseDuration(*retryAfter); err != nil || c.RetryAfter < time.Second || c.RetryAfter > time.Hour {
			return c, usagef("--retry-after %q: want a duration from 1s to 1h, such as 1m", *retryAfter)
		}
		if c.ResendUnknown, err = strconv.ParseBool(*resend); err != nil {
			return c, usagef("--resend-unknown %q: want true or false", *resend)
		}
		return c, nil
	}
}

// appError turns configuration errors into usage errors (exit 2).
func appError(err error) error {
	if errors.Is(err, app.ErrConfig) {
		return usageError{fmt.Sprint(err)}
	}
	return err
}
