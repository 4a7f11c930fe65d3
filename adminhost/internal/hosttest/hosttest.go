// Package hosttest builds one admin host over a fresh database, seeded with
// users of every role and data for two of them, and runs the host's
// HTTP-level suites against it. GoAdmin allows one host per process, so a
// test binary builds one Env in TestMain; the SQLite and MySQL runs live
// in separate packages (separate binaries).
package hosttest

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-sql-driver/mysql"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
	accountssql "github.com/skychimp/skychimp/accounts/sqlstore"
	"github.com/skychimp/skychimp/adminhost"
	"github.com/skychimp/skychimp/adminhost/pages"
	"github.com/skychimp/skychimp/blog"
	blogsql "github.com/skychimp/skychimp/blog/sqlstore"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
	"github.com/skychimp/skychimp/stats"
	statssql "github.com/skychimp/skychimp/stats/sqlstore"
)

// MySQLEnv names the variable holding a MySQL/MariaDB DSN for tests.
const MySQLEnv = "SKYCHIMP_TEST_MYSQL"

// Password is every seeded user's password.
const Password = "correct horse battery staple"

// The seeded users, by name.
const (
	Alice   = "alice"   // a user with data
	Bob     = "bob"     // a user with data: the victim of every attack
	Carol   = "carol"   // a user who gets blocked
	Manager = "manager" // a manager
	Content = "content" // a content manager
	Super   = "super"   // a superuser
)

// Objects are one user's seeded objects.
type Objects struct {
	Clients  []mailing.Client
	Message  mailing.Message // used by both mailings
	Spare    mailing.Message // used by none
	Future   mailing.Mailing // starts in a month
	Running  mailing.Mailing // running now, sent once
	Delivery mailing.Delivery
	Attempt  mailing.Attempt
}

// Env is one host over a seeded database.
type Env struct {
	Dialect  sqldb.Dialect
	URL      string
	DB       *sql.DB
	Accounts *accounts.Service
	Mailings *mailing.Service
	Store    *mailingsql.Store
	Engine   *mailing.Engine
	Mailer   *mailingtest.FakeMailer
	Notifier *accountstest.FakeNotifier
	Blog     *blog.Service
	Posts    *blogsql.Store
	Stats    *stats.Service
	Figures  *stats.ReadModel // under Stats: Refresh it to see sends at once
	MediaDir string           // the blog's images
	Host     *adminhost.Host
	Server   *httptest.Server
	Users    map[string]accounts.User
	Data     map[string]*Objects // by user name (Alice, Bob)
	Post     blog.Post           // a draft of the content manager's
	Logs     *LogBuffer

	// AccountsClock is the accounts Service's clock: the wall clock's time
	// at Open, moved only by tests (to pass the email limits).
	AccountsClock *accountstest.FakeClock

	closers []func()
	figures figureSwitch // under Stats: Figures, or a benchmark's
}

