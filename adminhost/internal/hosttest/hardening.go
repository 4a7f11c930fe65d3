package hosttest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

// unknownID is an id no object has.
const unknownID = "987654321"

// BadListQueries: paging and order parameters GoAdmin would trust (its
// paginator divides by __pageSize) are answered 400 with the reason, on
// every list, before GoAdmin runs; good ones still work.
func BadListQueries(t *testing.T, e *Env) {
	alice, err := e.Login(Alice)
	require.NoError(t, err)
	manager, err := e.Login(Manager)
	require.NoError(t, err)
	content, err := e.Login(Content)
	require.NoError(t, err)
	lists := []struct {
		c    *Client
		path string
	}{
		{alice, "/admin/info/clients"}, {alice, "/admin/info/messages"}, {alice, "/admin/info/mailings"},
		{alice, "/admin/info/deliveries"}, {alice, "/admin/info/attempts"}, {manager, "/admin/info/users"},
		{content, "/admin/info/posts"},
	}
	bad := []string{
		"__pageSize=0", "__pageSize=abc", "__pageSize=-10", "__pageSize=101", "__pageSize=1e2", "__pageSize=", "__pageSize=10&__pageSize=20",
		"__page=0", "__page=abc", "__page=-1", "__page=1000001", "__page=01",
		"__sort=email", "__sort=id%20desc", "__sort=", "__sort=id&__sort=email",
		"__sort_type=up", "__sort_type=",
	}
	for _, l := range lists {
		for _, q := range bad {
			r, err := l.c.Get(l.path + "?" + q)
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s?%s as %s", l.path, q, l.c.Name)
		}
		for _, q := range []string{"__pageSize=1", "__pageSize=100", "__page=2&__pageSize=10", "__sort=id&__sort_type=asc", "__sort_type=desc"} {
			r, err := l.c.Get(l.path + "?" + q)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, r.Status, "%s?%s as %s", l.path, q, l.c.Name)
		}
	}
	r, err := alice.Get("/admin/info/clients?__pageSize=0")
	require.NoError(t, err)
	assert.Contains(t, r.Body, "The page size (__pageSize) must be a whole number from 1 to 100.")
	r, err = alice.Get("/admin/info/clients/detail?__goadmin_detail_pk=" + strconv.FormatInt(e.Data[Alice].Clients[0].ID, 10) + "&__pageSize=0")
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, r.Status, "on every table route")
	r, err = alice.PostForm("/admin/export/clients?__page=abc", url.Values{"id": {strconv.FormatInt(e.Data[Alice].Clients[0].ID, 10)}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, r.Status, "on posts too")
	assert.NotContains(t, e.Logs.String(), "integer divide by zero")
}

// UnknownIDs: an id that names no object is 404 on every route that takes
// one, for the role that may use the route; actions answer with the
// status, not GoAdmin's 200 with an error code.
func UnknownIDs(t *testing.T, e *Env) {
	alice, err := e.Login(Alice)
	require.NoError(t, err)
	manager, err := e.Login(Manager)
	require.NoError(t, err)
	content, err := e.Login(Content)
	require.NoError(t, err)

	for _, tc := range []struct {
		c     *Client
		table string
	}{{alice, "clients"}, {alice, "messages"}, {alice, "mailings"}, {content, "posts"}} {
		for _, p := range []string{"/detail?__goadmin_detail_pk=", "/edit?__goadmin_edit_pk=", "?__pk="} {
			r, err := tc.c.Get("/admin/info/" + tc.table + p + unknownID)
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, r.Status, "GET %s%s", tc.table, p)
		}
		tok, err := tc.c.Token(tc.table)
		require.NoError(t, err)
		r, err := tc.c.PostMultipart("/admin/edit/"+tc.table, url.Values{"id": {unknownID}, "__go_admin_t_": {tok}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, r.Status, "edit %s", tc.table)
		for _, op := range []string{"delete", "export"} {
			r, err := tc.c.PostForm("/admin/"+op+"/"+tc.table, url.Values{"id": {unknownID}})
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, r.Status, "%s %s", op, tc.table)
		}
	}

	for _, tc := range []struct {
		c      *Client
		action string
	}{
		{alice, "mailing-send"}, {manager, "mailing-disable"}, {manager, "mailing-enable"},
		{manager, "user-block"}, {manager, "user-unblock"}, {content, "post-publish"}, {content, "post-unpublish"},
	} {
		code, msg := statusJSON(t, must(tc.c.PostForm("/admin/operation/"+tc.action, url.Values{"id": {unknownID}})), http.StatusNotFound)
		assert.Equal(t, http.StatusNotFound, code, tc.action)
		assert.Equal(t, "Not found.", msg, tc.action)
	}
	code, msg := statusJSON(t, must(alice.PostForm("/admin/operation/mailing-send", url.Values{"id": {"abc"}})), http.StatusBadRequest)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "Choose a row first.", msg)

	r, err := alice.Get("/admin/report/" + unknownID)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.Status, "report")
	r, err = alice.PostForm("/admin/report/"+unknownID+"/resend", url.Values{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.Status, "resend")
}

