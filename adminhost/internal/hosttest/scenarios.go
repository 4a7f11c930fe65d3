package hosttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
	"github.com/skychimp/skychimp/mailing"
)

// RunScenarios runs the host's end-to-end scenarios as subtests.
func RunScenarios(t *testing.T, e *Env) {
	t.Run("RegisterVerifyLoginSeesOnlyOwnData", func(t *testing.T) { RegisterVerifyLogin(t, e) })
	t.Run("BlockEndsSessionAndRefusesLogin", func(t *testing.T) { BlockEndsSession(t, e) })
	t.Run("StaffActions", func(t *testing.T) { StaffActions(t, e) })
	t.Run("Security", func(t *testing.T) { Security(t, e) })
	t.Run("Forms", func(t *testing.T) { Forms(t, e) })
	t.Run("Dashboards", func(t *testing.T) { Dashboards(t, e) })
	t.Run("Blog", func(t *testing.T) { Blog(t, e) })
	t.Run("Reports", func(t *testing.T) { Reports(t, e) })
	t.Run("ImportCSV", func(t *testing.T) { ImportCSV(t, e) })
	t.Run("SignInLimit", func(t *testing.T) { SignInLimit(t, e) })
	t.Run("BadListQueries", func(t *testing.T) { BadListQueries(t, e) })
	t.Run("UnknownIDs", func(t *testing.T) { UnknownIDs(t, e) })
	t.Run("Logout", func(t *testing.T) { Logout(t, e) })
	t.Run("SilentPOSTs", func(t *testing.T) { SilentPOSTs(t, e) })
	t.Run("ContentSecurityPolicy", func(t *testing.T) { ContentSecurityPolicy(t, e) })
	t.Run("MailingRules", func(t *testing.T) { MailingRules(t, e) })
	t.Run("EmailLimits", func(t *testing.T) { EmailLimits(t, e) })
}

var csrfFieldRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// pageToken returns the CSRF token of a public page's form.
func pageToken(t *testing.T, c *Client, path string) string {
	t.Helper()
	r, err := c.Get(path)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status, path)
	m := csrfFieldRE.FindStringSubmatch(r.Body)
	require.NotNil(t, m, "no CSRF token on %s", path)
	return m[1]
}

// loginJSON decodes the sign-in answer.
func loginJSON(t *testing.T, r *Response) (int, string) {
	t.Helper()
	var v struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v), r.Body)
	return v.Code, v.Msg
}

// RegisterVerifyLogin registers through the public pages, confirms the
// address from the emailed link, logs in and finds nothing but an empty
// panel of their own.
func RegisterVerifyLogin(t *testing.T, e *Env) {
	c := e.NewClient("newbie")
	email := fmt.Sprintf("newbie%d@example.com", caseSeq.Add(1))
	tok := pageToken(t, c, "/register")
	r, err := c.PostForm("/register", url.Values{"csrf_token": {tok}, "email": {email}, "full_name": {"New Bee"}, "password": {Password}})
	require.NoError(t, err)
	require.Less(t, r.Status, 400, "register: %s", clip(r.Body))

	r, err = c.Login(email, Password)
	require.NoError(t, err)
	code, msg := loginJSON(t, r)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, msg, "onfirm", "an unconfirmed login says why")

	n, ok := e.Notifier.Last(accounts.NoticeVerify, email)
	require.True(t, ok, "no confirmation email")
	link, err := url.Parse(n.Link)
	require.NoError(t, err)
	vtok := pageToken(t, c, "/verify?"+link.RawQuery)
	r, err = c.PostForm("/verify", url.Values{"csrf_token": {vtok}, "token": {accountstest.TokenFrom(n.Link)}})
	require.NoError(t, err)
	require.Less(t, r.Status, 400, "verify: %s", clip(r.Body))

	r, err = c.Login(email, Password)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	assertSessionCookie(t, r)

	r, err = c.Get("/admin")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Body, "Welcome, New Bee")
	assert.Regexp(t, `<h3>0</h3><p>Clients</p>`, r.Body)
	for _, table := range []string{"clients", "messages", "mailings", "deliveries", "attempts"} {
		r, err := c.Get("/admin/info/" + table)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, r.Status, table)
		for _, who := range []string{Alice, Bob} {
			for _, m := range Markers[who] {
				assert.NotContains(t, r.Body, m, "%s shows %s's data", table, who)
			}
		}
	}
	r, err = c.Get("/admin/info/users")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.Status)

	// They can work: a client of their own appears in their list only.
	tok, err = c.Token("clients")
	require.NoError(t, err)
	r, err = c.PostMultipart("/admin/new/clients", url.Values{"email": {"first.client@example.net"}, "name": {"First"},
		"__go_admin_t_": {tok}, "__go_admin_previous_": {"/admin/info/clients"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	r, err = c.Get("/admin/info/clients")
	require.NoError(t, err)
	assert.Contains(t, r.Body, "first.client@example.net")
	alice, err := e.Login(Alice)
	require.NoError(t, err)
	r, err = alice.Get("/admin/info/clients")
	require.NoError(t, err)
	assert.NotContains(t, r.Body, "first.client@example.net")
}

// assertSessionCookie checks the session cookie's attributes.
func assertSessionCookie(t *testing.T, r *Response) {
	t.Helper()
	var found bool
	for _, v := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "go_admin_session=") {
			found = true
			assert.Contains(t, v, "SameSite=Lax")
			assert.Contains(t, v, "HttpOnly")
		}
	}
	assert.True(t, found, "no session cookie set: %v", r.Header.Values("Set-Cookie"))
}

