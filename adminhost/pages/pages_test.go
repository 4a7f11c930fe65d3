package pages_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
	"github.com/skychimp/skychimp/adminhost/pages"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

const host = "example.com"

var secret = []byte("unsubscribe-secret-for-tests-only")

func init() { gin.SetMode(gin.TestMode) }

// env is a gin engine with the pages over in-memory services.
type env struct {
	engine   *gin.Engine
	handler  http.Handler // what requests go to (the engine, or a wrapper)
	accounts *accounts.Service
	notes    *accountstest.FakeNotifier
	clock    *accountstest.FakeClock
	mailings *mailing.Service
	mstore   *mailingtest.MemStore
	secure   bool

	mu  sync.Mutex
	now time.Time // the rate limiter's clock
}

func newEnv(tb testing.TB, tweak ...func(*pages.Deps)) *env {
	tb.Helper()
	e := &env{
		notes: &accountstest.FakeNotifier{},
		clock: accountstest.NewFakeClock(accountstest.T0),
		now:   accountstest.T0,
	}
	e.accounts = accounts.NewService(accountstest.NewMemStore(), e.notes,
		accounts.WithBaseURL("http://"+host),
		accounts.WithClock(e.clock),
		accounts.WithPasswordHasher(accountstest.FastHasher()),
		accounts.WithLogger(slog.New(slog.DiscardHandler)),
	)
	e.mstore = mailingtest.NewMemStore()
	e.mailings = mailing.NewService(e.mstore, mailingtest.NewFakeClock(accountstest.T0))
	d := pages.Deps{
		Accounts: e.accounts, Mailings: e.mailings, Secret: secret,
		LoginURL: "/admin/login", AdminURL: "/admin", SiteName: "SkyChimp Test",
		Logger: slog.New(slog.DiscardHandler),
		Now:    e.limiterNow,
	}
	for _, f := range tweak {
		f(&d)
	}
	e.secure = d.Secure
	p, err := pages.New(d)
	require.NoError(tb, err)
	e.engine = gin.New()
	require.NoError(tb, e.engine.SetTrustedProxies(nil))
	p.Register(e.engine)
	e.handler = e.engine
	return e
}