// sessionID returns the client's admin session id ("" when it has none).
func (c *Client) sessionID() string {
	u, _ := url.Parse(c.env.Server.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "go_admin_session" {
			return ck.Value
		}
	}
	return ""
}

// sessionExists reports whether the session sid is stored.
func (e *Env) sessionExists(t *testing.T, sid string) bool {
	t.Helper()
	var n int
	require.NoError(t, e.DB.QueryRow("SELECT COUNT(*) FROM goadmin_session WHERE sid = ?", sid).Scan(&n))
	return n > 0
}

// post sends a urlencoded POST with exactly the extra headers given (and
// none of the client's defaults).
func (c *Client) post(t *testing.T, path string, vals url.Values, headers map[string]string) *Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.env.Server.URL+path, strings.NewReader(vals.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	bare := c.Bare
	c.Bare = true
	defer func() { c.Bare = bare }()
	r, err := c.do(req)
	require.NoError(t, err)
	return r
}

var logoutFormRE = regexp.MustCompile(`<form method="post" action="/admin/logout"[^>]*>\s*<button type="submit"[^>]*>\s*<i class="fa fa-sign-out"></i> Log out\s*</button>\s*</form>`)

// Logout: logging out is a POST from a button on every panel page; a GET
// logs nobody out, and neither does a POST from another site or one that
// does not say where it comes from.
func Logout(t *testing.T, e *Env) {
	t.Run("ButtonForEveryRole", func(t *testing.T) {
		for _, who := range []string{Alice, Manager, Content, Super} {
			c, err := e.Login(who)
			require.NoError(t, err)
			r, err := c.Get("/admin")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.Status)
			assert.Regexp(t, logoutFormRE, r.Body, "%s's panel has a logout button", who)
			assert.Contains(t, r.Body, `<p class="navbar-text skychimp-user">`+e.Users[who].FullName+`</p>`, who)
			assert.NotContains(t, r.Body, `href="/admin/logout"`, "no GET link")
			assert.NotContains(t, r.Body, "normal_manager", "no link to GoAdmin's closed user settings")
		}
	})

	t.Run("GETLogsNobodyOut", func(t *testing.T) {
		c, err := e.Login(Alice)
		require.NoError(t, err)
		sid := c.sessionID()
		r, err := c.Get("/admin/logout")
		require.NoError(t, err)
		assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
		assert.Equal(t, http.MethodPost, r.Header.Get("Allow"))
		assert.Contains(t, r.Body, `<form method="post" action="/admin/logout"><button type="submit">Log out</button></form>`)
		assert.True(t, e.sessionExists(t, sid))
		r, err = c.Get("/admin")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, r.Status, "still logged in")
	})

	t.Run("ForeignOrSilentPOSTRefused", func(t *testing.T) {
		c, err := e.Login(Alice)
		require.NoError(t, err)
		sid := c.sessionID()
		for name, h := range map[string]map[string]string{
			"NoHeaders":        {},
			"OtherOrigin":      {"Origin": "http://evil.example"},
			"CrossSite":        {"Sec-Fetch-Site": "cross-site"},
			"OtherHostReferer": {"Referer": "http://evil.example/page"},
		} {
			r := c.post(t, "/admin/logout", url.Values{}, h)
			assert.Equal(t, http.StatusForbidden, r.Status, name)
			assert.True(t, e.sessionExists(t, sid), name)
		}
		r, err := c.Get("/admin")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, r.Status, "still logged in")
	})

	t.Run("OK", func(t *testing.T) {
		c, err := e.Login(Alice)
		require.NoError(t, err)
		sid := c.sessionID()
		r, err := c.PostForm("/admin/logout", url.Values{})
		require.NoError(t, err)
		assert.Equal(t, http.StatusSeeOther, r.Status)
		assert.Equal(t, "/admin/login", r.Location)
		assert.False(t, e.sessionExists(t, sid), "the session is gone")
		assert.Empty(t, c.sessionID(), "the cookie is dropped")
		r, err = c.Get("/admin")
		require.NoError(t, err)
		assert.Equal(t, http.StatusFound, r.Status)
		assert.Equal(t, "/admin/login", r.Location)
	})

	t.Run("OKJSONAndWithoutSession", func(t *testing.T) {
		c, err := e.Login(Bob)
		require.NoError(t, err)
		sid := c.sessionID()
		r := c.post(t, "/admin/logout", url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin", "Accept": "application/json"})
		code, _ := statusJSON(t, r, http.StatusOK)
		assert.Zero(t, code)
		assert.False(t, e.sessionExists(t, sid))
		r, err = c.PostForm("/admin/logout", url.Values{})
		require.NoError(t, err)
		assert.Equal(t, http.StatusSeeOther, r.Status, "logging out twice is harmless")
	})
}