// opJSON decodes an action's answer, which must be a 200.
func opJSON(t *testing.T, r *Response) (int, string) {
	t.Helper()
	return statusJSON(t, r, http.StatusOK)
}

// statusJSON decodes a JSON answer ({"code", "msg"}) that must have the
// HTTP status status.
func statusJSON(t *testing.T, r *Response, status int) (int, string) {
	t.Helper()
	require.Equal(t, status, r.Status, r.Body)
	var v struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v), r.Body)
	return v.Code, v.Msg
}

func (e *Env) sessions(t *testing.T, userID int64) int {
	t.Helper()
	var n int
	require.NoError(t, e.DB.QueryRow("SELECT COUNT(*) FROM goadmin_session WHERE `values` = ?",
		fmt.Sprintf(`{"user_id":%d}`, userID)).Scan(&n))
	return n
}

// BlockEndsSession blocks a logged-in user: their next request is logged
// out, their sessions are gone, and their login is refused with a reason.
func BlockEndsSession(t *testing.T, e *Env) {
	carol := e.Users[Carol]
	cc, err := e.Login(Carol)
	require.NoError(t, err)
	r, err := cc.Get("/admin")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	require.Positive(t, e.sessions(t, carol.ID))

	m, err := e.Login(Manager)
	require.NoError(t, err)
	code, msg := opJSON(t, must(m.PostForm("/admin/operation/user-block", url.Values{"id": {strconv.FormatInt(carol.ID, 10)}})))
	require.Zero(t, code, msg)
	assert.Contains(t, msg, "blocked")
	assert.Zero(t, e.sessions(t, carol.ID), "the block ended the sessions at once")

	r, err = cc.Get("/admin/info/clients")
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, r.Status)
	assert.Equal(t, "/admin/login", r.Location)
	r, err = cc.PostForm("/admin/delete/clients", url.Values{"id": {"1"}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, r.Status)

	r, err = cc.Login(carol.Email, Password)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	_, msg = loginJSON(t, r)
	assert.Contains(t, msg, "blocked")

	code, msg = opJSON(t, must(m.PostForm("/admin/operation/user-unblock", url.Values{"id": {strconv.FormatInt(carol.ID, 10)}})))
	require.Zero(t, code, msg)
	cc, err = e.Login(Carol)
	require.NoError(t, err)

	// Without the session hook (another instance blocked her): the guard's
	// per-request check still logs her out.
	blocked := true
	_, err = e.Accounts.Store().UpdateUser(context.Background(), carol.ID, accounts.UserUpdate{Blocked: &blocked})
	require.NoError(t, err)
	r, err = cc.Get("/admin")
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, r.Status)
	assert.Zero(t, e.sessions(t, carol.ID), "the dead session was deleted")
	blocked = false
	_, err = e.Accounts.Store().UpdateUser(context.Background(), carol.ID, accounts.UserUpdate{Blocked: &blocked})
	require.NoError(t, err)

	// Staff only, and not on staff.
	a, err := e.Login(Alice)
	require.NoError(t, err)
	r, err = a.PostForm("/admin/operation/user-block", url.Values{"id": {strconv.FormatInt(e.Users[Bob].ID, 10)}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.Status)
	code, msg = statusJSON(t, must(m.PostForm("/admin/operation/user-block", url.Values{"id": {strconv.FormatInt(e.Users[Super].ID, 10)}})), http.StatusForbidden)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, msg, "not allowed")
	u, err := e.Accounts.Store().GetUser(context.Background(), e.Users[Super].ID)
	require.NoError(t, err)
	assert.False(t, u.Blocked)
}