// LogBuffer collects the host's log lines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p (io.Writer).
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Close stops the server and drops the database.
func (e *Env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// Open builds the Env on a fresh database of dialect d: a SQLite file in a
// temporary directory, or a new database on the MySQL server named by
// SKYCHIMP_TEST_MYSQL.
func Open(ctx context.Context, d sqldb.Dialect) (env *Env, err error) {
	e := &Env{Dialect: d, Users: map[string]accounts.User{}, Data: map[string]*Objects{}, Logs: &LogBuffer{}}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	dir, err := os.MkdirTemp("", "adminhost-test-")
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { os.RemoveAll(dir) })
	e.MediaDir = filepath.Join(dir, "media")
	switch d {
	case sqldb.SQLite:
		e.URL = "sqlite:" + filepath.Join(dir, "test.db")
	case sqldb.MySQL:
		url, drop, err := mysqlDatabase(ctx)
		if err != nil {
			return nil, err
		}
		e.closers = append(e.closers, drop)
		e.URL = url
	default:
		return nil, d.Check()
	}
	db, _, err := sqldb.OpenURL(ctx, e.URL)
	if err != nil {
		return nil, err
	}
	e.DB = db
	e.closers = append(e.closers, func() { db.Close() })

	accStore, err := accountssql.New(db, d)
	if err != nil {
		return nil, err
	}
	e.Store = mailingsql.New(db, d)
	if e.Posts, err = blogsql.New(db, d); err != nil {
		return nil, err
	}
	for _, m := range []func(context.Context) error{accStore.Migrate, e.Store.Migrate, e.Posts.Migrate, adminhost.NewSchema(db, d).Migrate} {
		if err := m(ctx); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	// A previous run's stored configuration, which must not win.
	if _, err := db.ExecContext(ctx, "INSERT INTO goadmin_site (`key`, value, state) VALUES ('title', 'Hacked title', 1), ('login_title', 'Hacked title', 1), ('debug', 'true', 1)"); err != nil {
		return nil, err
	}

	log := slog.New(slog.NewTextHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.Notifier = &accountstest.FakeNotifier{}
	e.AccountsClock = accountstest.NewFakeClock(time.Now())
	opts := append([]accounts.Option{accounts.WithPasswordHasher(accountstest.FastHasher()), accounts.WithLogger(log),
		accounts.WithClock(e.AccountsClock),
		accounts.WithBaseURL("http://127.0.0.1")}, adminhost.AccountOptions(db, d, log)...)
	e.Accounts = accounts.NewService(accStore, e.Notifier, opts...)
	figures, err := statssql.New(db, d)
	if err != nil {
		return nil, err
	}
	// As the app wires it: the figures from a read model refreshed in the
	// background, told about every mailing change.
	e.Figures = stats.NewReadModel(figures, stats.ReadModelOptions{Logger: log})
	fctx, stopFigures := context.WithCancel(context.WithoutCancel(ctx))
	figuresDone := make(chan error, 1)
	go func() { figuresDone <- e.Figures.Run(fctx) }()
	e.closers = append(e.closers, func() { stopFigures(); <-figuresDone })
	e.Mailings = mailing.NewService(e.Store, nil, mailing.WithChangeHook(e.Figures.MailingChanged))
	e.figures.Store(e.Figures)
	e.Stats = stats.NewService(&e.figures, e.Mailings, nil)
	images, err := blog.NewImages(e.MediaDir, blog.ImageOptions{})
	if err != nil {
		return nil, err
	}
	e.Blog = blog.NewService(e.Posts, nil, blog.WithImages(images), blog.WithLogger(log))
	e.Mailer = mailingtest.NewFakeMailer()
	e.Engine = mailing.NewEngine(e.Store, e.Mailer, nil, mailing.EngineConfig{From: "sender@example.com", Logger: log})

	if err := e.seed(ctx); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	pg, err := pages.New(pages.Deps{Accounts: e.Accounts, Mailings: e.Mailings, Secret: secret, SiteName: "SkyChimp Test",
		Logger: log, RateBurst: 1000})
	if err != nil {
		return nil, err
	}
	e.Host, err = adminhost.New(ctx, adminhost.Deps{
		DB: db, DatabaseURL: e.URL, Mailings: e.Mailings, Accounts: e.Accounts, Engine: e.Engine,
		Blog: e.Blog, Stats: e.Stats, TrustedProxies: []string{"127.0.0.1", "::1"},
		Pages: pg, LoginError: pages.LoginError, CrossOrigin: pages.CrossOrigin,
		Logger: log, Title: "SkyChimp Test",
		LoginLinks: adminhost.LoginLinks{Register: "/register", Forgot: "/forgot"},
	})
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { e.Host.Close() })
	e.Host.Router().GET("/media/*file", gin.WrapH(http.StripPrefix("/media/", images.Handler())))
	e.Server = httptest.NewServer(e.Host.Handler())
	e.closers = append(e.closers, e.Server.Close)
	return e, nil
}

// mysqlDatabase creates a uniquely named database on the server of
// SKYCHIMP_TEST_MYSQL and returns its URL and a func that drops it.
func mysqlDatabase(ctx context.Context) (string, func(), error) {
	dsn := os.Getenv(MySQLEnv)
	if dsn == "" {
		return "", nil, errors.New(MySQLEnv + " is unset")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", nil, err
	}
	cfg.DBName = ""
	cfg.ParseTime, cfg.Loc = true, time.UTC
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "skychimp_admin_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		return "", nil, err
	}
	cfg.DBName = name
	return "mysql:" + cfg.FormatDSN(), func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
		admin.Close()
	}, nil
}

