package adminhost

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gform "github.com/GoAdminGroup/go-admin/plugins/admin/modules/form"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/stats"
)

func TestClassifyPages(t *testing.T) {
	cases := []struct {
		method, rest string
		want         route
		ok           bool
	}{
		{"GET", "/report/5", route{kind: kindPage, page: pageReport, id: 5}, true},
		{"POST", "/report/5/resend", route{kind: kindPage, page: pageResend, id: 5}, true},
		{"GET", "/import/clients", route{kind: kindPage, page: pageImport}, true},
		{"POST", "/import/clients", route{kind: kindPage, page: pageImportPost}, true},
		{"GET", "/report/0", route{}, false},
		{"GET", "/report/05", route{}, false},
		{"GET", "/report/-5", route{}, false},
		{"GET", "/report/x", route{}, false},
		{"GET", "/report/5/", route{}, false},
		{"GET", "/report/1234567890123456789", route{}, false},
		{"GET", "/report/5/resend", route{}, false},
		{"POST", "/report/5", route{}, false},
		{"GET", "/import/clients/", route{}, false},
		{"PUT", "/import/clients", route{}, false},
	}
	for _, c := range cases {
		got, ok := classify(c.method, c.rest)
		assert.Equal(t, c.ok, ok, "%s %s", c.method, c.rest)
		assert.Equal(t, c.want, got, "%s %s", c.method, c.rest)
	}
}

var barRE = regexp.MustCompile(`<g class="bar"><title>([^<]*)</title>`)

func TestBarChart(t *testing.T) {
	t.Run("OneBarPerEntry", func(t *testing.T) {
		bars := make([]chartBar, 30)
		for i := range bars {
			bars[i] = chartBar{label: fmt.Sprintf("d%d", i), title: fmt.Sprintf("day %d: %d sent", i, i), values: []int{i, i % 3}}
		}
		out := string(barChart("c1", "Sends <per> day", "t1", []series{seriesSent, seriesFailed}, bars))
		m := barRE.FindAllStringSubmatch(out, -1)
		require.Len(t, m, 30)
		assert.Equal(t, "day 29: 29 sent", m[29][1])
		assert.Contains(t, out, `<title id="c1-title">Sends &lt;per&gt; day</title>`)
		assert.Contains(t, out, `role="img"`)
		assert.Contains(t, out, `aria-describedby="t1"`)
		assert.Equal(t, 29, strings.Count(out, `class="sent"`), "no rectangle for a zero")
		assert.Equal(t, 20, strings.Count(out, `class="failed"`))
		assert.LessOrEqual(t, strings.Count(out, `text-anchor="middle"`), chartLabels, "labels are thinned out")
		assert.NotContains(t, out, "<script")
	})
	t.Run("Escaped", func(t *testing.T) {
		out := string(barChart(`x"y`, "t", "", []series{seriesSent}, []chartBar{{label: `<b>`, title: `<script>alert(1)</script>`, values: []int{1}}}))
		assert.NotContains(t, out, "<script>")
		assert.NotContains(t, out, "<b>")
		assert.Contains(t, out, `id="x&#34;y"`)
	})
	t.Run("Empty", func(t *testing.T) {
		out := string(barChart("e", "t", "", []series{seriesSent}, nil))
		assert.Empty(t, barRE.FindAllString(out, -1))
		assert.Contains(t, out, "</svg>")
	})
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int]int{0: 4, 3: 4, 5: 8, 7: 8, 9: 12, 13: 20, 55: 80, 100: 100, 101: 200, 999: 1000, 1001: 2000} {
		got := niceCeil(n)
		assert.Equal(t, want, got, "niceCeil(%d)", n)
		assert.GreaterOrEqual(t, got, n)
		assert.Zero(t, got%4)
	}
}

