package pages

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/csrf"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/pages.css
var stylesheet []byte

// StylePath is where Register serves the pages' stylesheet (under the
// router's base path).
const StylePath = "/static/pages.css"

// Deps is what the pages need from the host.
type Deps struct {
	// Accounts registers, confirms and resets passwords. Required.
	Accounts *accounts.Service
	// Mailings takes unsubscribed clients out of mailings. Required.
	Mailings *mailing.Service
	// Secret signs unsubscribe links (see mailing.UnsubscribeToken); the
	// key of the CSRF cookie is derived from it too. Required, at least 16
	// bytes; keep it stable across restarts and instances.
	Secret []byte
	// LoginURL is the admin panel's login page. Default AdminURL + "/login".
	LoginURL string
	// AdminURL is the admin panel's home. Default "/admin".
	AdminURL string
	// SiteName is shown in the header and page titles. Default "SkyChimp".
	SiteName string
	// Logger receives unexpected errors and refused requests. Default
	// slog.Default().
	Logger *slog.Logger
	// Secure marks the site as served over https: cookies get the Secure
	// flag (and the CSRF cookie the __Host- prefix), and form posts must
	// come from an https page of this host. Leave it false for plain http
	// (local runs, tests).
	Secure bool

	// VerifyTTL and ResetTTL are how long confirmation and reset links work,
	// as configured in the accounts Service (accounts.WithTokenTTL); the
	// pages quote them. Defaults accounts.DefaultVerifyTTL and
	// accounts.DefaultResetTTL.
	VerifyTTL, ResetTTL time.Duration
	// EmailInterval is how often one address is sent an account email of
	// one kind at most, as configured in the accounts Service
	// (accounts.WithEmailLimits); the pages quote it. Default
	// accounts.DefaultEmailInterval.
	EmailInterval time.Duration
	// RateBurst and RateEvery limit POSTs to /register, /forgot and
	// /verify/resend per client address (one bucket shared by the three
	// forms; IPv6 addresses are grouped by /64): RateBurst at once, then one
	// more every RateEvery. Defaults 10 and 30 seconds.
	RateBurst int
	RateEvery time.Duration
	// Now is the rate limiter's clock. Default time.Now.
	Now func() time.Time
}

// Default values of Deps.
const (
	DefaultSiteName  = "SkyChimp"
	DefaultAdminURL  = "/admin"
	DefaultRateBurst = 10
	DefaultRateEvery = 30 * time.Second
)

// maxFormBytes bounds the body of every POST the pages accept.
const maxFormBytes = 64 << 10

// Pages serves the public pages. Make one with New and mount it with
// Register; it is safe for concurrent use.
type Pages struct {
	d     Deps
	tmpl  map[string]*template.Template
	guard http.Handler // gorilla/csrf around the rest of a gin chain
	limit *limiter
	base  string // the router's base path, "" at the root
}

// New checks deps, fills in defaults and parses the templates.
func New(deps Deps) (*Pages, error) {
	var missing []string
	if deps.Accounts == nil {
		missing = append(missing, "Accounts")
	}
	if deps.Mailings == nil {
		missing = append(missing, "Mailings")
	}
	if len(deps.Secret) < 16 {
		missing = append(missing, "Secret (at least 16 bytes)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("pages: missing dependencies: %s", strings.Join(missing, ", "))
	}
	if deps.AdminURL == "" {
		deps.AdminURL = DefaultAdminURL
	}
	if deps.LoginURL == "" {
		deps.LoginURL = strings.TrimRight(deps.AdminURL, "/") + "/login"
	}
	if deps.SiteName == "" {
		deps.SiteName = DefaultSiteName
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.VerifyTTL <= 0 {
		deps.VerifyTTL = accounts.DefaultVerifyTTL
	}
	if deps.EmailInterval <= 0 {
		deps.EmailInterval = accounts.DefaultEmailInterval
	}
	if deps.ResetTTL <= 0 {
		deps.ResetTTL = accounts.DefaultResetTTL
	}
	if deps.RateBurst <= 0 {
		deps.RateBurst = DefaultRateBurst
	}
	if deps.RateEvery <= 0 {
		deps.RateEvery = DefaultRateEvery
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	p := &Pages{d: deps, tmpl: tmpl, limit: newLimiter(deps.RateBurst, deps.RateEvery, deps.Now)}
	p.guard = p.newCSRF()
	return p, nil
}

// subkey derives a key for one purpose from the secret.
func subkey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("skychimp pages: " + purpose))
	return m.Sum(nil)
}

func parseTemplates() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("pages: %w", err)
		}
		out[name] = t
	}
	return out, nil
}