// Markers are strings only one user's data holds, by user name: a page
// another user gets must contain none of them.
var Markers = map[string][]string{
	Bob: {"bob@example.com", "bob.client.q7@example.net", "bob.other.q8@example.net", "Bobs Client Q7",
		"BOB-SUBJECT-Z41", "BOB-BODY-Z42", "BOB-SPARE-Z43", "BOB-MAILING-Z44", "BOB-RUNNING-Z45", "BOB-SMTP-Z46"},
	Alice: {"alice@example.com", "alice.client.k1@example.org", "alice.other.k2@example.org", "Alices Client K1",
		"ALICE-SUBJECT-K3", "ALICE-BODY-K4", "ALICE-SPARE-K5", "ALICE-MAILING-K6", "ALICE-RUNNING-K7", "ALICE-SMTP-K8"},
}

func (e *Env) seed(ctx context.Context) error {
	for _, u := range []struct {
		name string
		role accounts.Role
	}{{Alice, accounts.RoleUser}, {Bob, accounts.RoleUser}, {Carol, accounts.RoleUser},
		{Manager, accounts.RoleManager}, {Content, accounts.RoleContentManager}, {Super, accounts.RoleSuperuser}} {
		full := strings.ToUpper(u.name[:1]) + u.name[1:] + " Tester"
		got, err := e.Accounts.AddUser(ctx, accounts.AddInput{Email: u.name + "@example.com", FullName: full,
			Password: Password, Role: u.role, Verified: true})
		if err != nil {
			return fmt.Errorf("user %s: %w", u.name, err)
		}
		e.Users[u.name] = got
	}
	now := time.Now().UTC()
	for _, who := range []string{Alice, Bob} {
		m := Markers[who]
		uctx := accounts.WithUser(ctx, e.Users[who])
		o := &Objects{}
		for _, c := range []mailing.Client{{Email: m[1], Name: m[3]}, {Email: m[2], Name: "Second"}} {
			got, err := e.Mailings.CreateClient(uctx, c)
			if err != nil {
				return err
			}
			o.Clients = append(o.Clients, got)
		}
		var err error
		if o.Message, err = e.Mailings.CreateMessage(uctx, mailing.Message{Subject: m[4], Body: "<p>" + m[5] + " {{.Name}}</p>"}); err != nil {
			return err
		}
		if o.Spare, err = e.Mailings.CreateMessage(uctx, mailing.Message{Subject: m[6], Body: "<p>spare</p>"}); err != nil {
			return err
		}
		ids := []int64{o.Clients[0].ID, o.Clients[1].ID}
		if o.Future, err = e.Mailings.CreateMailing(uctx, mailing.Mailing{Name: m[7], MessageID: o.Message.ID, ClientIDs: ids,
			Start: now.AddDate(0, 1, 0), End: now.AddDate(0, 2, 0), Period: mailing.Weekly, TimeZone: "Europe/Berlin"}); err != nil {
			return err
		}
		if o.Running, err = e.Mailings.CreateMailing(uctx, mailing.Mailing{Name: m[8], MessageID: o.Message.ID, ClientIDs: ids,
			Start: now.Add(-time.Hour), End: now.AddDate(0, 0, 10), Period: mailing.Daily}); err != nil {
			return err
		}
		e.Mailer.FailRecipient(o.Clients[1].Email, mailingtest.PermError(550, "5.1.1 "+m[9]+" no such user"), -1)
		if _, err := e.Engine.SendNow(ctx, o.Running.ID); err != nil {
			return fmt.Errorf("send %s's running mailing: %w", who, err)
		}
		ds, _, err := e.Store.ListDeliveries(ctx, mailing.DeliveryFilter{MailingID: o.Running.ID, ClientID: o.Clients[1].ID})
		if err != nil || len(ds) != 1 {
			return fmt.Errorf("%s's delivery: %v (%d)", who, err, len(ds))
		}
		o.Delivery = ds[0]
		as, _, err := e.Store.ListAttempts(ctx, mailing.AttemptFilter{DeliveryID: o.Delivery.ID})
		if err != nil || len(as) != 1 {
			return fmt.Errorf("%s's attempt: %v (%d)", who, err, len(as))
		}
		o.Attempt = as[0]
		// Refresh the mailings as stored (NextRun moved).
		if o.Running, err = e.Store.GetMailing(ctx, o.Running.ID); err != nil {
			return err
		}
		e.Data[who] = o
	}
	var err error
	cctx := accounts.WithUser(ctx, e.Users[Content])
	e.Post, err = e.Blog.CreatePost(cctx, blog.Draft{Title: BlogMarkers[0], Content: BlogMarkers[1] + "\n\nMore words."})
	return err
}