func must(r *Response, err error) *Response {
	if err != nil {
		panic(err)
	}
	return r
}

// StaffActions: managers disable and enable any mailing, users cannot; an
// owner sends their running mailing now, nobody else's.
func StaffActions(t *testing.T, e *Env) {
	ctx := context.Background()
	bob := e.Data[Bob]
	id := strconv.FormatInt(bob.Future.ID, 10)
	m, err := e.Login(Manager)
	require.NoError(t, err)
	code, msg := opJSON(t, must(m.PostForm("/admin/operation/mailing-disable", url.Values{"id": {id}})))
	require.Zero(t, code, msg)
	got, err := e.Store.GetMailing(ctx, bob.Future.ID)
	require.NoError(t, err)
	assert.False(t, got.Enabled)
	code, msg = opJSON(t, must(m.PostForm("/admin/operation/mailing-enable", url.Values{"id": {id}})))
	require.Zero(t, code, msg)
	got, err = e.Store.GetMailing(ctx, bob.Future.ID)
	require.NoError(t, err)
	assert.True(t, got.Enabled)
	assert.Equal(t, bob.Future.NextRun, got.NextRun)

	b, err := e.Login(Bob)
	require.NoError(t, err)
	r, err := b.PostForm("/admin/operation/mailing-disable", url.Values{"id": {id}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.Status, "the owner may not disable")
	r, err = m.PostForm("/admin/operation/mailing-send", url.Values{"id": {id}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, r.Status, "a manager may not send")

	a, err := e.Login(Alice)
	require.NoError(t, err)
	code, msg = statusJSON(t, must(a.PostForm("/admin/operation/mailing-send", url.Values{"id": {strconv.FormatInt(bob.Running.ID, 10)}})), http.StatusNotFound)
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, "Not found.", msg, "another user's mailing does not exist")
	code, msg = statusJSON(t, must(b.PostForm("/admin/operation/mailing-send", url.Values{"id": {id}})), http.StatusConflict)
	assert.Equal(t, http.StatusConflict, code)
	assert.Contains(t, msg, "not started")

	before := len(e.Mailer.Sent())
	code, msg = opJSON(t, must(b.PostForm("/admin/operation/mailing-send", url.Values{"id": {strconv.FormatInt(bob.Running.ID, 10)}})))
	require.Zero(t, code, msg)
	assert.Contains(t, msg, "Sending")
	// The send runs after the answer; the run was sent already, so it
	// finishes at once without sending again.
	require.Eventually(t, func() bool {
		return strings.Contains(e.Logs.String(), `"adminhost: sent now" mailing=`+strconv.FormatInt(bob.Running.ID, 10))
	},
		10*time.Second, 10*time.Millisecond)
	assert.Equal(t, before, len(e.Mailer.Sent()), "a client gets a run once")
}

// closedRoutes are GoAdmin routes the host never serves.
var closedRoutes = []struct{ method, path string }{
	{"GET", "/admin/install"}, {"POST", "/admin/install/database/check"},
	{"GET", "/admin/menu"}, {"POST", "/admin/menu/new"}, {"POST", "/admin/menu/delete"}, {"POST", "/admin/menu/edit"},
	{"POST", "/admin/menu/order"}, {"GET", "/admin/menu/edit/show"},
	{"GET", "/admin/info/manager"}, {"GET", "/admin/info/roles"}, {"GET", "/admin/info/permission"},
	{"GET", "/admin/info/op"}, {"GET", "/admin/info/menu"}, {"GET", "/admin/info/site/edit"},
	{"GET", "/admin/info/normal_manager/edit"}, {"GET", "/admin/info/generate/new"},
	{"POST", "/admin/edit/site"}, {"POST", "/admin/new/manager"}, {"POST", "/admin/update/clients"},
	{"GET", "/admin/plugins"}, {"GET", "/admin/plugins/store"}, {"POST", "/admin/plugin/download"},
	{"GET", "/admin/application/info"}, {"POST", "/admin/server/login"},
	{"GET", "/admin/api/list/clients"}, {"POST", "/admin/api/delete/clients"}, {"GET", "/admin/api/detail/clients"},
	{"POST", "/admin/operation/unknown"}, {"GET", "/admin/info/clients/../users"}, {"HEAD", "/admin/info/clients"},
}

// Security checks the holes GoAdmin leaves open are closed.
func Security(t *testing.T, e *Env) {
	ctx := context.Background()
	anon := e.NewClient("anonymous")
	super, err := e.Login(Super)
	require.NoError(t, err)
	alice, err := e.Login(Alice)
	require.NoError(t, err)

	t.Run("ClosedRoutes", func(t *testing.T) {
		for _, c := range []*Client{anon, super} {
			for _, rt := range closedRoutes {
				req, err := http.NewRequest(rt.method, e.Server.URL+rt.path, strings.NewReader(""))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r, err := c.do(req)
				require.NoError(t, err)
				assert.Equal(t, http.StatusNotFound, r.Status, "%s %s as %s", rt.method, rt.path, c.Name)
			}
		}
	})

	t.Run("RouteParameterInjection", func(t *testing.T) {
		for _, p := range []string{"/admin/info/clients?__prefix=users", "/admin/info/mailings?__prefix=clients",
			"/admin/info/clients?__prefix[]=users", "/admin/info/clients/detail?__goadmin_detail_pk=1&__prefix=messages"} {
			r, err := alice.Get(p)
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, r.Status, p)
		}
		r, err := alice.PostForm("/admin/operation/mailing-send?__goadmin_op_id=user-block", url.Values{"id": {"1"}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, r.Status)
		r, err = alice.PostForm("/admin/delete/clients?id="+strconv.FormatInt(e.Data[Bob].Clients[0].ID, 10), url.Values{})
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.Status, "an id in the query of a post")
	})

	t.Run("CrossOrigin", func(t *testing.T) {
		own := e.Data[Alice].Clients[1]
		evil := e.NewClient("evil")
		evil.http.Jar = alice.http.Jar
		evil.Origin = "http://evil.example"
		r, err := evil.PostForm("/admin/delete/clients", url.Values{"id": {strconv.FormatInt(own.ID, 10)}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status)
		_, err = e.Store.GetClient(ctx, own.ID)
		assert.NoError(t, err, "nothing was deleted")
		r, err = evil.Login(e.Users[Alice].Email, Password)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status)
		r, err = evil.Get("/admin/info/clients")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, r.Status, "reading is not state-changing")
	})

	t.Run("SessionCookie", func(t *testing.T) {
		c := e.NewClient("fixated")
		u, _ := url.Parse(e.Server.URL)
		c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "go_admin_session", Value: "planted-by-attacker", Path: "/"}})
		r, err := c.Login(e.Users[Alice].Email, Password)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assertSessionCookie(t, r)
		for _, ck := range c.http.Jar.Cookies(u) {
			if ck.Name == "go_admin_session" {
				assert.NotEqual(t, "planted-by-attacker", ck.Value, "a login starts a new session")
			}
		}
	})

	t.Run("SessionExpires", func(t *testing.T) {
		c, err := e.Login(Alice)
		require.NoError(t, err)
		u, _ := url.Parse(e.Server.URL)
		var sid string
		for _, ck := range c.http.Jar.Cookies(u) {
			if ck.Name == "go_admin_session" {
				sid = ck.Value
			}
		}
		require.NotEmpty(t, sid)
		_, err = e.DB.ExecContext(ctx, "UPDATE goadmin_session SET created_at = '2000-01-01 00:00:00' WHERE sid = ?", sid)
		require.NoError(t, err)
		r, err := c.Get("/admin")
		require.NoError(t, err)
		assert.Equal(t, http.StatusFound, r.Status)
	})

	t.Run("NoOperationLog", func(t *testing.T) {
		var n int
		require.NoError(t, e.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM goadmin_operation_log").Scan(&n))
		assert.Zero(t, n, "GoAdmin's operation log stores form input, passwords included")
	})

	t.Run("CodeConfigurationWins", func(t *testing.T) {
		r, err := alice.Get("/admin")
		require.NoError(t, err)
		assert.NotContains(t, r.Body, "Hacked title")
		assert.Contains(t, r.Body, "SkyChimp Test")
		var n int
		require.NoError(t, e.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM goadmin_site WHERE `key` = 'databases'").Scan(&n))
		assert.Zero(t, n, "the database settings (a DSN with a password) are not stored")
	})

	t.Run("NothingOnStdout", func(t *testing.T) {
		rd, w, err := os.Pipe()
		require.NoError(t, err)
		old := os.Stdout
		os.Stdout = w
		func() {
			defer func() { os.Stdout = old }()
			own := strconv.FormatInt(e.Data[Alice].Clients[0].ID, 10)
			for _, p := range []string{"/admin", "/admin/info/clients", "/admin/info/clients/detail?__goadmin_detail_pk=" + own,
				"/admin/info/clients/edit?__goadmin_edit_pk=" + own, "/admin/info/mailings/new", "/admin/info/deliveries",
				"/admin/login", "/admin/info/nope"} {
				_, err := alice.Get(p)
				require.NoError(t, err)
			}
			_, err := alice.PostForm("/admin/export/clients", url.Values{"id": {own}})
			require.NoError(t, err)
			_, err = anon.Login("nobody@example.com", "wrong password")
			require.NoError(t, err)
		}()
		require.NoError(t, w.Close())
		out, err := io.ReadAll(rd)
		require.NoError(t, err)
		assert.Empty(t, string(out), "printed on stdout while serving")
	})

	t.Run("SQLFailureIsA500", func(t *testing.T) {
		// GoAdmin panics on SQL errors in its own queries (here: its menu
		// table is gone). The request gets a 500 without details, the
		// failure is logged, and the server goes on.
		_, err := e.DB.ExecContext(ctx, "ALTER TABLE goadmin_menu RENAME TO goadmin_menu_gone")
		require.NoError(t, err)
		restored := false
		restore := func() {
			if !restored {
				_, err := e.DB.ExecContext(ctx, "ALTER TABLE goadmin_menu_gone RENAME TO goadmin_menu")
				require.NoError(t, err)
				restored = true
			}
		}
		defer restore()
		for _, p := range []string{"/admin", "/admin/info/clients"} {
			r, err := alice.Get(p)
			require.NoError(t, err)
			assert.Equal(t, http.StatusInternalServerError, r.Status, "%s: %s", p, clip(r.Body[max(0, len(r.Body)-3000):]))
			assert.NotContains(t, r.Body, "goadmin_menu", p)
		}
		assert.Contains(t, e.Logs.String(), "panic while serving a request")
		restore()
		r, err := alice.Get("/admin/info/clients")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, r.Status)
	})

	t.Run("Uploads", func(t *testing.T) {
		tok, err := alice.Token("clients")
		require.NoError(t, err)
		r, err := alice.PostFile("/admin/new/clients", url.Values{"email": {"up@example.net"}, "__go_admin_t_": {tok}}, "avatar", "x.html", "<script>1</script>")
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.Status)
		r, err = alice.PostForm("/admin/new/clients", url.Values{"email": {"up@example.net"}, "__go_admin_t_": {tok}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.Status, "forms must be multipart")
	})
}

