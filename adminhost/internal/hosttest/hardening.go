package hosttest

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
