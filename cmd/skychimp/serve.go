package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/adminhost"
	"github.com/skychimp/skychimp/adminhost/pages"
	"github.com/skychimp/skychimp/adminhost/site"
	"github.com/skychimp/skychimp/internal/app"
	"github.com/skychimp/skychimp/mailing"
)

func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "serve")
	config := appFlags(fs, e)
	addr := fs.String("addr", envDefault(e, "SKYCHIMP_ADDR", "127.0.0.1:8080"), "listen address (env SKYCHIMP_ADDR)")
	interval := fs.Duration("interval", durationEnv(e, "SKYCHIMP_SCHEDULE_INTERVAL", 30*time.Second), "time between scheduled passes (env SKYCHIMP_SCHEDULE_INTERVAL); a mailing that becomes due is also sent at once")
	demo := fs.Bool("demo", false, "seed an empty database with demo accounts and data, and print the logins")
	cacheURL := fs.String("cache", e.getenv("SKYCHIMP_CACHE"), "cache for the home page and the blog: empty for in-memory, or redis://host:port/db (env SKYCHIMP_CACHE)")
	media := fs.String("media", envDefault(e, "SKYCHIMP_MEDIA", "media"), "directory of the blog's images (env SKYCHIMP_MEDIA)")
	proxies := fs.String("trusted-proxies", e.getenv("SKYCHIMP_TRUSTED_PROXIES"), "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed (env SKYCHIMP_TRUSTED_PROXIES); empty: none")
	secure := fs.Bool("secure-cookies", e.getenv("SKYCHIMP_SECURE_COOKIES") == "true", "mark cookies Secure: set when browsers reach the service over https (env SKYCHIMP_SECURE_COOKIES=true)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *interval < time.Second {
		return usagef("--interval %s: want at least 1s", *interval)
	}
	cfg, err := config()
	if err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usagef("--addr %q: want host:port, e.g. 127.0.0.1:8080", *addr)
	}
	// Listen first: with port 0 the links in emails need the real port.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usagef("cannot listen on %s: %v", *addr, err)
	}
	defer ln.Close()
	if !flagGiven(fs, "base-url") && e.getenv("SKYCHIMP_BASE_URL") == "" {
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return appError(err)
	}
	defer a.Close()

	content, err := a.OpenContent(ctx, app.ContentConfig{Cache: *cacheURL, ImagesDir: *media, Logger: cfg.Logger})
	if err != nil {
		return appError(err)
	}
	defer content.Close()                     // writes the post views counted last
	a.MailingChanged = content.MailingChanged // the demo's mailings show at once

	if *demo {
		seed, err := a.SeedDemo(ctx, e.getenv("SKYCHIMP_DEMO_PASSWORD"))
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if err := a.SeedDemoBlog(ctx, content, "content@demo.local"); err != nil {
			return fmt.Errorf("demo blog: %w", err)
		}
		printDemo(e, seed)
	}

	sched, err := mailing.NewScheduler(a.Engine, mailing.SchedulerConfig{Interval: *interval, Logger: cfg.Logger,
		OnPass: content.PassDone}) // the dashboards follow the sends
	if err != nil {
		return err
	}
	a.MailingChanged = func(ctx context.Context, id int64) {
		content.MailingChanged(ctx, id) // the home page's figures follow at once
		sched.Kick()                    // a mailing due now is sent now
	}

	pg, err := pages.New(pages.Deps{
		Accounts: a.Accounts, Mailings: a.Mailings, Secret: a.Secret, SiteName: "SkyChimp",
		Logger: cfg.Logger, Secure: *secure,
	})
	if err != nil {
		return err
	}
	host, err := adminhost.New(ctx, adminhost.Deps{
		DB: a.DB, DatabaseURL: cfg.DB, Mailings: a.Mailings, Accounts: a.Accounts, Engine: a.Engine,
		Blog: content.Blog, Stats: content.Stats,
		Kick: sched.Kick, Pages: pg, LoginError: pages.LoginError, CrossOrigin: pages.CrossOrigin,
		LoginLinks: adminhost.LoginLinks{Register: "/register", Forgot: "/forgot"},
		Logger:     cfg.Logger, SecureCookies: *secure, TrustedProxies: splitList(*proxies),
	})
	if err != nil {
		return err
	}

	host.Router().GET("/media/*file", gin.WrapH(http.StripPrefix("/media/", content.Images.Handler())))
	st, err := site.New(site.Deps{Blog: content.Blog, Stats: content.Stats, SiteName: "SkyChimp", Logger: cfg.Logger})
	if err != nil {
		return err
	}
	st.Register(host.Router())
	srv := &http.Server{Handler: host.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(e.stdout, "skychimp is listening on http://%s (admin panel: http://%s/admin), mail goes to %s\n", ln.Addr(), ln.Addr(), a.MailerName)

	schedDone := make(chan error, 1)
	go func() { schedDone <- sched.Run(ctx) }()
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-srvDone:
		return fmt.Errorf("http server: %w", err)
	}
	// Graceful shutdown: stop taking requests, let the scheduler's pass
	// finish the sends in flight and record them.
	fmt.Fprintln(e.stdout, "shutting down: finishing the sends in flight")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	serr := srv.Shutdown(sctx)
	if err := <-schedDone; err != nil {
		return err
	}
	if serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	fmt.Fprintln(e.stdout, "stopped")
	return nil
}

func printDemo(e env, seed app.DemoSeed) {
	if !seed.Seeded {
		fmt.Fprintln(e.stdout, "demo: the database already has users; nothing seeded (demo logins use the password they were created with)")
	} else {
		fmt.Fprintln(e.stdout, "demo: seeded accounts, clients, messages and mailings")
	}
	var b strings.Builder
	for _, l := range seed.Logins {
		fmt.Fprintf(&b, "  %-22s %s\n", l.Email, l.Role.Label())
	}
	fmt.Fprint(e.stdout, b.String())
	if seed.Seeded {
		fmt.Fprintf(e.stdout, "  password for all:      %s\n", seed.Password)
	}
}

// durationEnv reads a duration from the environment, or def.
func durationEnv(e env, key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(e.getenv(key)); err == nil {
		return d
	}
	return def
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) (given bool) {
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