func (e *env) limiterNow() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advanceLimiter(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func (e *env) origin() string {
	if e.secure {
		return "https://" + host
	}
	return "http://" + host
}

// browser is one visitor: a cookie jar, an address, and the last form token.
type browser struct {
	tb      testing.TB
	e       *env
	cookies map[string]*http.Cookie
	ip      string
	token   string
}

func (e *env) browser(tb testing.TB) *browser {
	return &browser{tb: tb, e: e, cookies: map[string]*http.Cookie{}, ip: "192.0.2.10"}
}

type resp struct {
	Code   int
	Header http.Header
	Body   string
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// do sends a request as a same-origin browser would.
func (b *browser) do(method, target string, body io.Reader, contentType string, hdr map[string]string) resp {
	b.tb.Helper()
	req := httptest.NewRequest(method, b.e.origin()+target, body)
	req.RemoteAddr = b.ip + ":40000"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", b.e.origin())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	b.e.handler.ServeHTTP(w, req)
	res := w.Result()
	for _, c := range res.Cookies() {
		b.cookies[c.Name] = c
	}
	out := resp{Code: w.Code, Header: w.Header(), Body: w.Body.String()}
	if m := tokenRE.FindStringSubmatch(out.Body); m != nil {
		b.token = html.UnescapeString(m[1])
	}
	return out
}

func (b *browser) get(target string) resp {
	b.tb.Helper()
	return b.do(http.MethodGet, target, nil, "", nil)
}

// post sends form with the CSRF token of the last page seen.
func (b *browser) post(target string, form url.Values) resp {
	b.tb.Helper()
	form = cloneForm(form)
	if b.token != "" {
		form.Set("csrf_token", b.token)
	}
	return b.postRaw(target, form, nil)
}

// postRaw sends form as is.
func (b *browser) postRaw(target string, form url.Values, hdr map[string]string) resp {
	b.tb.Helper()
	return b.do(http.MethodPost, target, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", hdr)
}

func cloneForm(f url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// pathOf returns the path and query of an emailed link.
func pathOf(tb testing.TB, link string) string {
	tb.Helper()
	u, err := url.Parse(link)
	require.NoError(tb, err)
	return u.RequestURI()
}

// text returns the body with tags removed and white space folded, for
// checking sentences that span markup.
func text(body string) string {
	body = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(body)), " ")
}

// stable removes what changes from one response to the next (the CSRF token).
func stable(body string) string {
	return tokenRE.ReplaceAllString(body, `name="csrf_token" value="X"`)
}

func (e *env) addUser(tb testing.TB, email, password string, verified bool) accounts.User {
	tb.Helper()
	u, err := e.accounts.AddUser(context.Background(), accounts.AddInput{
		Email: email, FullName: "Test User", Password: password, Verified: verified})
	require.NoError(tb, err)
	return u
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t)
	forms := map[string][]string{
		"/register":      {`action="/register"`, `for="f-email"`, `for="f-full_name"`, `for="f-password"`, `autocomplete="new-password"`, "Create account"},
		"/verify/resend": {`action="/verify/resend"`, `for="f-email"`, "Send a new link"},
		"/forgot":        {`action="/forgot"`, `for="f-email"`, "Send me a link"},
	}
	for path, wants := range forms {
		t.Run("OK"+strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			b := e.browser(t)
			r := b.get(path)
			require.Equal(t, http.StatusOK, r.Code)
			assert.Equal(t, "text/html; charset=utf-8", r.Header.Get("Content-Type"))
			assert.Contains(t, r.Body, `<form method="post"`)
			assert.Contains(t, r.Body, `name="csrf_token"`)
			for _, w := range wants {
				assert.Contains(t, r.Body, w)
			}
			// The layout: site name, navigation, stylesheet, no script.
			assert.Contains(t, r.Body, "SkyChimp Test")
			for _, href := range []string{`href="/"`, `href="/blog"`, `href="/admin/login"`, `href="/register"`, `href="/static/pages.css"`} {
				assert.Contains(t, r.Body, href)
			}
			assert.NotContains(t, r.Body, "<script")
			assert.NotEmpty(t, b.cookies["skychimp_csrf"], "CSRF cookie set")
			assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
			assert.Contains(t, r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		})
	}

	t.Run("OKCookieFlags", func(t *testing.T) {
		r := e.browser(t).get("/register")
		c := r.Header.Get("Set-Cookie")
		assert.Contains(t, c, "skychimp_csrf=")
		assert.Contains(t, c, "HttpOnly")
		assert.Contains(t, c, "SameSite=Lax")
		assert.Contains(t, c, "Path=/")
		assert.NotContains(t, c, "Secure")
	})
	t.Run("OKStylesheet", func(t *testing.T) {
		r := e.browser(t).get("/static/pages.css")
		require.Equal(t, http.StatusOK, r.Code)
		assert.Contains(t, r.Header.Get("Content-Type"), "text/css")
		assert.Contains(t, r.Body, ".summary-error")
	})
	t.Run("OKLoginRedirects", func(t *testing.T) {
		r := e.browser(t).get("/login")
		assert.Equal(t, http.StatusFound, r.Code)
		assert.Equal(t, "/admin/login", r.Header.Get("Location"))
	})
	t.Run("BadLinks", func(t *testing.T) {
		b := e.browser(t)
		for _, path := range []string{"/verify", "/verify?token=nope", "/reset", "/reset?token=" + strings.Repeat("A", 43), "/unsubscribe/nope"} {
			r := b.get(path)
			assert.Equal(t, http.StatusBadRequest, r.Code, path)
			assert.Contains(t, r.Body, "This link does not work", path)
			assert.NotContains(t, r.Body, "<form", path)
		}
	})
}

func TestRegisterVerify(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.get("/register")
	r := b.post("/register", url.Values{"email": {"Ann@Example.COM"}, "full_name": {"Ann Archer"}, "password": {"correct horse"}})
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	assert.Contains(t, text(r.Body), "We sent a link to Ann@example.com; it is valid for 48 hours.")
	assert.NotContains(t, r.Body, "correct horse")

	n, ok := e.notes.Last(accounts.NoticeVerify, "ann@example.com")
	require.True(t, ok, "a confirmation email was sent")
	link := pathOf(t, n.Link)
	require.True(t, strings.HasPrefix(link, "/verify?token="), link)

	// A mail scanner opens the link: nothing is confirmed.
	for range 2 {
		r = e.browser(t).get(link)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		assert.Contains(t, r.Body, "Confirm my email")
	}
	_, err := e.accounts.Authenticate(context.Background(), "ann@example.com", "correct horse")
	require.ErrorIs(t, err, accounts.ErrNotVerified, "GET must not confirm")
	token := accountstest.TokenFrom(n.Link)
	require.NoError(t, e.accounts.CheckToken(context.Background(), accounts.TokenVerify, token), "GET must not use the token up")

	// The person presses the button.
	n, _ = e.notes.Last(accounts.NoticeVerify, "ann@example.com") // Authenticate sent a fresh link; both work
	link = pathOf(t, n.Link)
	r = b.get(link)
	require.Equal(t, http.StatusOK, r.Code)
	r = b.post(link, url.Values{"token": {accountstest.TokenFrom(n.Link)}})
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	assert.Contains(t, text(r.Body), "Your address is confirmed")
	assert.Contains(t, r.Body, `href="/admin/login"`)
	u, err := e.accounts.Authenticate(context.Background(), "ann@example.com", "correct horse")
	require.NoError(t, err)
	assert.True(t, u.Verified)

	t.Run("ErrUsedLink", func(t *testing.T) {
		r := b.get(link)
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, text(r.Body), "The confirmation link is invalid, was already used or has expired.")
		assert.Contains(t, r.Body, `href="/verify/resend"`)
		b.get("/register") // a fresh form token
		r = b.post("/verify", url.Values{"token": {accountstest.TokenFrom(n.Link)}})
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, r.Body, "This link does not work")
	})
	t.Run("ErrExpiredLink", func(t *testing.T) {
		e.addUser(t, "late@example.com", "late password", false)
		require.NoError(t, e.accounts.ResendVerification(context.Background(), "late@example.com"))
		n, ok := e.notes.Last(accounts.NoticeVerify, "late@example.com")
		require.True(t, ok)
		e.clock.Advance(49 * time.Hour)
		defer e.clock.Advance(-49 * time.Hour)
		r := b.get(pathOf(t, n.Link))
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, text(r.Body), "invalid, was already used or has expired")
	})
}