// SilentPOSTs: a state-changing request under /admin that carries none of
// Origin, Referer and Sec-Fetch-Site is refused (403, nothing changes),
// whatever route it is for; one that carries a same-site sign passes.
func SilentPOSTs(t *testing.T, e *Env) {
	ctx := t.Context()
	alice, err := e.Login(Alice)
	require.NoError(t, err)
	super, err := e.Login(Super)
	require.NoError(t, err)
	own := e.Data[Alice].Clients[1]
	ownID := strconv.FormatInt(own.ID, 10)
	running := strconv.FormatInt(e.Data[Alice].Running.ID, 10)

	silent := *alice
	silent.Bare = true
	for _, p := range []struct {
		path string
		vals url.Values
	}{
		{"/admin/delete/clients", url.Values{"id": {ownID}}},
		{"/admin/export/clients", url.Values{"id": {ownID}}},
		{"/admin/operation/mailing-send", url.Values{"id": {running}}},
		{"/admin/report/" + running + "/resend", url.Values{}},
		{"/admin/signin", url.Values{"username": {e.Users[Alice].Email}, "password": {Password}}},
		{"/admin/logout", url.Values{}},
	} {
		r, err := silent.PostForm(p.path, p.vals)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status, p.path)
		assert.Contains(t, r.Body, "did not come from a page of this site", p.path)
	}
	tok, err := alice.Token("clients")
	require.NoError(t, err)
	r, err := silent.PostMultipart("/admin/new/clients", url.Values{"email": {"silent.x9@example.net"}, "name": {"Silent"}, "__go_admin_t_": {tok}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, r.Status, "a form")
	silentSuper := *super
	silentSuper.Bare = true
	r, err = silentSuper.PostForm("/admin/operation/user-block", url.Values{"id": {strconv.FormatInt(e.Users[Carol].ID, 10)}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, r.Status, "an action")

	_, err = e.Store.GetClient(ctx, own.ID)
	assert.NoError(t, err, "nothing was deleted")
	cs, _, err := e.Store.ListClients(ctx, mailing.ClientFilter{Search: "silent.x9@example.net"})
	require.NoError(t, err)
	assert.Empty(t, cs, "nothing was created")
	carol, err := e.Accounts.Store().GetUser(ctx, e.Users[Carol].ID)
	require.NoError(t, err)
	assert.False(t, carol.Blocked, "nobody was blocked")

	// What a browser sends passes: any one of the three signs, from here.
	self := e.Server.URL
	for name, h := range map[string]map[string]string{
		"Origin":        {"Origin": self},
		"SecFetchSite":  {"Sec-Fetch-Site": "same-origin"},
		"RefererOnly":   {"Referer": self + "/admin/info/clients"},
		"ExportTheList": {"Origin": self, "Referer": self + "/admin/info/clients"},
	} {
		r := alice.post(t, "/admin/export/clients", url.Values{"id": {ownID}}, h)
		assert.Equal(t, http.StatusOK, r.Status, name)
	}
	r = alice.post(t, "/admin/export/clients", url.Values{"id": {ownID}}, map[string]string{"Referer": "https://evil.example/admin/info/clients"})
	assert.Equal(t, http.StatusForbidden, r.Status, "a Referer of another host")
	r, err = silent.Get("/admin/info/clients")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.Status, "reading needs no sign")
}

