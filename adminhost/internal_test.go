package adminhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gform "github.com/GoAdminGroup/go-admin/plugins/admin/modules/form"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/mailing"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		method, rest string
		want         route
		ok           bool
	}{
		{"GET", "", route{kind: kindDashboard}, true},
		{"GET", "/", route{kind: kindDashboard}, true},
		{"GET", "/login", route{kind: kindPublic}, true},
		{"POST", "/signin", route{kind: kindPublic}, true},
		{"GET", "/logout", route{kind: kindLogout}, true},
		{"POST", "/logout", route{kind: kindLogout}, true},
		{"GET", "/assets/dist/js/all.min.js", route{kind: kindPublic}, true},
		{"GET", "/info/clients", route{kind: kindTable, op: opList, prefix: "clients"}, true},
		{"GET", "/info/clients/detail", route{kind: kindTable, op: opDetail, prefix: "clients"}, true},
		{"GET", "/info/clients/edit", route{kind: kindTable, op: opEditForm, prefix: "clients"}, true},
		{"GET", "/info/clients/new", route{kind: kindTable, op: opNewForm, prefix: "clients"}, true},
		{"POST", "/edit/mailings", route{kind: kindTable, op: opEdit, prefix: "mailings"}, true},
		{"POST", "/new/mailings", route{kind: kindTable, op: opNew, prefix: "mailings"}, true},
		{"POST", "/delete/messages", route{kind: kindTable, op: opDelete, prefix: "messages"}, true},
		{"POST", "/export/deliveries", route{kind: kindTable, op: opExport, prefix: "deliveries"}, true},
		{"POST", "/operation/user-block", route{kind: kindOperation, opID: "user-block"}, true},
		{"POST", "/update/clients", route{}, false},
		{"GET", "/install", route{}, false},
		{"POST", "/install/database/check", route{}, false},
		{"GET", "/menu", route{}, false},
		{"GET", "/assets/../info/clients", route{}, false},
		{"POST", "/info/clients", route{}, false},
		{"GET", "/edit/clients", route{}, false},
		{"GET", "/info/Clients", route{}, false},
		{"GET", "/info/clients/detail/1", route{}, false},
		{"PUT", "/info/clients", route{}, false},
		{"GET", "/api/list/clients", route{}, false},
	}
	for _, c := range cases {
		got, ok := classify(c.method, c.rest)
		assert.Equal(t, c.ok, ok, "%s %s", c.method, c.rest)
		assert.Equal(t, c.want, got, "%s %s", c.method, c.rest)
	}
}

func multipartRequest(t *testing.T, target string, vals url.Values) *http.Request {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, vs := range vals {
		for _, v := range vs {
			require.NoError(t, w.WriteField(k, v))
		}
	}
	require.NoError(t, w.Close())
	r := httptest.NewRequest(http.MethodPost, target, &b)
	r.Header.Set("Content-Type", w.FormDataContentType())
	require.NoError(t, r.ParseMultipartForm(1<<20))
	return r
}