// Register mounts the pages on r (usually the *gin.Engine, or a group):
//
//	GET  /register            registration form       POST /register
//	GET  /verify?token=       "Confirm my email" page POST /verify
//	GET  /verify/resend       new confirmation link   POST /verify/resend
//	GET  /forgot              ask for a reset link    POST /forgot
//	GET  /reset?token=        new password form       POST /reset
//	GET  /unsubscribe/:token  confirmation page       POST /unsubscribe/:token (RFC 8058)
//	GET  /login               redirects to LoginURL (the accounts emails' default login link)
//	GET  /static/pages.css    the stylesheet
//
// Call it once.
func (p *Pages) Register(r gin.IRouter) {
	if b, ok := r.(interface{ BasePath() string }); ok {
		p.base = strings.TrimRight(b.BasePath(), "/")
	}
	g := r.Group("", p.headers)
	g.GET(StylePath, p.style)
	if p.d.LoginURL != p.base+"/login" {
		g.GET("/login", func(c *gin.Context) { c.Redirect(http.StatusFound, p.d.LoginURL) })
	}

	f := g.Group("", limitBody)
	f.GET("/register", p.csrf(nil), p.registerForm)
	f.POST("/register", p.csrf(p.registerRetry), p.rateLimit(p.registerRetry), p.register)
	f.GET("/verify", p.csrf(nil), p.verifyPage)
	f.POST("/verify", p.csrf(p.verifyRetry), p.verify)
	f.GET("/verify/resend", p.csrf(nil), p.resendForm)
	f.POST("/verify/resend", p.csrf(p.resendRetry), p.rateLimit(p.resendRetry), p.resend)
	f.GET("/forgot", p.csrf(nil), p.forgotForm)
	f.POST("/forgot", p.csrf(p.forgotRetry), p.rateLimit(p.forgotRetry), p.forgot)
	f.GET("/reset", p.csrf(nil), p.resetForm)
	f.POST("/reset", p.csrf(p.resetRetry), p.reset)

	// No CSRF token here: RFC 8058 one-click posts come from mail
	// providers without cookies; the signed link is the authority.
	f.GET("/unsubscribe/:token", p.unsubscribePage)
	f.POST("/unsubscribe/:token", p.unsubscribe)
}

// headers sets what every page needs: no caching (pages carry tokens),
// no framing, no referrer outside the site (links carry tokens), and a
// strict content policy (no scripts at all).
func (p *Pages) headers(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Next()
}

func limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	}
	c.Next()
}

func (p *Pages) style(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/css; charset=utf-8", stylesheet)
}

// link is one action offered on a page.
type link struct {
	Href, Text string
	Primary    bool
}

// fieldError is one field's problem, for the summary's list.
type fieldError struct {
	ID, Text string
}

// summary is the message at the top of a page.
type summary struct {
	Kind   string // "error", "success" or "info"
	Title  string
	Lines  []string
	Fields []fieldError
}

// view is what every template gets.
type view struct {
	Site, Title, Nav, Base, LoginURL, AdminURL string
	CSRF                                       template.HTML
	Summary                                    *summary
	Values                                     map[string]string
	Errors                                     map[string]string
	Token                                      string
	Paras                                      []string
	Links                                      []link
	Extra                                      map[string]any
}

// page starts a view for c.
func (p *Pages) page(c *gin.Context, title string) *view {
	return &view{
		Site: p.d.SiteName, Title: title, Base: p.base, LoginURL: p.d.LoginURL, AdminURL: p.d.AdminURL,
		CSRF: csrf.TemplateField(c.Request), Values: map[string]string{}, Errors: map[string]string{},
	}
}

// fail adds err's field problems (or its sentence) to v as an error summary.
func (v *view) fail(title string, err error, fieldOrder ...string) {
	s := &summary{Kind: "error", Title: title}
	var ve *accounts.ValidationError
	if errors.As(err, &ve) {
		known := map[string]bool{}
		for _, f := range fieldOrder {
			known[f] = true
		}
		for _, f := range ve.Fields {
			text := (&accounts.ValidationError{Fields: []accounts.FieldError{f}}).Sentence()
			if known[f.Field] {
				if v.Errors[f.Field] == "" {
					v.Errors[f.Field] = text
				}
				s.Fields = append(s.Fields, fieldError{ID: "f-" + f.Field, Text: text})
			} else {
				s.Lines = append(s.Lines, text)
			}
		}
	} else if err != nil {
		s.Lines = append(s.Lines, accounts.Message(err))
	}
	v.Summary = s
}

// render writes template name with v and status. The page is built in
// memory first, so a template error never sends half a page.
func (p *Pages) render(c *gin.Context, status int, name string, v *view) {
	p.renderTo(c.Writer, c.Request, status, name, v)
	c.Abort()
}

func (p *Pages) renderTo(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := p.tmpl[name]
	var buf bytes.Buffer
	var err error
	if !ok {
		err = fmt.Errorf("no template %q", name)
	} else {
		err = t.ExecuteTemplate(&buf, "layout.html", v)
	}
	if err != nil {
		p.d.Logger.ErrorContext(r.Context(), "pages: cannot render a page", "page", name, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Something went wrong on our side. Try again in a few minutes.\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message renders the generic page: a summary, paragraphs and links.
func (p *Pages) message(c *gin.Context, status int, v *view) {
	p.render(c, status, "message", v)
}

// oops renders the page for an unexpected error, logging err.
func (p *Pages) oops(c *gin.Context, what string, err error) {
	p.d.Logger.ErrorContext(c.Request.Context(), "pages: "+what, "path", c.Request.URL.Path, "err", err)
	v := p.page(c, "Something went wrong")
	v.Summary = &summary{Kind: "error", Title: "Something went wrong on our side",
		Lines: []string{"Nothing was changed. Try again in a few minutes."}}
	v.Links = []link{{Href: "/", Text: "Go to the home page"}}
	p.message(c, http.StatusInternalServerError, v)
}

// url is path under the router's base path.
func (p *Pages) url(path string) string { return p.base + path }

// humanDuration writes d for people: "48 hours", "1 hour", "30 minutes",
// "1 hour 30 minutes".
func humanDuration(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	if d >= 72*time.Hour && d%(24*time.Hour) == 0 {
		return unit(int64(d/(24*time.Hour)), "day")
	}
	h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
	switch {
	case h > 0 && m > 0:
		return unit(h, "hour") + " " + unit(m, "minute")
	case h > 0:
		return unit(h, "hour")
	case m > 0:
		return unit(m, "minute")
	}
	return unit(int64(d.Round(time.Second)/time.Second), "second")
}
