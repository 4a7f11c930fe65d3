package adminhost

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	htmltemplate "html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/GoAdminGroup/go-admin/adapter/gin" // GoAdmin's gin adapter
	"github.com/GoAdminGroup/go-admin/engine"
	"github.com/GoAdminGroup/go-admin/modules/config"
	"github.com/GoAdminGroup/go-admin/modules/language"
	"github.com/GoAdminGroup/go-admin/plugins/admin/modules/table"
	"github.com/GoAdminGroup/go-admin/template"
	"github.com/GoAdminGroup/go-admin/template/types"
	"github.com/GoAdminGroup/themes/adminlte"
	"github.com/gin-gonic/gin"
	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/stats"
)

func init() {
	// GoAdmin opens SQLite with the driver name "sqlite3". Register the
	// pure-Go modernc driver (the one the stores use as "sqlite") under that
	// name: one SQLite library in the process, no cgo. GoAdmin's own sqlite
	// driver package must never be imported (it links mattn's cgo library).
	sql.Register("sqlite3", &sqlite.Driver{})
}

// Deps are what the host wires together.
type Deps struct {
	// DB is the service's pool; the host's own SQL (sessions, GoAdmin's
	// copy of users, roles and menus) runs on it.
	DB *sql.DB
	// DatabaseURL is the "sqlite:PATH" or "mysql:DSN" DB was opened with
	// (sqldb.OpenURL). GoAdmin cannot take a *sql.DB: it opens a small pool
	// of its own on the same database.
	DatabaseURL string
	// Mailings and Accounts enforce every rule; the host only calls them.
	Mailings *mailing.Service
	Accounts *accounts.Service
	// Engine, when set, gives mailings a "Send now" action.
	Engine *mailing.Engine
	// Blog, when set, gives content managers and superusers the blog table
	// (posts, their images, publishing) and the content managers' dashboard
	// its figures; nil leaves the blog out of the panel.
	Blog *blog.Service
	// Stats, when set, gives the dashboard its figures and chart and every
	// mailing a report page (with "Resend to failed"); nil leaves them out
	// (the dashboard then counts through Mailings).
	Stats *stats.Service
	// MediaURL is where the blog's images are served, the image's stored
	// name appended (default "/media/").
	MediaURL string
	// TrustedProxies are the addresses (or CIDR ranges) of reverse proxies
	// whose X-Forwarded-For header names the client; default none: the
	// connection's address is the client's (what the sign-in limit counts).
	TrustedProxies []string
	// SignInBurst sign-ins are allowed at once per client address, then one
	// every SignInEvery (defaults 10 and 10 seconds); more are answered 429.
	SignInBurst int
	SignInEvery time.Duration
	// Kick, when set, is called after a mailing is saved or switched on or
	// off (to wake the scheduler).
	Kick func()
	// Pages, when set, registers the public pages (registration, password
	// reset, unsubscribe) on the host's gin engine.
	Pages Pages
	// LoginLinks are shown on the login page.
	LoginLinks LoginLinks
	// LoginError turns a refused login into a sentence; default
	// accounts.Message.
	LoginError func(error) string
	// CrossOrigin wraps the whole handler against cross-origin
	// state-changing requests; default net/http.CrossOriginProtection.
	CrossOrigin func(http.Handler) http.Handler
	// Clock tells the time for statuses; default the system clock.
	Clock mailing.Clock
	// Logger receives errors and, at debug level, one line per request.
	Logger *slog.Logger
	// Title is the panel's name (default "SkyChimp").
	Title string
	// SessionLifetime is how long a login lasts (default 12 hours).
	SessionLifetime time.Duration
	// SecureCookies marks cookies Secure (set it when served over HTTPS).
	SecureCookies bool
}

// Pages registers public pages on the host's router.
type Pages interface {
	Register(gin.IRouter)
}

// Host is the admin panel: GoAdmin on gin, wired to the services.
type Host struct {
	deps     Deps
	d        sqldb.Dialect
	log      *slog.Logger
	clock    mailing.Clock
	lifetime time.Duration
	proj     *projection
	tables   map[string]*tableSpec
	actions  map[string]*actionSpec
	pages    map[string]*pageSpec
	signIns  *limiter
	login    *loginPage
	eng      *engine.Engine
	router   *gin.Engine
	handler  http.Handler

	// loginCSP and panelCSP are the Content-Security-Policy of the login
	// page and of the panel's other pages.
	loginCSP, panelCSP string
}

// ErrSecondHost is returned by New when a host was already built in this
// process: GoAdmin keeps its configuration in globals and allows one.
var ErrSecondHost = errors.New("adminhost: GoAdmin allows one host per process")

var started atomic.Bool