func TestRequestPKs(t *testing.T) {
	get := func(q string) *http.Request { return httptest.NewRequest(http.MethodGet, "/admin/info/clients"+q, nil) }
	post := func(form string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/admin/delete/clients", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		require.NoError(t, r.ParseForm())
		return r
	}
	cases := []struct {
		name   string
		r      *http.Request
		o      op
		ids    []int64
		status int
	}{
		{"ListWithoutPK", get(""), opList, []int64{}, 0},
		{"ListPKs", get("?__pk=3,4"), opList, []int64{3, 4}, 0},
		{"ListPKTwice", get("?__pk=3&__pk=4"), opList, nil, 404},
		{"ListBadPK", get("?__pk=3,x"), opList, nil, 404},
		{"ListNegativePK", get("?__pk=-3"), opList, nil, 404},
		{"Detail", get("?__goadmin_detail_pk=7"), opDetail, []int64{7}, 0},
		{"DetailWithPK", get("?__goadmin_detail_pk=7&__pk=8"), opDetail, []int64{8, 7}, 0},
		{"DetailMissing", get(""), opDetail, nil, 404},
		{"DetailTwice", get("?__goadmin_detail_pk=7&__goadmin_detail_pk=8"), opDetail, nil, 404},
		{"EditFormMissing", get(""), opEditForm, nil, 404},
		{"EditForm", get("?__goadmin_edit_pk=9"), opEditForm, []int64{9}, 0},
		{"Edit", multipartRequest(t, "/admin/edit/clients", url.Values{"id": {"5"}}), opEdit, []int64{5}, 0},
		{"EditTwoIDs", multipartRequest(t, "/admin/edit/clients", url.Values{"id": {"5", "6"}}), opEdit, nil, 400},
		{"EditNoID", multipartRequest(t, "/admin/edit/clients", url.Values{}), opEdit, nil, 400},
		{"Delete", post("id=1,2"), opDelete, []int64{1, 2}, 0},
		{"DeleteNone", post(""), opDelete, nil, 400},
		{"ExportAll", post("is_all=true"), opExport, []int64{}, 0},
		{"ExportIDs", post("id=4"), opExport, []int64{4}, 0},
		{"ExportTwice", post("id=4&id=5"), opExport, nil, 400},
		{"New", multipartRequest(t, "/admin/new/clients", url.Values{"id": {"5"}}), opNew, []int64{}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids, status := requestPKs(c.r, c.o)
			assert.Equal(t, c.status, status)
			if c.status == 0 {
				assert.ElementsMatch(t, c.ids, ids)
			}
		})
	}
}

func TestSafePrevious(t *testing.T) {
	cases := map[string]string{
		"/admin/info/clients":                          "/admin/info/clients",
		"/admin/info/clients?__page=2&__sort=id":       "/admin/info/clients?__page=2&__sort=id",
		"/admin/info/clients/edit?__goadmin_edit_pk=3": "/admin/info/clients/edit?__goadmin_edit_pk=3",
		"http://example.com/admin/info/clients/new":    "/admin/info/clients/new", // the request's own host
		"http://evil.example/admin/info/clients":       "/admin/info/clients",
		"//evil.example/admin/info/clients":            "/admin/info/clients",
		"javascript:alert(1)":                          "/admin/info/clients",
		`/admin/info/clients";alert(1);"`:              "/admin/info/clients",
		"/admin/info/users":                            "/admin/info/clients",
		"/admin/info/clientsX":                         "/admin/info/clients",
	}
	for in, want := range cases {
		r := multipartRequest(t, "http://example.com/admin/edit/clients", url.Values{keyPrevious: {in}})
		safePrevious(r, "clients")
		assert.Equal(t, want, r.MultipartForm.Value[keyPrevious][0], in)
	}
}

func TestSameSiteCookies(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "go_admin_session", Value: "x", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "strict", Value: "y", SameSite: http.SameSiteStrictMode})
		_, _ = w.Write([]byte("ok"))
	})
	for _, secure := range []bool{false, true} {
		rec := httptest.NewRecorder()
		sameSite(h, secure).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		cs := rec.Result().Header.Values("Set-Cookie")
		require.Len(t, cs, 2)
		assert.Contains(t, cs[0], "SameSite=Lax")
		assert.Contains(t, cs[1], "SameSite=Strict")
		assert.NotContains(t, cs[1], "SameSite=Lax")
		for _, c := range cs {
			assert.Equal(t, secure, strings.Contains(c, "; Secure"), c)
		}
	}
}