// Forms checks what people see when they save.
func Forms(t *testing.T, e *Env) {
	ctx := context.Background()
	alice, err := e.Login(Alice)
	require.NoError(t, err)
	uctx := accounts.WithUser(ctx, e.Users[Alice])

	t.Run("Escaped", func(t *testing.T) {
		c, err := e.Mailings.CreateClient(uctx, mailing.Client{Email: "xss@example.net", Name: `<script>alert("x")</script>`})
		require.NoError(t, err)
		defer func() { require.NoError(t, e.Mailings.DeleteClient(uctx, c.ID)) }()
		id := strconv.FormatInt(c.ID, 10)
		for _, p := range []string{"/admin/info/clients", "/admin/info/clients/detail?__goadmin_detail_pk=" + id,
			"/admin/info/clients/edit?__goadmin_edit_pk=" + id} {
			r, err := alice.Get(p)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.Status)
			assert.NotContains(t, r.Body, `<script>alert("x")`, p)
		}
	})

	t.Run("ValidationErrorShownWithInput", func(t *testing.T) {
		a := e.Data[Alice]
		tok, err := alice.Token("mailings")
		require.NoError(t, err)
		r, err := alice.PostMultipart("/admin/new/mailings", url.Values{
			"name": {"Typed name kept"}, "message_id": {strconv.FormatInt(a.Message.ID, 10)},
			"client_ids[]": {strconv.FormatInt(a.Clients[0].ID, 10)},
			"start":        {"2031-05-02 10:00:00"}, "end": {"2031-05-01 10:00:00"}, "period": {"daily"}, "time_zone": {"Europe/Paris"},
			"__go_admin_t_": {tok}, "__go_admin_previous_": {"/admin/info/mailings"},
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Contains(t, r.Body, "End must be after the start")
		assert.Contains(t, r.Body, "Typed name kept", "the input is shown again")
		assert.Contains(t, r.Body, "2031-05-02 10:00:00")
		ms, _, err := e.Store.ListMailings(ctx, mailing.MailingFilter{OwnerID: e.Users[Alice].ID})
		require.NoError(t, err)
		for _, m := range ms {
			assert.NotEqual(t, "Typed name kept", m.Name)
		}
	})

	t.Run("MailingTimesInItsZone", func(t *testing.T) {
		a := e.Data[Alice]
		tok, err := alice.Token("mailings")
		require.NoError(t, err)
		r, err := alice.PostMultipart("/admin/new/mailings", url.Values{
			"name": {"Tokyo mornings"}, "message_id": {strconv.FormatInt(a.Message.ID, 10)},
			"client_ids[]": {strconv.FormatInt(a.Clients[0].ID, 10), strconv.FormatInt(a.Clients[1].ID, 10)},
			"start":        {"2031-05-01 09:00:00"}, "end": {"2031-06-01 09:00:00"}, "period": {"weekly"}, "time_zone": {"Asia/Tokyo"},
			"__go_admin_t_": {tok}, "__go_admin_previous_": {"/admin/info/mailings"},
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		ms, _, err := e.Store.ListMailings(ctx, mailing.MailingFilter{OwnerID: e.Users[Alice].ID})
		require.NoError(t, err)
		var got *mailing.Mailing
		for i := range ms {
			if ms[i].Name == "Tokyo mornings" {
				got = &ms[i]
			}
		}
		require.NotNil(t, got, "created: %s", clip(r.Body))
		assert.Equal(t, time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC), got.Start, "09:00 in Tokyo")
		assert.Equal(t, []int64{a.Clients[0].ID, a.Clients[1].ID}, got.ClientIDs)
		assert.Equal(t, mailing.Weekly, got.Period)
		r, err = alice.Get("/admin/info/mailings/edit?__goadmin_edit_pk=" + strconv.FormatInt(got.ID, 10))
		require.NoError(t, err)
		assert.Contains(t, r.Body, "2031-05-01 09:00:00", "shown in its zone")
		require.NoError(t, e.Mailings.DeleteMailing(uctx, got.ID))
	})

	t.Run("DeleteOfUsedMessageExplained", func(t *testing.T) {
		r, err := alice.PostForm("/admin/delete/messages", url.Values{"id": {strconv.FormatInt(e.Data[Alice].Message.ID, 10)}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusConflict, r.Status)
		assert.Contains(t, r.Body, "used by a mailing")
	})

	t.Run("ManagerCannotEdit", func(t *testing.T) {
		m, err := e.Login(Manager)
		require.NoError(t, err)
		r, err := m.Get("/admin/info/mailings/detail?__goadmin_detail_pk=" + strconv.FormatInt(e.Data[Bob].Future.ID, 10))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Contains(t, r.Body, "BOB-MAILING-Z44")
		assert.NotContains(t, r.Body, "/admin/info/mailings/edit?", "no edit link for a manager")
	})
}

// PostFile posts a multipart form with a file said to be HTML.
func (c *Client) PostFile(path string, vals url.Values, field, name, content string) (*Response, error) {
	return c.PostFileTyped(path, vals, field, name, "text/html", []byte(content))
}

// PostFileTyped posts a multipart form with a file of the given type.
func (c *Client) PostFileTyped(path string, vals url.Values, field, name, ctype string, content []byte) (*Response, error) {
	var b bytes.Buffer
	const boundary = "XxBoundaryxX"
	for k, vs := range vals {
		for _, v := range vs {
			fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", boundary, k, v)
		}
	}
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q; filename=%q\r\nContent-Type: %s\r\n\r\n", boundary, field, name, ctype)
	b.Write(content)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	req, err := http.NewRequest(http.MethodPost, c.env.Server.URL+path, &b)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	return c.do(req)
}

// Dashboards checks each role's dashboard and menu.
func Dashboards(t *testing.T, e *Env) {
	cases := []struct {
		who       string
		shows     []string
		hides     []string
		menuItems []string
	}{
		{Alice, []string{"<p>Clients</p>", "<p>Sent</p>"}, []string{"<p>Users</p>"}, []string{"/admin/info/clients", "/admin/info/messages", "/admin/info/deliveries", "/admin/import/clients"}},
		{Manager, []string{"<p>Mailings</p>", "<p>Users</p>"}, []string{"<p>Clients</p>"}, []string{"/admin/info/mailings", "/admin/info/users"}},
		{Content, []string{"You write the blog", "<p>Posts</p>", "<p>Views</p>"}, []string{"<p>Mailings</p>", `class="bar"`}, []string{"/admin/info/posts"}},
		{Super, []string{"<p>Clients</p>", "<p>Users</p>", "<p>Posts</p>"}, nil, []string{"/admin/info/clients", "/admin/info/users", "/admin/info/posts", "/admin/import/clients"}},
	}
	for _, tc := range cases {
		c, err := e.Login(tc.who)
		require.NoError(t, err)
		r, err := c.Get("/admin")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status, tc.who)
		for _, s := range tc.shows {
			assert.Contains(t, r.Body, s, tc.who)
		}
		for _, s := range tc.hides {
			assert.NotContains(t, r.Body, s, tc.who)
		}
		for _, s := range tc.menuItems {
			assert.Regexp(t, `href=['"]`+regexp.QuoteMeta(s)+`['"]`, r.Body, "%s's menu", tc.who)
		}
		if tc.who == Content {
			assert.NotRegexp(t, `href=['"]/admin/(info/clients|info/mailings|import/clients)['"]`, r.Body)
		} else {
			assert.Equal(t, 30, strings.Count(r.Body, `<g class="bar">`), "%s: a bar per day", tc.who)
		}
		if tc.who == Alice || tc.who == Manager {
			assert.NotRegexp(t, `href=['"]/admin/info/posts['"]`, r.Body, "%s has no blog", tc.who)
		}
	}
}