// fakeNow is a settable clock.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeNow) Add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func TestLimiter(t *testing.T) {
	clock := &fakeNow{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(10, 10*time.Second, clock.Now)
	for i := range 10 {
		ok, _ := l.allow("192.0.2.1")
		require.True(t, ok, "try %d", i+1)
	}
	ok, wait := l.allow("192.0.2.1")
	assert.False(t, ok, "the eleventh try")
	assert.Equal(t, 10*time.Second, wait)
	ok, _ = l.allow("192.0.2.2")
	assert.True(t, ok, "another address has its own allowance")

	clock.Add(9 * time.Second)
	ok, wait = l.allow("192.0.2.1")
	assert.False(t, ok)
	assert.Equal(t, time.Second, wait)
	clock.Add(time.Second)
	ok, _ = l.allow("192.0.2.1")
	assert.True(t, ok, "one more every ten seconds")
	ok, _ = l.allow("192.0.2.1")
	assert.False(t, ok)

	clock.Add(2 * time.Minute)
	ok, _ = l.allow("192.0.2.3")
	assert.True(t, ok)
	assert.Equal(t, 1, l.size(), "full buckets are forgotten")
}

func TestClientKey(t *testing.T) {
	assert.Equal(t, "192.0.2.1", clientKey("192.0.2.1"))
	assert.Equal(t, "192.0.2.1", clientKey("::ffff:192.0.2.1"))
	assert.Equal(t, "2001:db8:1:2::/64", clientKey("2001:db8:1:2:aaaa::1"))
	assert.Equal(t, clientKey("2001:db8:1:2::5"), clientKey("2001:db8:1:2:ffff::9"))
	assert.Equal(t, "junk", clientKey("junk"))
}

// TestSignInLimitUntrustedForwardedFor: without trusted proxies the
// address is the connection's, whatever X-Forwarded-For says.
func TestSignInLimitUntrustedForwardedFor(t *testing.T) {
	clock := &fakeNow{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := &Host{log: slog.New(slog.DiscardHandler), signIns: newLimiter(3, 10*time.Second, clock.Now),
		login: newLoginPage("SkyChimp", LoginLinks{})}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	require.NoError(t, r.SetTrustedProxies(nil))
	r.POST("/admin/signin", func(c *gin.Context) {
		if h.limitSignIn(c) {
			c.String(http.StatusOK, "checked")
		}
	})
	post := func(remote, xff, accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/admin/signin", strings.NewReader("username=a&password=b"))
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", xff)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}
	for i := range 3 {
		assert.Equal(t, http.StatusOK, post("198.51.100.7:4000", fmt.Sprintf("203.0.113.%d", i), "application/json").Code)
	}
	rec := post("198.51.100.7:4001", "203.0.113.99", "application/json, text/javascript, */*; q=0.01")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code, "a new X-Forwarded-For does not buy new tries")
	assert.JSONEq(t, `{"code":429,"msg":"Too many attempts; try again in a minute"}`, rec.Body.String())
	assert.Equal(t, "10", rec.Header().Get("Retry-After"))

	rec = post("198.51.100.7:4002", "", "text/html,application/xhtml+xml")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Contains(t, rec.Body.String(), `<div id="login-error" class="alert alert-danger" role="alert">Too many attempts; try again in a minute</div>`)
	assert.Contains(t, rec.Body.String(), `action="/admin/signin"`, "the login page, to try again later")

	assert.Equal(t, http.StatusOK, post("198.51.100.8:4000", "", "application/json").Code, "another address")
}

func TestFlash(t *testing.T) {
	h := &Host{}
	gin.SetMode(gin.ReleaseMode)
	read := func(value string) (string, int, bool, string) {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest(http.MethodGet, "/admin/import/clients", nil)
		c.Request.AddCookie(&http.Cookie{Name: flashCookie, Value: value})
		kind, n, ok := h.takeFlash(c)
		return kind, n, ok, rec.Header().Get("Set-Cookie")
	}
	kind, n, ok, cleared := read("imported.3")
	require.True(t, ok)
	assert.Equal(t, flashImported, kind)
	assert.Equal(t, 3, n)
	assert.Contains(t, cleared, "Max-Age=0", "shown once")
	assert.Equal(t, `<div class="alert alert-success" role="status">Imported 3 clients.</div>`, flashHTML(kind, n))
	assert.Contains(t, flashHTML(flashResent, 2), "Queued 2 client(s) again; they are sent within seconds.")
	assert.Contains(t, flashHTML(flashResent, 0), "Nothing was queued")
	for _, bad := range []string{"imported.3<script>", "hacked.1", "imported.", "imported.1234567890", "resent.-1"} {
		_, _, ok, _ := read(bad)
		assert.False(t, ok, bad)
	}
}

func TestBlogUserMessage(t *testing.T) {
	err := &blog.ValidationError{Fields: []blog.FieldError{{Field: "title", Message: "is required"},
		{Field: "image", Message: "the file is not a PNG, JPEG, GIF or WebP image (its content looks like text/html)"}}}
	assert.Equal(t, "Please correct the form: Title is required. Image: the file is not a PNG, JPEG, GIF or WebP image (its content looks like text/html).",
		userMessage(err))
	assert.True(t, isRefusal(err))
	assert.True(t, isRefusal(fmt.Errorf("x: %w", blog.ErrForbidden)))
	assert.Equal(t, "Not found.", userMessage(fmt.Errorf("post 3: %w", blog.ErrNotFound)))
}

func TestDraftFromForm(t *testing.T) {
	h := &Host{clock: fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}
	d, err := h.draftFromForm(gform.Values{"title": {" Hello "}, "content": {"Words"}, "published": {"yes"}, "published_at": {"2029-12-24 18:00:00"}})
	require.NoError(t, err)
	assert.Equal(t, " Hello ", d.Title, "the service trims")
	assert.True(t, d.Published)
	assert.Equal(t, time.Date(2029, 12, 24, 18, 0, 0, 0, time.UTC), d.PublishedAt)

	_, err = h.draftFromForm(gform.Values{"title": {""}, "content": {"x"}, "published_at": {"soon"}})
	var ve *blog.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Field("published_at"), `"soon" is not a date`)
	assert.Equal(t, "is required", ve.Field("title"))

	_, err = h.draftFromForm(gform.Values{"title": {"t"}, "content": {"x"}, "published_at": {"2031-01-01"}})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "must not be in the future", ve.Field("published_at"))
}