// BlogMarkers are in the seeded draft post: only editors may see them.
var BlogMarkers = []string{"BLOG-DRAFT-P9", "BLOG-BODY-P10"}

// Response is what the host answered.
type Response struct {
	Status   int
	Header   http.Header
	Body     string // for an .xlsx export, the text of its XML parts
	Location string
}

// Client is a browser: one cookie jar, no redirects followed.
type Client struct {
	env  *Env
	http *http.Client
	Name string
	// Origin, when set, is sent as the Origin header of every request;
	// otherwise a POST carries the server's own origin, as a browser's
	// does.
	Origin string
	// Bare sends no Origin (and no Referer or Sec-Fetch-Site, which the
	// client never sends): a non-browser client, or a browser too old to
	// say where a request comes from.
	Bare bool
	// IP is the client's address, sent as X-Forwarded-For (the test
	// server trusts its loopback peer as a proxy): each client has its
	// own, so that each has its own sign-in allowance.
	IP string
}

var ipSeq atomic.Int64

// NewClient returns a client without a session.
func (e *Env) NewClient(name string) *Client {
	jar, _ := cookiejar.New(nil)
	n := ipSeq.Add(1)
	return &Client{env: e, Name: name, IP: fmt.Sprintf("10.%d.%d.%d", (n>>16)&255, (n>>8)&255, n&255), http: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Login returns a client logged in as the seeded user name.
func (e *Env) Login(name string) (*Client, error) {
	c := e.NewClient(name)
	r, err := c.Login(e.Users[name].Email, Password)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("login as %s: %d %s", name, r.Status, r.Body)
	}
	return c, nil
}

// Login posts the login form.
func (c *Client) Login(email, password string) (*Response, error) {
	return c.PostForm("/admin/signin", url.Values{"username": {email}, "password": {password}})
}

func (c *Client) do(req *http.Request) (*Response, error) {
	switch {
	case c.Origin != "":
		req.Header.Set("Origin", c.Origin)
	case !c.Bare && req.Method != http.MethodGet && req.Method != http.MethodHead && req.Header.Get("Origin") == "":
		req.Header.Set("Origin", c.env.Server.URL)
	}
	if c.IP != "" && req.Header.Get("X-Forwarded-For") == "" {
		req.Header.Set("X-Forwarded-For", c.IP)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: text(b), Location: res.Header.Get("Location")}, nil
}

// text returns b, or the text of the XML files in it when it is a zip (an
// .xlsx export).
func text(b []byte) string {
	if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		return string(b)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return string(b)
	}
	var out strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			continue
		}
		x, _ := io.ReadAll(rc)
		rc.Close()
		out.Write(x)
		out.WriteByte('\n')
	}
	return out.String()
}

// Get fetches path.
func (c *Client) Get(path string) (*Response, error) {
	req, err := http.NewRequest(http.MethodGet, c.env.Server.URL+path, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

// PostForm posts vals urlencoded, as GoAdmin's AJAX calls do.
func (c *Client) PostForm(path string, vals url.Values) (*Response, error) {
	req, err := http.NewRequest(http.MethodPost, c.env.Server.URL+path, strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// PostMultipart posts vals as multipart/form-data, as GoAdmin's forms do.
func (c *Client) PostMultipart(path string, vals url.Values) (*Response, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range vals {
		for _, v := range vs {
			if err := w.WriteField(k, v); err != nil {
				return nil, err
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, c.env.Server.URL+path, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

var tokenRE = regexp.MustCompile(`name="__go_admin_t_"\s+value='([^']+)'`)

// Token returns a form token (GoAdmin's one-time CSRF token) from one of
// the client's own form pages: the new form of table.
func (c *Client) Token(table string) (string, error) {
	r, err := c.Get("/admin/info/" + table + "/new")
	if err != nil {
		return "", err
	}
	m := tokenRE.FindStringSubmatch(r.Body)
	if m == nil {
		return "", fmt.Errorf("no form token on %s's new form (%d)", table, r.Status)
	}
	return m[1], nil
}