var (
	scriptBlockRE = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	styleBlockRE  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// ContentSecurityPolicy: the login page allows its own script and style
// only, by hash; every other page of the panel has the panel's policy;
// and no page names GoAdmin or its version.
func ContentSecurityPolicy(t *testing.T, e *Env) {
	t.Run("LoginPage", func(t *testing.T) {
		r, err := e.NewClient("anonymous").Get("/admin/login")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		csp := r.Header.Get("Content-Security-Policy")
		scripts := scriptBlockRE.FindAllStringSubmatch(r.Body, -1)
		styles := styleBlockRE.FindAllStringSubmatch(r.Body, -1)
		require.Len(t, scripts, 1)
		require.Len(t, styles, 1)
		assert.Equal(t, "default-src 'none'; script-src "+cspHash(scripts[0][1])+"; style-src "+cspHash(styles[0][1])+
			"; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", csp)
		assert.NotRegexp(t, `<script[^>]+src=|<link[^>]+stylesheet| style="| on[a-z]+="`, r.Body,
			"nothing the policy would block: no other script or style, no inline style or handler attribute")
	})

	t.Run("PanelPages", func(t *testing.T) {
		alice, err := e.Login(Alice)
		require.NoError(t, err)
		id := strconv.FormatInt(e.Data[Alice].Clients[0].ID, 10)
		for _, p := range []string{"/admin", "/admin/info/clients", "/admin/info/clients/detail?__goadmin_detail_pk=" + id,
			"/admin/info/clients/edit?__goadmin_edit_pk=" + id, "/admin/info/mailings/new",
			"/admin/report/" + strconv.FormatInt(e.Data[Alice].Running.ID, 10), "/admin/import/clients",
			"/admin/info/nope", "/admin/logout"} {
			r, err := alice.Get(p)
			require.NoError(t, err)
			csp := r.Header.Get("Content-Security-Policy")
			assert.Equal(t, "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "+
				"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'", csp, p)
			assert.NotRegexp(t, `(?i)<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//`, r.Body, "%s loads nothing from elsewhere", p)
		}
	})

	t.Run("NoVersionFooter", func(t *testing.T) {
		for _, who := range []string{Alice, Manager, Content, Super} {
			c, err := e.Login(who)
			require.NoError(t, err)
			for _, p := range []string{"/admin", "/admin/info/users", "/admin/info/posts", "/admin/info/clients"} {
				r, err := c.Get(p)
				require.NoError(t, err)
				if r.Status != http.StatusOK {
					continue
				}
				assert.Contains(t, r.Body, `<footer class="main-footer">SkyChimp Test</footer>`, "%s %s", who, p)
				for _, s := range []string{"v1.2.26", "<b>Version</b>", "Powered by", "GoAdmin", "adminlte&nbsp;"} {
					assert.NotContains(t, r.Body, s, "%s %s", who, p)
				}
			}
		}
		r, err := e.NewClient("anonymous").Get("/admin/login")
		require.NoError(t, err)
		assert.NotContains(t, r.Body, "v1.2.26")
		assert.NotContains(t, r.Body, "GoAdmin")
	})
}

// MailingRules: the panel's forms show the mailing service's rules as
// field errors: an end already past, on a new mailing and when an edit
// changes the end (an ended mailing may still be edited with its end
// left as it was), and a client without a name.
func MailingRules(t *testing.T, e *Env) {
	ctx := t.Context()
	alice, err := e.Login(Alice)
	require.NoError(t, err)
	a := e.Data[Alice]
	owner := e.Users[Alice].ID
	now := time.Now().UTC()
	form := func(name string, start, end time.Time) url.Values {
		return url.Values{"name": {name}, "message_id": {strconv.FormatInt(a.Message.ID, 10)},
			"client_ids[]": {strconv.FormatInt(a.Clients[0].ID, 10)},
			"start":        {start.Format("2006-01-02 15:04:05")}, "end": {end.Format("2006-01-02 15:04:05")},
			"period": {"daily"}, "time_zone": {"UTC"}, "__go_admin_previous_": {"/admin/info/mailings"}}
	}
	saved := func(name string) (mailing.Mailing, bool) {
		ms, _, err := e.Store.ListMailings(ctx, mailing.MailingFilter{OwnerID: owner})
		require.NoError(t, err)
		for _, m := range ms {
			if m.Name == name {
				return m, true
			}
		}
		return mailing.Mailing{}, false
	}
	post := func(path string, v url.Values) *Response {
		tok, err := alice.Token("mailings")
		require.NoError(t, err)
		v.Set("__go_admin_t_", tok)
		r, err := alice.PostMultipart(path, v)
		require.NoError(t, err)
		return r
	}

	t.Run("NewWithPastEndErrInvalid", func(t *testing.T) {
		r := post("/admin/new/mailings", form("Too late Q1", now.AddDate(0, 0, -10), now.AddDate(0, 0, -3)))
		assert.Contains(t, r.Body, "End is already past: a mailing must end in the future, or it would never send.")
		assert.Contains(t, r.Body, "Too late Q1", "the input is shown again")
		_, ok := saved("Too late Q1")
		assert.False(t, ok, "nothing saved")
		r = post("/admin/new/mailings", form("Backwards Q2", now.AddDate(0, 0, 3), now.AddDate(0, 0, 2)))
		assert.Contains(t, r.Body, "End must be after the start.")
		_, ok = saved("Backwards Q2")
		assert.False(t, ok)
	})

	t.Run("EditEndToThePastErrInvalid", func(t *testing.T) {
		m := a.Future
		r := post("/admin/edit/mailings", withID(form("Moved back Q3", m.Start.AddDate(0, 0, -60), now.Add(-time.Hour)), m.ID))
		assert.Contains(t, r.Body, "End is already past")
		got, err := e.Store.GetMailing(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, m.End, got.End, "nothing saved")
		assert.NotEqual(t, "Moved back Q3", got.Name)
	})

	t.Run("EditEndedMailingKeepingItsEnd", func(t *testing.T) {
		ended := mailing.Mailing{OwnerID: owner, Name: "Ended Q4", MessageID: a.Message.ID, ClientIDs: []int64{a.Clients[0].ID},
			Start: now.AddDate(0, 0, -20).Truncate(time.Second), End: now.AddDate(0, 0, -10).Truncate(time.Second),
			Period: mailing.Daily, Enabled: true}
		require.NoError(t, e.Store.CreateMailing(ctx, &ended), "stored as the engine would have left it")
		defer func() { _ = e.Store.DeleteMailing(ctx, ended.ID) }()
		r := post("/admin/edit/mailings", withID(form("Ended Q4, renamed", ended.Start, ended.End), ended.ID))
		assert.Equal(t, http.StatusOK, r.Status)
		assert.NotContains(t, r.Body, "already past")
		got, err := e.Store.GetMailing(ctx, ended.ID)
		require.NoError(t, err)
		assert.Equal(t, "Ended Q4, renamed", got.Name, "renamed: the end stayed")
		assert.True(t, got.NextRun.IsZero(), "and it still sends nothing")

		r = post("/admin/edit/mailings", withID(form("Ended Q4, moved", ended.Start, ended.End.Add(time.Hour)), ended.ID))
		assert.Contains(t, r.Body, "End is already past", "a changed end must lie ahead")
		got, err = e.Store.GetMailing(ctx, ended.ID)
		require.NoError(t, err)
		assert.Equal(t, ended.End, got.End)
	})

	t.Run("ClientWithoutNameErrInvalid", func(t *testing.T) {
		tok, err := alice.Token("clients")
		require.NoError(t, err)
		r, err := alice.PostMultipart("/admin/new/clients", url.Values{"email": {"nameless.q5@example.net"}, "name": {"  "},
			"__go_admin_t_": {tok}, "__go_admin_previous_": {"/admin/info/clients"}})
		require.NoError(t, err)
		assert.Contains(t, r.Body, "Name is required.")
		cs, _, err := e.Store.ListClients(ctx, mailing.ClientFilter{Search: "nameless.q5@example.net"})
		require.NoError(t, err)
		assert.Empty(t, cs)

		c := a.Clients[1]
		tok, err = alice.Token("clients")
		require.NoError(t, err)
		r, err = alice.PostMultipart("/admin/edit/clients", url.Values{"id": {strconv.FormatInt(c.ID, 10)}, "email": {c.Email}, "name": {""},
			"__go_admin_t_": {tok}, "__go_admin_previous_": {"/admin/info/clients"}})
		require.NoError(t, err)
		assert.Contains(t, r.Body, "Name is required.")
		got, err := e.Store.GetClient(ctx, c.ID)
		require.NoError(t, err)
		assert.Equal(t, c.Name, got.Name, "the name stays")
	})
}

func withID(v url.Values, id int64) url.Values {
	v.Set("id", strconv.FormatInt(id, 10))
	return v
}

var csrfValueRE = regexp.MustCompile(`name="csrf_token" value="[^"]+"`)

// EmailLimits: asking the public pages or the login form again and again
// for mail to one address sends it at most once per interval and kind,
// and every answer is the same page as when mail goes out.
func EmailLimits(t *testing.T, e *Env) {
	c := e.NewClient("bomber")
	victim := fmt.Sprintf("victim%d@example.com", caseSeq.Add(1))
	form := func(path string, v url.Values) (int, string) {
		t.Helper()
		v.Set("csrf_token", pageToken(t, c, path))
		r, err := c.PostForm(path, v)
		require.NoError(t, err)
		return r.Status, csrfValueRE.ReplaceAllString(r.Body, "")
	}
	register := url.Values{"email": {victim}, "full_name": {"Vic Tim"}, "password": {Password}}
	status, first := form("/register", register)
	require.Equal(t, http.StatusOK, status, first)
	for range 3 {
		again, body := form("/register", register)
		assert.Equal(t, status, again)
		assert.Equal(t, first, body, "registering again answers the same page")
	}
	for range 3 {
		r, err := c.Login(victim, Password)
		require.NoError(t, err)
		_, msg := loginJSON(t, r)
		assert.Contains(t, msg, "Confirm your email address first", "the same answer each time")
	}
	var resent string
	for i := range 3 {
		st, body := form("/verify/resend", url.Values{"email": {victim}})
		assert.Equal(t, http.StatusOK, st)
		if i > 0 {
			assert.Equal(t, resent, body, "asking again answers the same page")
		}
		resent = body
	}
	assert.Equal(t, 1, e.Notifier.Count(accounts.NoticeVerify, victim), "one confirmation mail for 3 registrations, 3 logins and 3 resends")
	for range 3 {
		st, _ := form("/forgot", url.Values{"email": {victim}})
		assert.Equal(t, http.StatusOK, st)
	}
	assert.Equal(t, 1, e.Notifier.Count(accounts.NoticeReset, victim), "one reset mail for 3 requests")
	assert.Contains(t, resent, "at most one such email every 10 minutes", "the page says so")

	// A confirmed address: "someone tried to register" is limited too.
	owner := e.Users[Carol].Email
	before := e.Notifier.Count(accounts.NoticeAlreadyRegistered, owner)
	for range 3 {
		form("/register", url.Values{"email": {owner}, "full_name": {"Not Carol"}, "password": {Password}})
	}
	after := e.Notifier.Count(accounts.NoticeAlreadyRegistered, owner)
	assert.LessOrEqual(t, after-before, 1)

	// After the interval one more of each goes out.
	e.AccountsClock.Advance(accounts.DefaultEmailInterval + time.Second)
	form("/verify/resend", url.Values{"email": {victim}})
	form("/forgot", url.Values{"email": {victim}})
	form("/register", url.Values{"email": {owner}, "full_name": {"Not Carol"}, "password": {Password}})
	assert.Equal(t, 2, e.Notifier.Count(accounts.NoticeVerify, victim))
	assert.Equal(t, 2, e.Notifier.Count(accounts.NoticeReset, victim))
	assert.Equal(t, after+1, e.Notifier.Count(accounts.NoticeAlreadyRegistered, owner))
}