func TestRecoveryTurnsPanicsInto500(t *testing.T) {
	var logs bytes.Buffer
	h := &Host{log: slog.New(slog.NewTextHandler(&logs, nil))}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(h.recovery)
	r.GET("/admin/boom", func(*gin.Context) { panic(errors.New("sql: database is closed")) })
	r.POST("/admin/boom", func(*gin.Context) { panic("no such table: goadmin_menu") })

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/boom", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.NotContains(t, rec.Body.String(), "database is closed", "details stay in the log")
	assert.Contains(t, rec.Body.String(), "Something went wrong")

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/admin/boom", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.JSONEq(t, `{"code":500,"msg":"Something went wrong. Try again in a few minutes."}`, rec.Body.String())
	assert.Contains(t, logs.String(), "database is closed")
	assert.Contains(t, logs.String(), "no such table")
}

func TestUserMessage(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&mailing.ValidationError{Fields: []mailing.FieldError{{Field: "end", Message: "must be after the start"}, {Field: "client_ids", Message: "client 4 not found"}}},
			"Please correct the form: End must be after the start. Clients client 4 not found."},
		{fmt.Errorf("%w: message 3 is used by a mailing; delete or change the mailing first", mailing.ErrConflict),
			"Message 3 is used by a mailing; delete or change the mailing first."},
		{fmt.Errorf("%w: managers cannot create or change clients, messages or mailings", mailing.ErrForbidden),
			"You are not allowed to do that: managers cannot create or change clients, messages or mailings."},
		{fmt.Errorf("client 9: %w", mailing.ErrNotFound), "Not found."},
		{fmt.Errorf("%w: a manager cannot block or unblock a superuser", accounts.ErrForbidden),
			"You are not allowed to do that: a manager cannot block or unblock a superuser."},
		{errors.New("dial tcp: connection refused"), "Something went wrong. Try again in a few minutes."},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, userMessage(c.err))
	}
	assert.False(t, isRefusal(errors.New("dial tcp: connection refused")))
	assert.True(t, isRefusal(fmt.Errorf("x: %w", mailing.ErrNotFound)))
}

func TestMailingFromForm(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		m, err := mailingFromForm(gform.Values{"id": {"4"}, "name": {" N "}, "message_id": {"2"}, "client_ids[]": {"3", "1"},
			"start": {"2030-03-30 09:00:00"}, "end": {"2030-06-30 09:00"}, "period": {"monthly"}, "time_zone": {"America/New_York"}})
		require.NoError(t, err)
		ny, _ := time.LoadLocation("America/New_York")
		assert.Equal(t, int64(4), m.ID)
		assert.Equal(t, int64(2), m.MessageID)
		assert.Equal(t, []int64{3, 1}, m.ClientIDs)
		assert.True(t, m.Start.Equal(time.Date(2030, 3, 30, 9, 0, 0, 0, ny)))
		assert.True(t, m.End.Equal(time.Date(2030, 6, 30, 9, 0, 0, 0, ny)))
		assert.Equal(t, mailing.Monthly, m.Period)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := mailingFromForm(gform.Values{"client_ids": {"1,x"}, "start": {"tomorrow"}, "time_zone": {"Mars/Olympus"}})
		var ve *mailing.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.NotEmpty(t, ve.Field("time_zone"))
		assert.Contains(t, ve.Field("start"), `"tomorrow" is not a date and time`)
		assert.NotEmpty(t, ve.Field("client_ids"))
	})
}

func TestLoginPage(t *testing.T) {
	p := newLoginPage(`Sky <Chimp>`, LoginLinks{Register: "/register?a=1&b=2", Forgot: "/forgot"})
	tmpl, name := p.GetTemplate()
	var b bytes.Buffer
	require.NoError(t, tmpl.ExecuteTemplate(&b, name, map[string]any{"UrlPrefix": "/admin", "CdnUrl": "", "Title": "x"}))
	assert.Contains(t, b.String(), "Sky &lt;Chimp&gt;")
	assert.Contains(t, b.String(), `href="/register?a=1&amp;b=2"`)
	assert.Contains(t, b.String(), `href="/forgot"`)
	assert.Contains(t, b.String(), `/admin/signin`)
}