func TestRegisterInvalid(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.get("/register")
	const password = "pw<&>1"
	r := b.post("/register", url.Values{"email": {"not an <address>"}, "full_name": {"  "}, "password": {password}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	assert.Contains(t, r.Body, `value="not an &lt;address&gt;"`, "typed email re-shown, escaped")
	assert.NotContains(t, r.Body, "pw&lt;&amp;&gt;1", "never the password")
	assert.NotContains(t, r.Body, password)
	assert.Contains(t, r.Body, "Please correct the problems below")
	assert.Contains(t, r.Body, `role="alert"`)
	assert.Contains(t, r.Body, `<a href="#f-email">The email address is not a valid email address.</a>`, "summary links to the field")
	assert.Regexp(t, `id="f-email-error"><span class="visually-hidden">Error: </span>The email address is not a valid email address.</p>\s*<input id="f-email"[^>]*aria-invalid="true"`, r.Body)
	assert.Contains(t, r.Body, `id="f-full_name-error"`)
	assert.Contains(t, r.Body, "The full name is required.")
	assert.Contains(t, r.Body, "The password must be at least 8 characters long.")
	assert.Empty(t, e.notes.Notices(), "nothing sent")

	t.Run("NameKept", func(t *testing.T) {
		r := b.post("/register", url.Values{"email": {"bob@example.com"}, "full_name": {"Bob Brown"}, "password": {"bob@example.com"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		assert.Contains(t, r.Body, `value="bob@example.com"`)
		assert.Contains(t, r.Body, `value="Bob Brown"`)
		assert.Contains(t, r.Body, "The password must not be your email address.")
		assert.NotRegexp(t, `type="password"[^>]*value=`, r.Body)
	})
}

func TestRegisterDuplicate(t *testing.T) {
	e := newEnv(t)
	register := func(email, password string) resp {
		b := e.browser(t)
		b.get("/register")
		return b.post("/register", url.Values{"email": {email}, "full_name": {"Carl Cole"}, "password": {password}})
	}
	first := register("carl@example.com", "first password")
	require.Equal(t, http.StatusOK, first.Code)

	t.Run("OKUnconfirmed", func(t *testing.T) {
		again := register("CARL@example.com", "another password")
		assert.Equal(t, first.Code, again.Code)
		assert.Equal(t, stable(first.Body), stable(strings.Replace(again.Body, "CARL@", "carl@", 1)))
		assert.Equal(t, 1, e.notes.Count(accounts.NoticeVerify, "carl@example.com"), "nothing more within the email interval")
		e.clock.Advance(accounts.DefaultEmailInterval + time.Second)
		later := register("carl@example.com", "another password")
		assert.Equal(t, stable(first.Body), stable(later.Body), "the same page, sent or not")
		assert.Equal(t, 2, e.notes.Count(accounts.NoticeVerify, "carl@example.com"), "after it the owner gets a fresh link")
	})
	t.Run("OKConfirmed", func(t *testing.T) {
		e.addUser(t, "dora@example.com", "dora password", true)
		newOne := register("eve@example.com", "eve password")
		dup := register("dora@example.com", "guessing password")
		assert.Equal(t, newOne.Code, dup.Code)
		assert.Equal(t, stable(newOne.Body), stable(strings.Replace(dup.Body, "dora@", "eve@", 1)))
		_, ok := e.notes.Last(accounts.NoticeAlreadyRegistered, "dora@example.com")
		assert.True(t, ok, "the owner is told")
		_, err := e.accounts.Authenticate(context.Background(), "dora@example.com", "dora password")
		assert.NoError(t, err, "the password is unchanged")
	})
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	form := url.Values{"email": {"fay@example.com"}, "full_name": {"Fay Fox"}, "password": {"fay password"}}

	t.Run("ErrNoToken", func(t *testing.T) {
		b := e.browser(t)
		b.get("/register")
		r := b.postRaw("/register", form, nil)
		require.Equal(t, http.StatusForbidden, r.Code)
		assert.Contains(t, r.Body, "Please send the form again")
		assert.Contains(t, text(r.Body), "We could not accept the form: it has expired, or it was not sent from this site's page. Nothing was changed.")
		assert.Contains(t, r.Body, `value="fay@example.com"`, "typed values kept")
		assert.Contains(t, r.Body, `value="Fay Fox"`)
		assert.NotContains(t, r.Body, "fay password")
		assert.Regexp(t, tokenRE, r.Body, "a fresh token to send again")
		assert.Empty(t, e.notes.Notices(), "nothing happened")

		// Sending the re-shown form works.
		r = b.post("/register", form)
		assert.Equal(t, http.StatusOK, r.Code)
	})
	t.Run("ErrNoCookie", func(t *testing.T) {
		b := e.browser(t)
		b.get("/forgot")
		b.cookies = map[string]*http.Cookie{}
		r := b.post("/forgot", url.Values{"email": {"fay@example.com"}})
		assert.Equal(t, http.StatusForbidden, r.Code)
		assert.Contains(t, r.Body, "Please send the form again")
	})
	t.Run("ErrWrongToken", func(t *testing.T) {
		b := e.browser(t)
		b.get("/forgot")
		other := e.browser(t)
		other.get("/forgot")
		b.token = other.token
		r := b.post("/forgot", url.Values{"email": {"fay@example.com"}})
		assert.Equal(t, http.StatusForbidden, r.Code)
	})
	t.Run("ErrVerifyKeepsToken", func(t *testing.T) {
		n, ok := e.notes.Last(accounts.NoticeVerify, "fay@example.com")
		require.True(t, ok)
		b := e.browser(t)
		r := b.postRaw(pathOf(t, n.Link), url.Values{"token": {accountstest.TokenFrom(n.Link)}}, nil)
		require.Equal(t, http.StatusForbidden, r.Code)
		assert.Contains(t, r.Body, "Confirm my email", "the button again")
		require.NoError(t, e.accounts.CheckToken(context.Background(), accounts.TokenVerify, accountstest.TokenFrom(n.Link)))
		r = b.post(pathOf(t, n.Link), url.Values{"token": {accountstest.TokenFrom(n.Link)}})
		assert.Equal(t, http.StatusOK, r.Code)
		assert.Contains(t, r.Body, "Your address is confirmed")
	})
	t.Run("ErrOtherOrigin", func(t *testing.T) {
		// Without the CrossOrigin wrapper the CSRF middleware checks Origin too.
		b := e.browser(t)
		b.get("/forgot")
		form := url.Values{"email": {"fay@example.com"}, "csrf_token": {b.token}}
		r := b.postRaw("/forgot", form, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
		assert.Equal(t, http.StatusForbidden, r.Code)
	})
}

func TestSecure(t *testing.T) {
	e := newEnv(t, func(d *pages.Deps) { d.Secure = true })
	b := e.browser(t)
	r := b.get("/forgot")
	c := r.Header.Get("Set-Cookie")
	assert.Contains(t, c, "__Host-skychimp_csrf=")
	assert.Contains(t, c, "Secure")
	assert.Contains(t, c, "HttpOnly")
	assert.Contains(t, c, "SameSite=Lax")

	t.Run("OK", func(t *testing.T) {
		r := b.post("/forgot", url.Values{"email": {"gus@example.com"}})
		assert.Equal(t, http.StatusOK, r.Code, r.Body)
	})
	t.Run("ErrPlainHTTPOrigin", func(t *testing.T) {
		r := b.postRaw("/forgot", url.Values{"email": {"gus@example.com"}, "csrf_token": {b.token}},
			map[string]string{"Origin": "http://" + host})
		assert.Equal(t, http.StatusForbidden, r.Code)
	})
}

func TestCrossOrigin(t *testing.T) {
	e := newEnv(t)
	e.handler = pages.CrossOrigin(e.engine)
	c := seedMailing(t, e)

	t.Run("ErrCrossSitePost", func(t *testing.T) {
		b := e.browser(t)
		b.get("/register")
		form := url.Values{"email": {"hal@example.com"}, "full_name": {"Hal"}, "password": {"hal password"}, "csrf_token": {b.token}}
		r := b.postRaw("/register", form, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
		assert.Equal(t, http.StatusForbidden, r.Code)
		assert.Contains(t, r.Body, "This request came from another website, so it was refused and nothing was changed.")
		assert.Empty(t, e.notes.Notices())
	})
	t.Run("ErrOriginOnly", func(t *testing.T) {
		// An older browser: no Sec-Fetch-Site, an Origin that is not the host.
		b := e.browser(t)
		b.get("/forgot")
		r := b.postRaw("/forgot", url.Values{"email": {"hal@example.com"}, "csrf_token": {b.token}},
			map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"})
		assert.Equal(t, http.StatusForbidden, r.Code)
	})
	t.Run("ErrAdminAjax", func(t *testing.T) {
		// Any route of the engine is covered, e.g. the admin panel's.
		e.engine.POST("/admin/delete/clients", func(c *gin.Context) { c.String(http.StatusOK, "deleted") })
		r := e.browser(t).postRaw("/admin/delete/clients", url.Values{"id": {"1"}},
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example", "X-Requested-With": "XMLHttpRequest"})
		assert.Equal(t, http.StatusForbidden, r.Code)
		assert.Contains(t, r.Body, `"code":403`)
		r = e.browser(t).postRaw("/admin/delete/clients", url.Values{"id": {"1"}}, nil)
		assert.Equal(t, http.StatusOK, r.Code, "same origin passes")
	})
	t.Run("OKSafeMethods", func(t *testing.T) {
		r := e.browser(t).do(http.MethodGet, "/register", nil, "", map[string]string{"Sec-Fetch-Site": "cross-site"})
		assert.Equal(t, http.StatusOK, r.Code)
	})
	t.Run("OKSameOrigin", func(t *testing.T) {
		b := e.browser(t)
		b.get("/forgot")
		r := b.post("/forgot", url.Values{"email": {"hal@example.com"}})
		assert.Equal(t, http.StatusOK, r.Code)
	})
	t.Run("OKUnsubscribeFromAnywhere", func(t *testing.T) {
		// A webmail posting from its own origin, and a mail provider's
		// server with no browser headers at all.
		r := e.browser(t).do(http.MethodPost, "/unsubscribe/"+c.token, strings.NewReader("List-Unsubscribe=One-Click"),
			"application/x-www-form-urlencoded", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://webmail.example"})
		assert.Equal(t, http.StatusOK, r.Code, r.Body)
		r = e.browser(t).do(http.MethodPost, "/unsubscribe/"+c.token, strings.NewReader("List-Unsubscribe=One-Click"),
			"application/x-www-form-urlencoded", map[string]string{"Sec-Fetch-Site": "", "Origin": ""})
		assert.Equal(t, http.StatusOK, r.Code, r.Body)
	})
	t.Run("OKNoBrowserHeadersWithoutBypass", func(t *testing.T) {
		// The standard protection lets requests without Sec-Fetch-Site or
		// Origin through by design, bypass or not.
		req := httptest.NewRequest(http.MethodPost, "http://"+host+"/unsubscribe/x", strings.NewReader("List-Unsubscribe=One-Click"))
		assert.NoError(t, http.NewCrossOriginProtection().Check(req))
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		assert.Error(t, http.NewCrossOriginProtection().Check(req))
		cop, err := pages.NewCrossOriginProtection()
		require.NoError(t, err)
		assert.NoError(t, cop.Check(req), "exempt")
		other := httptest.NewRequest(http.MethodPost, "http://"+host+"/unsubscribe/x/more", nil)
		other.Header.Set("Sec-Fetch-Site", "cross-site")
		assert.Error(t, cop.Check(other), "only the unsubscribe route is exempt")
	})
	t.Run("OKTrustedOrigin", func(t *testing.T) {
		cop, err := pages.NewCrossOriginProtection("https://admin.example.com")
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, "http://"+host+"/register", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://admin.example.com")
		assert.NoError(t, cop.Check(req))
		_, err = pages.NewCrossOriginProtection("not an origin")
		assert.Error(t, err)
	})
	t.Run("OKGinMiddleware", func(t *testing.T) {
		g := gin.New()
		g.Use(pages.CrossOriginMiddleware())
		g.POST("/x", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
		req := httptest.NewRequest(http.MethodPost, "http://"+host+"/x", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		assert.Equal(t, http.StatusForbidden, w.Code)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		w = httptest.NewRecorder()
		g.ServeHTTP(w, req)
		assert.Equal(t, http.StatusOK, w.Code)
	})
}

func TestForgotReset(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "ivy@example.com", "old password", true)
	b := e.browser(t)
	r := b.get("/forgot")
	require.Equal(t, http.StatusOK, r.Code)

	known := b.post("/forgot", url.Values{"email": {"Ivy@Example.com"}})
	require.Equal(t, http.StatusOK, known.Code, known.Body)
	assert.Contains(t, text(known.Body), "If Ivy@example.com belongs to an account, we sent a link to it to choose a new password; it is valid for 1 hour.")
	n, ok := e.notes.Last(accounts.NoticeReset, "ivy@example.com")
	require.True(t, ok)

	t.Run("OKUnknownLooksTheSame", func(t *testing.T) {
		unknown := b.post("/forgot", url.Values{"email": {"Nobody@Example.com"}})
		assert.Equal(t, known.Code, unknown.Code)
		assert.Equal(t, stable(known.Body), stable(strings.Replace(unknown.Body, "Nobody@", "Ivy@", 1)))
	})
	t.Run("ErrBadAddress", func(t *testing.T) {
		for _, in := range []struct{ email, msg string }{{"", "The email address is required."}, {"ivy@", "The email address is not a valid email address."}} {
			r := b.post("/forgot", url.Values{"email": {in.email}})
			assert.Equal(t, http.StatusUnprocessableEntity, r.Code)
			assert.Contains(t, r.Body, in.msg)
			assert.Contains(t, r.Body, `value="`+in.email+`"`)
		}
	})

	link := pathOf(t, n.Link)
	token := accountstest.TokenFrom(n.Link)
	r = b.get(link)
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	assert.Contains(t, r.Body, `for="f-password"`)
	assert.Contains(t, r.Body, "Save the new password")

	t.Run("ErrWeakPasswordKeepsLink", func(t *testing.T) {
		r := b.post(link, url.Values{"token": {token}, "password": {"short"}})
		assert.Equal(t, http.StatusUnprocessableEntity, r.Code)
		assert.Contains(t, r.Body, "The password must be at least 8 characters long.")
		assert.Contains(t, r.Body, `aria-invalid="true"`)
		assert.NotContains(t, r.Body, `value="short"`)
		assert.NoError(t, e.accounts.CheckToken(context.Background(), accounts.TokenReset, token))
	})

	r = b.post(link, url.Values{"token": {token}, "password": {"new password"}})
	require.Equal(t, http.StatusOK, r.Code, r.Body)
	assert.Contains(t, text(r.Body), "Your password is changed")
	assert.Contains(t, r.Body, `href="/admin/login"`)
	_, err := e.accounts.Authenticate(context.Background(), "ivy@example.com", "new password")
	require.NoError(t, err)

	t.Run("ErrUsedLink", func(t *testing.T) {
		r := b.get(link)
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, text(r.Body), "The password reset link is invalid, was already used or has expired.")
		assert.Contains(t, r.Body, `href="/forgot"`)
		r = b.post("/forgot", url.Values{"email": {"ivy@example.com"}}) // any page, for a token
		r = b.post(link, url.Values{"token": {token}, "password": {"third password"}})
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, r.Body, "This link does not work")
	})
	t.Run("ErrExpiredLink", func(t *testing.T) {
		b.post("/forgot", url.Values{"email": {"ivy@example.com"}})
		n, ok := e.notes.Last(accounts.NoticeReset, "ivy@example.com")
		require.True(t, ok)
		e.clock.Advance(61 * time.Minute)
		r := b.get(pathOf(t, n.Link))
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, text(r.Body), "invalid, was already used or has expired")
	})
}

func TestResendVerification(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "jo@example.com", "jo password", false)
	b := e.browser(t)
	b.get("/verify/resend")
	waiting := b.post("/verify/resend", url.Values{"email": {"jo@example.com"}})
	require.Equal(t, http.StatusOK, waiting.Code)
	assert.Contains(t, text(waiting.Body), "If jo@example.com belongs to an account that is waiting for confirmation, we sent a new link to it; it is valid for 48 hours.")
	assert.Equal(t, 1, e.notes.Count(accounts.NoticeVerify, "jo@example.com"))

	unknown := b.post("/verify/resend", url.Values{"email": {"zed@example.com"}})
	assert.Equal(t, stable(waiting.Body), stable(strings.Replace(unknown.Body, "zed@", "jo@", 1)))

	r := b.post("/verify/resend", url.Values{"email": {"jo"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.Code)
	assert.Contains(t, r.Body, "The email address is not a valid email address.")
	assert.Contains(t, r.Body, `value="jo"`)
}

type seeded struct {
	mailingID, clientID int64
	token               string
}

// seedMailing gives a user a mailing to two clients, and the unsubscribe
// token of the first.
func seedMailing(tb testing.TB, e *env) seeded {
	tb.Helper()
	ctx := accounts.WithUser(context.Background(), accounts.User{ID: 7, Email: "owner@example.com", Role: accounts.RoleUser, Verified: true})
	c1, err := e.mailings.CreateClient(ctx, mailing.Client{Email: "kim@example.net", Name: "Kim"})
	require.NoError(tb, err)
	c2, err := e.mailings.CreateClient(ctx, mailing.Client{Email: "lee@example.net", Name: "Lee"})
	require.NoError(tb, err)
	m, err := e.mailings.CreateMessage(ctx, mailing.Message{Subject: "Hello", Body: "<p>Hi</p>"})
	require.NoError(tb, err)
	ml, err := e.mailings.CreateMailing(ctx, mailing.Mailing{MessageID: m.ID, ClientIDs: []int64{c1.ID, c2.ID},
		Start: accountstest.T0.Add(time.Hour), End: accountstest.T0.Add(30 * 24 * time.Hour), Period: mailing.Weekly})
	require.NoError(tb, err)
	return seeded{mailingID: ml.ID, clientID: c1.ID,
		token: mailing.UnsubscribeToken(secret, mailing.Delivery{MailingID: ml.ID, ClientID: c1.ID})}
}

func (e *env) clientIDs(tb testing.TB, mailingID int64) []int64 {
	tb.Helper()
	m, err := e.mstore.GetMailing(context.Background(), mailingID)
	require.NoError(tb, err)
	return m.ClientIDs
}

func TestUnsubscribe(t *testing.T) {
	t.Run("OKButton", func(t *testing.T) {
		e := newEnv(t)
		s := seedMailing(t, e)
		b := e.browser(t)
		r := b.get("/unsubscribe/" + s.token)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		assert.Contains(t, r.Body, `action="/unsubscribe/`+s.token+`"`)
		assert.Contains(t, r.Body, ">Unsubscribe</button>")
		assert.Contains(t, e.clientIDs(t, s.mailingID), s.clientID, "GET changes nothing")

		r = b.postRaw("/unsubscribe/"+s.token, url.Values{}, nil)
		require.Equal(t, http.StatusOK, r.Code, r.Body)
		assert.Contains(t, text(r.Body), "You are unsubscribed You will not receive this mailing any more.")
		assert.NotContains(t, e.clientIDs(t, s.mailingID), s.clientID)
		assert.Len(t, e.clientIDs(t, s.mailingID), 1, "the other client stays")

		r = b.postRaw("/unsubscribe/"+s.token, url.Values{}, nil)
		assert.Equal(t, http.StatusOK, r.Code, "twice is fine")
	})
	t.Run("OKOneClickURLEncoded", func(t *testing.T) {
		e := newEnv(t)
		s := seedMailing(t, e)
		req := httptest.NewRequest(http.MethodPost, "https://"+host+"/unsubscribe/"+s.token, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		pages.CrossOrigin(e.engine).ServeHTTP(w, req)
		assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "Unsubscribed.\n", w.Body.String())
		assert.NotContains(t, e.clientIDs(t, s.mailingID), s.clientID)
	})
	t.Run("OKOneClickMultipart", func(t *testing.T) {
		e := newEnv(t)
		s := seedMailing(t, e)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		require.NoError(t, mw.WriteField("List-Unsubscribe", "One-Click"))
		require.NoError(t, mw.Close())
		req := httptest.NewRequest(http.MethodPost, "https://"+host+"/unsubscribe/"+s.token, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		w := httptest.NewRecorder()
		pages.CrossOrigin(e.engine).ServeHTTP(w, req)
		assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.NotContains(t, e.clientIDs(t, s.mailingID), s.clientID)
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		e := newEnv(t)
		s := seedMailing(t, e)
		forged := mailing.UnsubscribeToken([]byte("another secret of enough length"), mailing.Delivery{MailingID: s.mailingID, ClientID: s.clientID})
		b := e.browser(t)
		r := b.get("/unsubscribe/" + forged)
		assert.Equal(t, http.StatusBadRequest, r.Code)
		r = b.postRaw("/unsubscribe/"+forged, url.Values{}, nil)
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, text(r.Body), "The unsubscribe link is invalid or incomplete.")
		r = b.postRaw("/unsubscribe/"+forged, url.Values{"List-Unsubscribe": {"One-Click"}}, nil)
		assert.Equal(t, http.StatusBadRequest, r.Code)
		assert.Contains(t, e.clientIDs(t, s.mailingID), s.clientID)
	})
	t.Run("OKURLHelper", func(t *testing.T) {
		f := pages.UnsubscribeURL("https://mail.example.com/", secret)
		d := mailing.Delivery{MailingID: 3, ClientID: 4}
		assert.Equal(t, "https://mail.example.com/unsubscribe/"+mailing.UnsubscribeToken(secret, d), f(d))
	})
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(d *pages.Deps) { d.RateBurst, d.RateEvery = 3, time.Minute })
	b := e.browser(t)
	b.get("/forgot")
	for i := range 2 {
		r := b.post("/forgot", url.Values{"email": {"max@example.com"}})
		require.Equal(t, http.StatusOK, r.Code, "request %d", i)
	}
	// The three forms share one bucket.
	r := b.post("/verify/resend", url.Values{"email": {"max@example.com"}})
	require.Equal(t, http.StatusOK, r.Code)

	r = b.post("/register", url.Values{"email": {"max@example.com"}, "full_name": {"Max Moe"}, "password": {"max password"}})
	require.Equal(t, http.StatusTooManyRequests, r.Code)
	assert.Contains(t, r.Body, "Too many attempts")
	assert.Contains(t, text(r.Body), "Wait 1 minute and send the form again")
	assert.Equal(t, "60", r.Header.Get("Retry-After"))
	assert.Contains(t, r.Body, `value="max@example.com"`, "typed values kept")
	assert.Contains(t, r.Body, `value="Max Moe"`)
	assert.NotContains(t, r.Body, "max password")
	_, err := e.accounts.Store().GetUserByEmail(context.Background(), "max@example.com")
	assert.ErrorIs(t, err, accounts.ErrNotFound, "nothing registered")

	t.Run("OKOtherAddress", func(t *testing.T) {
		other := e.browser(t)
		other.ip = "198.51.100.7"
		other.get("/forgot")
		r := other.post("/forgot", url.Values{"email": {"max@example.com"}})
		assert.Equal(t, http.StatusOK, r.Code)
	})
	t.Run("ErrSameIPv6Network", func(t *testing.T) {
		v6 := e.browser(t)
		v6.get("/forgot")
		for i := range 4 {
			v6.ip = "2001:db8:1:2::" + string(rune('a'+i))
			r := v6.post("/forgot", url.Values{"email": {"max@example.com"}})
			if i < 3 {
				assert.Equal(t, http.StatusOK, r.Code)
			} else {
				assert.Equal(t, http.StatusTooManyRequests, r.Code, "one /64, one bucket")
			}
		}
	})
	t.Run("OKAfterWaiting", func(t *testing.T) {
		e.advanceLimiter(time.Minute)
		r := b.post("/forgot", url.Values{"email": {"max@example.com"}})
		assert.Equal(t, http.StatusOK, r.Code)
		r = b.post("/forgot", url.Values{"email": {"max@example.com"}})
		assert.Equal(t, http.StatusTooManyRequests, r.Code)
	})
	t.Run("OKOtherFormsUnlimited", func(t *testing.T) {
		r := b.get("/register")
		assert.Equal(t, http.StatusOK, r.Code)
	})
}

func TestLoginError(t *testing.T) {
	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"Nil":          {nil, ""},
		"InvalidLogin": {accounts.ErrInvalidLogin, "The email address or password is wrong."},
		"NotVerified":  {accounts.ErrNotVerified, "/verify/resend"},
		"Blocked":      {accounts.ErrBlocked, "This account is blocked."},
		"Other":        {io.ErrUnexpectedEOF, "Something went wrong on our side."},
	} {
		t.Run(name, func(t *testing.T) {
			got := pages.LoginError(c.err)
			if c.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, c.want)
			assert.NotContains(t, got, "accounts:", "no internal text")
		})
	}

	t.Run("UnknownAndWrongAlike", func(t *testing.T) {
		e := newEnv(t)
		e.addUser(t, "nia@example.com", "nia password", true)
		_, wrong := e.accounts.Authenticate(context.Background(), "nia@example.com", "bad password")
		_, unknown := e.accounts.Authenticate(context.Background(), "nobody@example.com", "bad password")
		assert.Equal(t, pages.LoginError(wrong), pages.LoginError(unknown))
	})
}

func TestNewChecksDeps(t *testing.T) {
	_, err := pages.New(pages.Deps{Secret: []byte("short")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Accounts")
	assert.Contains(t, err.Error(), "Mailings")
	assert.Contains(t, err.Error(), "Secret")
}

func TestMountedUnderGroup(t *testing.T) {
	e := newEnv(t)
	p, err := pages.New(pages.Deps{Accounts: e.accounts, Mailings: e.mailings, Secret: secret, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	g := gin.New()
	p.Register(g.Group("/account"))
	e.handler = g
	b := e.browser(t)
	r := b.get("/account/register")
	require.Equal(t, http.StatusOK, r.Code)
	assert.Contains(t, r.Body, `action="/account/register"`)
	assert.Contains(t, r.Body, `href="/account/static/pages.css"`)
	assert.Contains(t, r.Body, `href="/admin/login"`, "default login URL")
	r = b.post("/account/forgot", url.Values{"email": {"oz@example.com"}})
	assert.Equal(t, http.StatusOK, r.Code)
}

func TestRegisterMailDown(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, "pat@example.com", "pat password", false)
	e.notes.Fail(io.ErrClosedPipe)
	register := func(email string) resp {
		b := e.browser(t)
		b.get("/register")
		return b.post("/register", url.Values{"email": {email}, "full_name": {"Pat Poe"}, "password": {"some password"}})
	}
	newOne := register("quinn@example.com")
	assert.Equal(t, http.StatusServiceUnavailable, newOne.Code)
	assert.Contains(t, text(newOne.Body), "Your details are saved, but we could not send the email to quinn@example.com just now.")
	assert.Contains(t, newOne.Body, `href="/verify/resend"`)
	dup := register("pat@example.com")
	assert.Equal(t, newOne.Code, dup.Code)
	assert.Equal(t, stable(newOne.Body), stable(strings.Replace(dup.Body, "pat@", "quinn@", 1)), "no difference for an existing address")
}