// New builds the admin panel: it writes GoAdmin's roles, permissions and
// menus from code, copies every account into GoAdmin's user table, starts
// GoAdmin on a gin engine behind the guard (see Handler), and registers
// the public pages. The database must be migrated (Schema, with the other
// packages' schemas). New may succeed once per process (ErrSecondHost).
func New(ctx context.Context, deps Deps) (*Host, error) {
	switch {
	case deps.DB == nil:
		return nil, errors.New("adminhost: Deps.DB is required")
	case deps.Mailings == nil || deps.Accounts == nil:
		return nil, errors.New("adminhost: Deps.Mailings and Deps.Accounts are required")
	}
	d, gaDriver, gaDSN, err := goadminDatabase(deps.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Title == "" {
		deps.Title = "SkyChimp"
	}
	if deps.SessionLifetime <= 0 {
		deps.SessionLifetime = 12 * time.Hour
	}
	if deps.Clock == nil {
		deps.Clock = mailing.SystemClock{}
	}
	if deps.LoginError == nil {
		deps.LoginError = accounts.Message
	}
	if deps.MediaURL == "" {
		deps.MediaURL = "/media/"
	}
	if deps.SignInBurst <= 0 {
		deps.SignInBurst = 10
	}
	if deps.SignInEvery <= 0 {
		deps.SignInEvery = 10 * time.Second
	}
	if deps.CrossOrigin == nil {
		deps.CrossOrigin = func(h http.Handler) http.Handler { return http.NewCrossOriginProtection().Handler(h) }
	}
	for _, p := range deps.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return nil, fmt.Errorf("adminhost: Deps.TrustedProxies: %q is not an address or CIDR range", p)
			}
		}
	}
	if !started.CompareAndSwap(false, true) {
		return nil, ErrSecondHost
	}
	h := &Host{
		deps: deps, d: d, log: deps.Logger, clock: deps.Clock, lifetime: deps.SessionLifetime,
		proj: &projection{db: deps.DB, d: d, log: deps.Logger},
	}
	h.tables = h.buildTables()
	h.actions = h.buildActions()
	h.pages = h.buildPages()
	h.signIns = newLimiter(deps.SignInBurst, deps.SignInEvery, deps.Clock.Now)
	if err := h.prepare(ctx); err != nil {
		started.Store(false) // GoAdmin's globals are untouched: a later New may try again
		return nil, err
	}
	if err := h.startGoAdmin(gaDriver, gaDSN); err != nil {
		return nil, err
	}
	if err := h.proj.scrubSite(ctx); err != nil {
		return nil, fmt.Errorf("adminhost: scrub GoAdmin's stored configuration: %w", err)
	}
	return h, nil
}

// prepare writes GoAdmin's tables before GoAdmin reads them.
func (h *Host) prepare(ctx context.Context) error {
	if err := h.syncStatic(ctx); err != nil {
		return fmt.Errorf("adminhost: write roles, permissions and menus: %w", err)
	}
	if _, err := h.proj.syncAllUsers(ctx, h.deps.Accounts.Store()); err != nil {
		return fmt.Errorf("adminhost: copy accounts to the admin panel: %w", err)
	}
	if err := h.proj.clearSite(ctx); err != nil {
		return fmt.Errorf("adminhost: reset GoAdmin's stored configuration: %w", err)
	}
	return nil
}

// Handler returns the host's HTTP handler: the public pages and the admin
// panel under Prefix, behind the cross-origin protection, with every
// cookie SameSite=Lax.
func (h *Host) Handler() http.Handler { return h.handler }

// Router returns the gin engine, to add routes of the host's own (they get
// the host's recovery, logging and security headers; routes under Prefix
// are refused unless the guard knows them).
func (h *Host) Router() *gin.Engine { return h.router }

// goadminDatabase returns the dialect of url and GoAdmin's driver name and
// DSN for the same database.
func goadminDatabase(url string) (sqldb.Dialect, string, string, error) {
	scheme, rest, _ := strings.Cut(url, ":")
	switch {
	case scheme == string(sqldb.SQLite) && rest != "":
		if strings.ContainsAny(rest, "?#") {
			return "", "", "", fmt.Errorf("adminhost: database %q: want sqlite:PATH with a plain file path", url)
		}
		return sqldb.SQLite, config.DriverSqlite, sqldb.SQLiteDSN(rest), nil
	case scheme == string(sqldb.MySQL) && rest != "":
		cfg, err := mysql.ParseDSN(rest)
		if err != nil {
			return "", "", "", fmt.Errorf("adminhost: MySQL DSN: %w", err)
		}
		cfg.ParseTime = true
		cfg.Loc = time.UTC
		if cfg.Timeout == 0 {
			cfg.Timeout = 10 * time.Second
		}
		return sqldb.MySQL, config.DriverMysql, cfg.FormatDSN(), nil
	}
	return "", "", "", errors.New("adminhost: Deps.DatabaseURL must be sqlite:PATH or mysql:DSN")
}