func TestGoadminDatabase(t *testing.T) {
	d, driver, dsn, err := goadminDatabase("sqlite:/tmp/x.db")
	require.NoError(t, err)
	assert.Equal(t, sqldb.SQLite, d)
	assert.Equal(t, "sqlite", driver)
	assert.Equal(t, sqldb.SQLiteDSN("/tmp/x.db"), dsn)

	d, driver, dsn, err = goadminDatabase("mysql:u:p@tcp(127.0.0.1:3306)/db")
	require.NoError(t, err)
	assert.Equal(t, sqldb.MySQL, d)
	assert.Equal(t, "mysql", driver)
	assert.Contains(t, dsn, "parseTime=true")

	for _, bad := range []string{"", "postgres:x", "sqlite:", "sqlite:x.db?_pragma=x", "mysql:@@@"} {
		_, _, _, err := goadminDatabase(bad)
		assert.Error(t, err, bad)
	}
}

func TestSchema(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := context.Background()
		db := sqldbtest.New(t, d)
		s := NewSchema(db, d)
		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, st.Pending)
		require.NoError(t, s.Migrate(ctx))
		require.NoError(t, s.Migrate(ctx), "again: nothing to do")
		st, err = s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.True(t, st.UpToDate())
		for _, table := range []string{"goadmin_session", "goadmin_users", "goadmin_roles", "goadmin_role_users",
			"goadmin_permissions", "goadmin_role_permissions", "goadmin_user_permissions", "goadmin_menu",
			"goadmin_role_menu", "goadmin_operation_log", "goadmin_site"} {
			var n int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n), table)
			assert.Zero(t, n, "%s: nothing is seeded (no default administrator)", table)
		}
	})
}

func TestCheckListQuery(t *testing.T) {
	for q, ok := range map[string]bool{
		"": true, "__page=1": true, "__page=1000000": true, "__pageSize=1": true, "__pageSize=100": true,
		"__sort=id&__sort_type=asc": true, "__sort_type=desc": true, "other=x": true,
		"__page=0": false, "__page=1000001": false, "__page=+1": false, "__page=01": false, "__page= 1": false,
		"__pageSize=0": false, "__pageSize=abc": false, "__pageSize=101": false, "__pageSize=": false,
		"__pageSize=10&__pageSize=10": false, "__sort=name": false, "__sort=": false, "__sort_type=ASC": false,
	} {
		v, err := url.ParseQuery(q)
		require.NoError(t, err)
		assert.Equal(t, ok, checkListQuery(v) == "", "%q: %s", q, checkListQuery(v))
	}
}

func TestSameOrigin(t *testing.T) {
	for name, tc := range map[string]struct {
		headers map[string]string
		ok      bool
	}{
		"None":              {nil, false},
		"SecFetchSite":      {map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		"Origin":            {map[string]string{"Origin": "http://panel.example"}, true},
		"Referer":           {map[string]string{"Referer": "http://panel.example/admin/info/clients"}, true},
		"RefererHTTPS":      {map[string]string{"Referer": "https://panel.example/admin"}, true},
		"RefererOtherHost":  {map[string]string{"Referer": "http://evil.example/admin"}, false},
		"RefererOtherPort":  {map[string]string{"Referer": "http://panel.example:8080/admin"}, false},
		"RefererNotHTTP":    {map[string]string{"Referer": "ftp://panel.example/admin"}, false},
		"RefererMalformed":  {map[string]string{"Referer": "http://panel.example:bad/"}, false},
		"RefererOnlyAPath":  {map[string]string{"Referer": "/admin"}, false},
		"EmptyHeadersCount": {map[string]string{"Origin": "", "Sec-Fetch-Site": ""}, false},
	} {
		r := httptest.NewRequest(http.MethodPost, "http://panel.example/admin/delete/clients", nil)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		assert.Equal(t, tc.ok, sameOrigin(r), name)
	}
}
