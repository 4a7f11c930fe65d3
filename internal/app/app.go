package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountsmail"
	accountssql "github.com/skychimp/skychimp/accounts/sqlstore"
	"github.com/skychimp/skychimp/adminhost"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/outbox"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
)

// Config is the service's configuration, from flags and the environment.
type Config struct {
	DB       string // sqlite:PATH or mysql:DSN
	SMTP     string // smtp://user:pass@host:port?tls=...; empty: write .eml files to Outbox
	Outbox   string // directory for .eml files when SMTP is empty
	From     string // sender address
	FromName string
	BaseURL  string // the service's public URL, for links in emails
	// Secret signs unsubscribe links. Empty: read from (or create) SecretFile.
	Secret     string
	SecretFile string

	Workers int
	// Heartbeat is how long the engine's leases outlive it (see
	// mailing.EngineConfig.Heartbeat); 0 means the engine's default.
	Heartbeat time.Duration
	// RetryAfter is the delay before the first retry of a temporary
	// failure (it doubles up to an hour); 0 means the engine's default.
	RetryAfter time.Duration
	// ResendUnknown resends a message whose outcome is unknown (the
	// connection was lost after its body) instead of leaving it unknown:
	// at least once rather than at most once.
	ResendUnknown bool
	RatePerSecond float64
	RatePerHour   int
	// OnResult, when set, is called after every attempt (a progress bar).
	OnResult func(mailing.Delivery, mailing.Attempt, mailing.DeliveryState)
	Logger   *slog.Logger
}

// App is the wired service.
type App struct {
	Config   Config
	DB       *sql.DB
	Dialect  sqldb.Dialect
	Store    *mailingsql.Store
	Mailings *mailing.Service
	// Accounts is the user service.
	Accounts      *accounts.Service
	AccountsStore *accountssql.Store
	Mailer        mailing.Mailer
	Engine        *mailing.Engine
	Secret        []byte
	// MailingChanged, when set, is called after a mailing is created,
	// changed, enabled or disabled (serve wakes the scheduler with it).
	MailingChanged func(ctx context.Context, mailingID int64)
	// MailerName says where mail goes, for people: "SMTP host:port" or "outbox DIR".
	MailerName string

	closers []func() error
}

// ErrConfig wraps configuration errors: the person running the service
// must fix a value.
var ErrConfig = errors.New("configuration")

// Open connects to the database, migrates it, and builds the services.
// Errors wrapping ErrConfig are the operator's to fix.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &App{Config: cfg}
	secret, err := loadSecret(cfg.Secret, cfg.SecretFile)
	if err != nil {
		return nil, err
	}
	a.Secret = secret
	if cfg.BaseURL != "" {
		if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: base URL %q: want http(s)://host[:port]", ErrConfig, cfg.BaseURL)
		}
	}
	mailer, name, closer, err := NewMailer(cfg)
	if err != nil {
		return nil, err
	}
	a.Mailer, a.MailerName = mailer, name
	if closer != nil {
		a.closers = append(a.closers, closer)
	}

	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	db, d, err := sqldb.OpenURL(octx, cfg.DB)
	cancel()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	a.DB, a.Dialect = db, d
	a.closers = append(a.closers, db.Close)
	if _, err := Migrate(ctx, db, d); err != nil {
		a.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	a.Store = mailingsql.New(db, d)
	a.Engine = mailing.NewEngine(a.Store, a.Mailer, nil, mailing.EngineConfig{
		Workers: cfg.Workers, RatePerSecond: cfg.RatePerSecond, RatePerHour: cfg.RatePerHour, ResendUnknown: cfg.ResendUnknown, Heartbeat: cfg.Heartbeat, RetryInitial: cfg.RetryAfter,
		From: cfg.From, FromName: cfg.FromName, Logger: cfg.Logger,
		UnsubscribeURL: a.unsubscribeURL, OnResult: cfg.OnResult,
	})
	a.Mailings = mailing.NewService(a.Store, nil, mailing.WithChangeHook(func(ctx context.Context, id int64) {
		if a.MailingChanged != nil {
			a.MailingChanged(ctx, id)
		}
	}))

	if a.AccountsStore, err = accountssql.New(db, d); err != nil {
		a.Close()
		return nil, err
	}
	notifier, err := accountsmail.New(a.Mailer, accountsmail.Config{From: cfg.From, FromName: cfg.FromName, Product: "Skychimp"})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	// The admin panel keeps a copy of every user (GoAdmin's tables): the
	// hooks keep it in step and end a blocked user's sessions at once.
	opts := append([]accounts.Option{accounts.WithLogger(cfg.Logger)}, adminhost.AccountOptions(db, d, cfg.Logger)...)
	if cfg.BaseURL != "" {
		opts = append(opts, accounts.WithBaseURL(cfg.BaseURL))
	}
	a.Accounts = accounts.NewService(a.AccountsStore, notifier, opts...)
	return a, nil
}

func (a *App) unsubscribeURL(d mailing.Delivery) string {
	if a.Config.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(a.Config.BaseURL, "/") + "/unsubscribe/" + mailing.UnsubscribeToken(a.Secret, d)
}

// Close releases the database and the mailer's connections.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// NewMailer returns the SMTP mailer configured by cfg.SMTP, or an outbox
// writing .eml files to cfg.Outbox when no SMTP server is configured.
func NewMailer(cfg Config) (m mailing.Mailer, name string, closer func() error, err error) {
	if cfg.SMTP == "" {
		dir := cfg.Outbox
		if dir == "" {
			dir = "outbox"
		}
		o, err := outbox.New(dir, cfg.From, cfg.FromName)
		if err != nil {
			return nil, "", nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return o, ".eml files in " + dir, nil, nil
	}
	sc, err := smtpmailer.ParseURL(cfg.SMTP)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: SMTP: %w", ErrConfig, err)
	}
	if sc.From == "" {
		sc.From, sc.FromName = cfg.From, cfg.FromName
	}
	sm, err := smtpmailer.New(sc)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: SMTP: %w", ErrConfig, err)
	}
	return sm, "SMTP " + sm.Server(), sm.Close, nil
}

// loadSecret returns the configured secret, or the one kept in path,
// creating it (0600) on first use.
func loadSecret(value, path string) ([]byte, error) {
	if value != "" {
		if len(value) < 16 {
			return nil, fmt.Errorf("%w: the secret must be at least 16 characters", ErrConfig)
		}
		return []byte(value), nil
	}
	if path == "" {
		path = "skychimp.secret"
	}
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: secret file: %w", ErrConfig, err)
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	s := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("%w: cannot create the secret file: %w", ErrConfig, err)
	}
	return []byte(s), nil
}