// startGoAdmin configures GoAdmin (all from code), builds the gin engine
// and mounts everything on it. GoAdmin panics on errors: they come back as
// an error.
func (h *Host) startGoAdmin(driver, dsn string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("adminhost: GoAdmin did not start: %v", p)
		}
	}()
	gin.SetMode(gin.ReleaseMode)
	if err := customizeTheme(); err != nil {
		return err
	}
	h.loginCSP, h.panelCSP = loginCSP(loginTemplate), panelCSP(h.deps.MediaURL)
	// GoAdmin's AddDisplayFilterXssFilter does not take effect (it drops
	// the chain it builds): escape every displayed value ourselves.
	types.AddGlobalDisplayProcessFn(func(v types.FieldModel) interface{} { return html.EscapeString(v.Value) })
	h.login = newLoginPage(h.deps.Title, h.deps.LoginLinks)
	template.AddLoginComp(h.login)

	title := h.deps.Title
	// GoAdmin's own pool: a few connections for its session, user and menu
	// reads (SQLite serialises writers anyway).
	conns := 4
	if driver == config.DriverMysql {
		conns = 8
	}
	cfg := config.Config{
		Databases: config.DatabaseList{"default": {
			Driver: driver, Dsn: dsn,
			MaxIdleConns: conns, MaxOpenConns: conns, ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute,
		}},
		UrlPrefix:       strings.TrimPrefix(Prefix, "/"),
		IndexUrl:        "/",
		LoginUrl:        "/login",
		Theme:           "adminlte",
		ColorScheme:     adminlte.ColorschemeSkinBlack,
		Language:        language.EN,
		Title:           title,
		LoginTitle:      title,
		Logo:            htmltemplate.HTML("<b>" + html.EscapeString(title) + "</b>"),
		MiniLogo:        htmltemplate.HTML("<b>" + html.EscapeString(firstRune(title)) + "</b>"),
		FooterInfo:      htmltemplate.HTML(html.EscapeString(title)),
		Env:             config.EnvProd,
		Debug:           false,
		SqlLog:          false,
		InfoLogOff:      true,
		ErrorLogOff:     true,
		AccessLogOff:    true,
		OperationLogOff: true, // it would store form input, passwords included
		// Several devices may be logged in; the guard ends a blocked
		// user's sessions.
		NoLimitLoginIP:                true,
		SessionLifeTime:               int(h.lifetime / time.Second),
		AccessAssetsLogOff:            true,
		HideConfigCenterEntrance:      true,
		ProhibitConfigModification:    true,
		HideAppInfoEntrance:           true,
		HideToolEntrance:              true,
		HidePluginEntrance:            true,
		HideVisitorUserCenterEntrance: true,
		OpenAdminApi:                  false,
		Animation:                     config.PageAnimation{Type: ""},
		// GoAdmin answers its own failures with a page and status 200; the
		// markers let the guard send the right status (and log a 500).
		Custom403HTML: errorPage(http.StatusForbidden, "You are not allowed to do that."),
		Custom404HTML: errorPage(http.StatusNotFound, "Not found."),
		Custom500HTML: errorPage(http.StatusInternalServerError, "Something went wrong. Try again in a few minutes."),
	}

	eng := engine.Default()
	eng.AddConfig(&cfg)
	eng.AddAuthService(h.authenticate)
	gens := make(table.GeneratorList, len(h.tables))
	for p, spec := range h.tables {
		gens[p] = h.generator(spec)
	}
	eng.AddGenerators(gens)

	r := gin.New()
	if err := r.SetTrustedProxies(h.deps.TrustedProxies); err != nil {
		return fmt.Errorf("adminhost: Deps.TrustedProxies: %w", err)
	}
	r.Use(h.recovery, h.accessLog, h.securityHeaders, h.guard)
	r.GET(faviconPath, serveFavicon)
	r.HEAD(faviconPath, serveFavicon)
	r.GET(Prefix, h.dashboard)
	h.registerPages(r)
	if h.deps.Pages != nil {
		h.deps.Pages.Register(r)
	}
	if err := eng.Use(r); err != nil {
		return fmt.Errorf("adminhost: GoAdmin did not start: %w", err)
	}
	h.eng, h.router = eng, r
	h.registerActions()
	r.NoRoute(func(c *gin.Context) { h.answer(c, http.StatusNotFound, "") })
	h.handler = sameSite(h.deps.CrossOrigin(r), h.deps.SecureCookies)
	return nil
}

// Close releases GoAdmin's own database pool.
func (h *Host) Close() error {
	if h.eng == nil {
		return nil
	}
	return errors.Join(h.eng.DefaultConnection().Close()...)
}

// errorMarker marks an error page GoAdmin rendered (with status 200).
const errorMarker = "<!--adminhost:status="

func errorPage(status int, msg string) htmltemplate.HTML {
	return htmltemplate.HTML(fmt.Sprintf(`%s%d--><div class="alert alert-warning"><h4>%s</h4><p>%s</p></div>`,
		errorMarker, status, html.EscapeString(http.StatusText(status)), html.EscapeString(msg)))
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}