type fakeClock struct{ t time.Time }

func (c fakeClock) Now() time.Time { return c.t }

// TestOptionalFeatures: without the blog and stats services the panel
// has no blog table, blog menu or actions, and no report pages.
func TestOptionalFeatures(t *testing.T) {
	h := &Host{}
	h.tables, h.actions, h.pages = h.buildTables(), h.buildActions(), h.buildPages()
	assert.NotContains(t, h.tables, "posts")
	assert.NotContains(t, h.actions, actPostPublish)
	assert.NotContains(t, h.pages, pageReport)
	assert.NotContains(t, h.pages, pageResend)
	assert.Contains(t, h.pages, pageImport, "the CSV import needs no extra service")
	for _, m := range h.menuFor() {
		assert.NotEqual(t, "/info/posts", m.uri)
	}

	h = &Host{deps: Deps{Blog: &blog.Service{}, Stats: &stats.Service{}}}
	h.tables, h.actions, h.pages = h.buildTables(), h.buildActions(), h.buildPages()
	assert.Contains(t, h.tables, "posts")
	assert.Contains(t, h.actions, actPostUnpublish)
	assert.Contains(t, h.pages, pageResend)
	var blogMenu bool
	for _, m := range h.menuFor() {
		blogMenu = blogMenu || m.uri == "/info/posts"
	}
	assert.True(t, blogMenu)

	// GoAdmin's own permission paths (its second lock) follow the pages.
	assert.Contains(t, h.permissionPaths(accounts.RoleUser), "/report/[0-9]+/resend")
	assert.Contains(t, h.permissionPaths(accounts.RoleManager), "/report/[0-9]+")
	assert.NotContains(t, h.permissionPaths(accounts.RoleManager), pathImport)
	assert.NotContains(t, h.permissionPaths(accounts.RoleContentManager), "/report/[0-9]+")
	assert.Contains(t, h.permissionPaths(accounts.RoleContentManager), "/info/posts")
	assert.NotContains(t, h.permissionPaths(accounts.RoleUser), "/info/posts")
}
