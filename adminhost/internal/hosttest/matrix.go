package hosttest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/mailing"
)

// The attack matrix: every table of the panel x every route GoAdmin offers
// on it x every kind of visitor, each aimed at Bob's objects, with the one
// answer each must get. Besides the status, every answer to someone who
// may not see Bob's data is searched for all of Bob's markers (in the
// text of .xlsx exports too), and Bob's objects are compared with a
// snapshot at the end.

// Tables are the panel's tables.
var Tables = []string{"clients", "messages", "mailings", "deliveries", "attempts", "users", "posts"}

// Ops are the routes tried on each table.
var Ops = []string{
	"list", "list?owner_id", "list?__pk", "export ids", "export all", "detail", "edit form",
	"edit post", "single-field update", "delete", "create foreign",
}

// Roles are the visitors: Bob himself, another user, staff, and nobody.
var Roles = []string{"owner", "other", "manager", "content manager", "anonymous", "superuser"}

var roleUser = map[string]string{
	"owner": Bob, "other": Alice, "manager": Manager, "content manager": Content, "superuser": Super,
}

// Want is the answer a case must get.
type Want struct {
	Status int
	Shows  bool // the body shows Bob's object
}

func isGET(op string) bool {
	switch op {
	case "list", "list?owner_id", "list?__pk", "detail", "edit form":
		return true
	}
	return false
}

// exists reports whether table has the route of op at all (for anyone).
func exists(table, op string) bool {
	switch table {
	case "deliveries", "attempts":
		switch op {
		case "list", "list?owner_id", "list?__pk", "export ids", "export all":
			return true
		}
		return false
	case "users":
		return op == "list" || op == "list?owner_id" || op == "list?__pk"
	}
	return op != "single-field update"
}

// editor reports whether role may edit the blog.
func editor(role string) bool { return role == "content manager" || role == "superuser" }

// Expect returns the answer of op on table by role.
func Expect(table, op, role string) Want {
	if op == "single-field update" {
		return Want{Status: http.StatusNotFound} // the route is closed, for everyone
	}
	if role == "anonymous" {
		if !exists(table, op) {
			return Want{Status: http.StatusNotFound}
		}
		if isGET(op) {
			return Want{Status: http.StatusFound}
		}
		return Want{Status: http.StatusUnauthorized}
	}
	ok := Want{Status: http.StatusOK, Shows: true}
	okHidden := Want{Status: http.StatusOK}
	notFound := Want{Status: http.StatusNotFound}
	forbidden := Want{Status: http.StatusForbidden}
	switch table {
	case "posts":
		// The blog is the editors' alone; for everyone else it does not exist.
		if !editor(role) {
			return notFound
		}
		if op == "create foreign" || op == "edit post" || op == "delete" {
			return okHidden // on posts of their own making (see the checks)
		}
		return ok
	case "clients", "messages", "mailings":
		switch role {
		case "content manager":
			return notFound
		case "manager":
			if table != "mailings" {
				return notFound
			}
			switch op {
			case "edit form", "edit post", "delete", "create foreign":
				return forbidden
			}
			return ok
		case "other":
			switch op {
			case "list", "list?owner_id", "export all", "create foreign":
				return okHidden
			}
			return notFound
		}
		// owner, superuser
		if op == "create foreign" || op == "edit post" || op == "delete" {
			return okHidden // they act on objects of their own (see the checks)
		}
		return ok
	case "deliveries", "attempts":
		if role == "content manager" {
			return notFound
		}
		switch op {
		case "list", "list?owner_id", "export all":
			if role == "other" {
				return okHidden
			}
			return ok
		}
		return notFound // no per-object pages; read-only
	case "users":
		if role != "manager" && role != "superuser" {
			return notFound
		}
		if op == "list" || op == "list?owner_id" {
			return ok
		}
		return notFound
	}
	panic("unknown table " + table)
}

// shownMarker is the marker of Bob's target object on each table.
var shownMarker = map[string]string{
	"clients": "bob.client.q7@example.net", "messages": "BOB-SPARE-Z43", "mailings": "BOB-MAILING-Z44",
	"deliveries": "bob.other.q8@example.net", "attempts": "BOB-SMTP-Z46", "users": "bob@example.com",
	"posts": BlogMarkers[0],
}

// secrets returns the markers an answer about table must not hold for
// role: Bob's data for those who may not see it, the draft post for
// those who are not editors.
func secrets(table, role string, status int) []string {
	var out []string
	if role == "other" || role == "content manager" || role == "anonymous" || status >= 400 {
		out = append(out, Markers[Bob]...)
	}
	if !editor(role) || (table == "posts" && status >= 400) {
		out = append(out, BlogMarkers...)
	}
	return out
}

// snapshot is Bob's objects as stored.
type snapshot struct {
	Clients    []mailing.Client
	Messages   []mailing.Message
	Mailings   []mailing.Mailing
	Deliveries []mailing.Delivery
	Attempts   []mailing.Attempt
	User       accounts.User
	Posts      []blog.Post // every post, not only Bob's
}

func (e *Env) snapshot(ctx context.Context, owner int64, ignore map[string]map[int64]bool) (snapshot, error) {
	var s snapshot
	var err error
	if s.Clients, _, err = e.Store.ListClients(ctx, mailing.ClientFilter{OwnerID: owner}); err != nil {
		return s, err
	}
	if s.Messages, _, err = e.Store.ListMessages(ctx, mailing.MessageFilter{OwnerID: owner}); err != nil {
		return s, err
	}
	if s.Mailings, _, err = e.Store.ListMailings(ctx, mailing.MailingFilter{OwnerID: owner}); err != nil {
		return s, err
	}
	if s.Deliveries, _, err = e.Store.ListDeliveries(ctx, mailing.DeliveryFilter{OwnerID: owner}); err != nil {
		return s, err
	}
	if s.Attempts, _, err = e.Store.ListAttempts(ctx, mailing.AttemptFilter{OwnerID: owner}); err != nil {
		return s, err
	}
	if s.User, err = e.Accounts.Store().GetUser(ctx, owner); err != nil {
		return s, err
	}
	s.Clients = filter(s.Clients, func(c mailing.Client) bool { return !ignore["clients"][c.ID] })
	s.Messages = filter(s.Messages, func(m mailing.Message) bool { return !ignore["messages"][m.ID] })
	s.Mailings = filter(s.Mailings, func(m mailing.Mailing) bool { return !ignore["mailings"][m.ID] })
	s.Deliveries = filter(s.Deliveries, func(d mailing.Delivery) bool { return !ignore["mailings"][d.MailingID] })
	s.Attempts = filter(s.Attempts, func(a mailing.Attempt) bool { return !ignore["mailings"][a.MailingID] })
	sums, _, err := e.Posts.ListPosts(ctx, blog.PostFilter{})
	if err != nil {
		return s, err
	}
	for _, sum := range sums {
		if ignore["posts"][sum.ID] {
			continue
		}
		p, err := e.Posts.GetPost(ctx, sum.ID)
		if err != nil {
			return s, err
		}
		s.Posts = append(s.Posts, p)
	}
	return s, nil
}

func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// MatrixResult counts a matrix run.
type MatrixResult struct {
	Cases, Leaks, Failed int
}

var caseSeq atomic.Int64

// RunMatrix runs every table x op x role case as a subtest and returns
// the counts.
func RunMatrix(t *testing.T, e *Env) MatrixResult {
	ctx := context.Background()
	bob := e.Users[Bob]
	clients := map[string]*Client{"anonymous": e.NewClient("anonymous")}
	for role, name := range roleUser {
		c, err := e.Login(name)
		require.NoError(t, err, role)
		clients[role] = c
	}
	before, err := e.snapshot(ctx, bob.ID, nil)
	require.NoError(t, err)

	var res MatrixResult
	// Bob's objects made during the run: for the owner's own writes, and
	// by his own creates.
	scratch := map[string]map[int64]bool{"clients": {}, "messages": {}, "mailings": {}, "posts": {}}
	for _, table := range Tables {
		for _, op := range Ops {
			for _, role := range Roles {
				res.Cases++
				name := fmt.Sprintf("%s/%s/%s", table, op, role)
				ok := t.Run(name, func(t *testing.T) {
					want := Expect(table, op, role)
					res.Leaks += e.runCase(t, clients[role], clients["other"], table, op, role, want, scratch)
				})
				if !ok {
					res.Failed++
				}
			}
		}
	}

	for _, page := range Pages {
		for _, role := range Roles {
			res.Cases++
			ok := t.Run(fmt.Sprintf("page %s/%s", page, role), func(t *testing.T) {
				res.Leaks += e.runPageCase(t, clients[role], clients["other"], page, role, ExpectPage(page, role), scratch)
			})
			if !ok {
				res.Failed++
			}
		}
	}

	after, err := e.snapshot(ctx, bob.ID, scratch)
	require.NoError(t, err)
	assert.True(t, reflect.DeepEqual(before, after), "Bob's objects changed:\nbefore %+v\nafter  %+v", before, after)
	t.Logf("attack matrix on %s: %d cases (%d tables x %d routes x %d roles + %d pages x %d roles), %d failed, %d leaks",
		e.Dialect, res.Cases, len(Tables), len(Ops), len(Roles), len(Pages), len(Roles), res.Failed, res.Leaks)
	return res
}

// target returns the id of Bob's object the case aims at: his canonical
// object, or for the owner's and a superuser's writes a fresh object of his.
func (e *Env) target(t *testing.T, table, op, role string, scratch map[string]map[int64]bool) int64 {
	ctx := context.Background()
	bob := e.Data[Bob]
	write := op == "edit post" || op == "delete"
	if write && table == "posts" && Expect(table, op, role).Status == http.StatusOK {
		p, err := e.Blog.CreatePost(accounts.WithUser(ctx, e.Users[Content]),
			blog.Draft{Title: fmt.Sprintf("scratch post %d", caseSeq.Add(1)), Content: "scratch"})
		require.NoError(t, err)
		scratch["posts"][p.ID] = true
		return p.ID
	}
	if write && (role == "owner" || role == "superuser") && Expect(table, op, role).Status == http.StatusOK {
		uctx := accounts.WithUser(ctx, e.Users[Bob])
		n := caseSeq.Add(1)
		var id int64
		switch table {
		case "clients":
			c, err := e.Mailings.CreateClient(uctx, mailing.Client{Email: fmt.Sprintf("bob.scratch%d@example.net", n), Name: "Bob Scratch"})
			require.NoError(t, err)
			id = c.ID
		case "messages":
			m, err := e.Mailings.CreateMessage(uctx, mailing.Message{Subject: fmt.Sprintf("scratch %d", n), Body: "x"})
			require.NoError(t, err)
			id = m.ID
		case "mailings":
			now := time.Now().UTC()
			m, err := e.Mailings.CreateMailing(uctx, mailing.Mailing{Name: fmt.Sprintf("scratch %d", n), MessageID: bob.Message.ID,
				ClientIDs: []int64{bob.Clients[0].ID}, Start: now.AddDate(0, 1, 0), End: now.AddDate(0, 2, 0), Period: mailing.Daily})
			require.NoError(t, err)
			id = m.ID
		}
		scratch[table][id] = true
		return id
	}
	switch table {
	case "clients":
		return bob.Clients[0].ID
	case "messages":
		return bob.Spare.ID
	case "mailings":
		return bob.Future.ID
	case "deliveries":
		return bob.Delivery.ID
	case "attempts":
		return bob.Attempt.ID
	case "users":
		return e.Users[Bob].ID
	case "posts":
		return e.Post.ID
	}
	panic(table)
}

// formFields returns a valid form for table, naming bob's message and
// client for mailings, and marker in a text field.
func (e *Env) formFields(table, marker string) url.Values {
	bob := e.Data[Bob]
	now := time.Now().UTC()
	switch table {
	case "clients":
		return url.Values{"email": {marker + "@example.net"}, "name": {marker}, "comment": {"c"}}
	case "messages":
		return url.Values{"subject": {marker}, "body": {"<p>" + marker + "</p>"}}
	case "posts":
		return url.Values{"title": {marker}, "content": {"Words of " + marker}, "published": {"no"}, "published_at": {""}, "remove_image": {"no"}}
	case "mailings":
		return url.Values{"name": {marker}, "message_id": {strconv.FormatInt(bob.Message.ID, 10)},
			"client_ids[]": {strconv.FormatInt(bob.Clients[0].ID, 10)},
			"start":        {now.AddDate(0, 1, 0).Format("2006-01-02 15:04:05")}, "end": {now.AddDate(0, 3, 0).Format("2006-01-02 15:04:05")},
			"period": {"weekly"}, "time_zone": {"UTC"}}
	}
	return url.Values{"name": {marker}}
}

// runCase sends one case and checks its answer; it returns the number of
// Bob's markers found where none may be.
func (e *Env) runCase(t *testing.T, c, other *Client, table, op, role string, want Want, scratch map[string]map[int64]bool) int {
	ctx := context.Background()
	id := e.target(t, table, op, role, scratch)
	sid := strconv.FormatInt(id, 10)
	marker := fmt.Sprintf("made-%d-%s", caseSeq.Add(1), strings.ReplaceAll(role, " ", "-"))
	token := func() string {
		// Form tokens are not tied to a user in GoAdmin: a visitor without
		// forms of their own borrows the other user's.
		src := c
		if role != "owner" && role != "other" && role != "superuser" {
			src = other
		}
		tab := table
		if tab != "clients" && tab != "messages" && tab != "mailings" {
			tab = "clients"
		}
		tok, err := src.Token(tab)
		require.NoError(t, err)
		return tok
	}

	var r *Response
	var err error
	base := "/admin/info/" + table
	switch op {
	case "list":
		r, err = c.Get(base)
	case "list?owner_id":
		r, err = c.Get(base + "?owner_id=" + strconv.FormatInt(e.Users[Bob].ID, 10))
	case "list?__pk":
		r, err = c.Get(base + "?__pk=" + sid)
	case "export ids":
		r, err = c.PostForm("/admin/export/"+table, url.Values{"id": {sid}})
	case "export all":
		r, err = c.PostForm("/admin/export/"+table, url.Values{"is_all": {"true"}})
	case "detail":
		r, err = c.Get(base + "/detail?__goadmin_detail_pk=" + sid)
	case "edit form":
		r, err = c.Get(base + "/edit?__goadmin_edit_pk=" + sid)
	case "edit post":
		v := e.formFields(table, marker)
		v.Set("id", sid)
		v.Set("__go_admin_t_", token())
		v.Set("__go_admin_previous_", base)
		r, err = c.PostMultipart("/admin/edit/"+table, v)
	case "single-field update":
		r, err = c.PostForm("/admin/update/"+table, url.Values{"pk": {sid}, "name": {"email"}, "value": {"pwned@example.net"}})
	case "delete":
		r, err = c.PostForm("/admin/delete/"+table, url.Values{"id": {sid}})
	case "create foreign":
		v := e.formFields(table, marker)
		v.Set("owner_id", strconv.FormatInt(e.Users[Bob].ID, 10))
		v.Set("__go_admin_t_", token())
		v.Set("__go_admin_previous_", base)
		r, err = c.PostMultipart("/admin/new/"+table, v)
	default:
		t.Fatalf("unknown op %q", op)
	}
	require.NoError(t, err)

	assert.Equal(t, want.Status, r.Status, "answer: %s", clip(r.Body))
	if want.Status == http.StatusFound {
		assert.Equal(t, "/admin/login", r.Location)
	}
	if want.Shows && r.Status == want.Status {
		assert.Contains(t, r.Body, shownMarker[table], "Bob's object is missing from the answer")
	}
	leaks := 0
	for _, m := range secrets(table, role, r.Status) {
		if strings.Contains(r.Body, m) {
			leaks++
			t.Errorf("LEAK: %q in the answer to %s", m, role)
		}
	}

	// What the case must have done, or not done.
	bobCtx := accounts.WithUser(ctx, e.Users[Super])
	switch {
	case op == "edit post" && want.Status == http.StatusOK:
		switch table {
		case "clients":
			got, err := e.Mailings.GetClient(bobCtx, id)
			require.NoError(t, err)
			assert.Equal(t, marker, got.Name, "the owner's edit was not saved")
		case "messages":
			got, err := e.Mailings.GetMessage(bobCtx, id)
			require.NoError(t, err)
			assert.Equal(t, marker, got.Subject, "the owner's edit was not saved")
		case "mailings":
			got, err := e.Mailings.GetMailing(bobCtx, id)
			require.NoError(t, err)
			assert.Equal(t, marker, got.Name, "the owner's edit was not saved")
		case "posts":
			got, err := e.Posts.GetPost(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, marker, got.Title, "the editor's edit was not saved")
		}
	case op == "delete" && want.Status == http.StatusOK:
		var err error
		switch table {
		case "clients":
			_, err = e.Store.GetClient(ctx, id)
		case "messages":
			_, err = e.Store.GetMessage(ctx, id)
		case "mailings":
			_, err = e.Store.GetMailing(ctx, id)
		case "posts":
			_, err = e.Posts.GetPost(ctx, id)
			assert.ErrorIs(t, err, blog.ErrNotFound, "the editor's delete did not happen")
			return leaks
		}
		assert.ErrorIs(t, err, mailing.ErrNotFound, "the owner's delete did not happen")
	case op == "create foreign":
		for _, id := range e.checkCreated(t, table, role, marker, r) {
			scratch[table][id] = true
		}
	}
	return leaks
}

// checkCreated checks what a "create with a foreign owner" made: clients
// and messages belong to the poster whatever owner_id said; a mailing
// naming Bob's message and clients is refused unless Bob posted it.
func (e *Env) checkCreated(t *testing.T, table, role, marker string, r *Response) (ids []int64) {
	ctx := context.Background()
	var owners []int64
	switch table {
	case "clients":
		cs, _, err := e.Store.ListClients(ctx, mailing.ClientFilter{Search: marker})
		require.NoError(t, err)
		for _, c := range cs {
			owners, ids = append(owners, c.OwnerID), append(ids, c.ID)
		}
	case "messages":
		ms, _, err := e.Store.ListMessages(ctx, mailing.MessageFilter{})
		require.NoError(t, err)
		for _, m := range ms {
			if m.Subject == marker {
				owners, ids = append(owners, m.OwnerID), append(ids, m.ID)
			}
		}
	case "mailings":
		ms, _, err := e.Store.ListMailings(ctx, mailing.MailingFilter{})
		require.NoError(t, err)
		for _, m := range ms {
			if m.Name == marker {
				owners, ids = append(owners, m.OwnerID), append(ids, m.ID)
			}
		}
	case "posts":
		ps, _, err := e.Posts.ListPosts(ctx, blog.PostFilter{})
		require.NoError(t, err)
		for _, p := range ps {
			if p.Title == marker {
				owners, ids = append(owners, p.AuthorID), append(ids, p.ID)
			}
		}
	default:
		return nil
	}
	poster := e.Users[roleUser[role]].ID
	switch {
	case table == "posts":
		if editor(role) {
			assert.Equal(t, []int64{poster}, owners, "a post is its poster's")
		} else {
			assert.Empty(t, owners, "nothing may be created")
		}
	case role == "owner":
		assert.Equal(t, []int64{poster}, owners, "Bob's own create")
	case table == "mailings" || Expect(table, "create foreign", role).Status != http.StatusOK:
		assert.Empty(t, owners, "nothing may be created")
		if r.Status == http.StatusOK {
			assert.Contains(t, r.Body, "not found", "the refusal is shown")
		}
	default:
		assert.Equal(t, []int64{poster}, owners, "the object belongs to its poster, not to Bob")
	}
	return ids
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// Pages are the host's own pages (beside GoAdmin's tables), tried by
// every visitor on Bob's objects.
var Pages = []string{"dashboard", "report", "resend to failed", "import form", "import post"}

// ExpectPage returns the answer of page by role.
func ExpectPage(page, role string) Want {
	post := page == "resend to failed" || page == "import post"
	if role == "anonymous" {
		if post {
			return Want{Status: http.StatusUnauthorized}
		}
		return Want{Status: http.StatusFound}
	}
	notFound := Want{Status: http.StatusNotFound}
	switch page {
	case "dashboard":
		return Want{Status: http.StatusOK}
	case "report":
		switch role {
		case "owner", "manager", "superuser":
			return Want{Status: http.StatusOK, Shows: true}
		}
		return notFound
	case "resend to failed":
		switch role {
		case "owner", "superuser":
			return Want{Status: http.StatusSeeOther}
		case "manager":
			return Want{Status: http.StatusForbidden} // reads the report, may not send
		}
		return notFound
	case "import form", "import post":
		switch role {
		case "owner", "other", "superuser":
			if post {
				return Want{Status: http.StatusSeeOther}
			}
			return Want{Status: http.StatusOK}
		}
		return notFound
	}
	panic("unknown page " + page)
}

// FailedRun makes a running mailing of user who whose one client fails
// for good, sends it once, and returns it with its failed delivery.
func (e *Env) FailedRun(t testing.TB, who string) (mailing.Mailing, mailing.Delivery) {
	t.Helper()
	ctx := context.Background()
	o := e.Data[who]
	now := time.Now().UTC()
	m, err := e.Mailings.CreateMailing(accounts.WithUser(ctx, e.Users[who]), mailing.Mailing{
		Name: fmt.Sprintf("failing run %d", caseSeq.Add(1)), MessageID: o.Message.ID, ClientIDs: []int64{o.Clients[1].ID},
		Start: now.Add(-time.Hour), End: now.AddDate(0, 0, 10), Period: mailing.Daily})
	require.NoError(t, err)
	_, err = e.Engine.SendNow(ctx, m.ID)
	require.NoError(t, err)
	ds, _, err := e.Store.ListDeliveries(ctx, mailing.DeliveryFilter{MailingID: m.ID})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, mailing.DeliveryFailed, ds[0].State)
	return m, ds[0]
}

// runPageCase sends one page case and checks its answer and effect.
func (e *Env) runPageCase(t *testing.T, c, other *Client, page, role string, want Want, scratch map[string]map[int64]bool) int {
	ctx := context.Background()
	bob := e.Data[Bob]
	token := func() string {
		src := c
		if role != "owner" && role != "other" && role != "superuser" {
			src = other
		}
		tok, err := src.Token("clients")
		require.NoError(t, err)
		return tok
	}
	var r *Response
	var err error
	var delivery mailing.Delivery
	var marker string
	switch page {
	case "dashboard":
		r, err = c.Get("/admin")
	case "report":
		r, err = c.Get(fmt.Sprintf("/admin/report/%d", bob.Running.ID))
	case "resend to failed":
		// The owner and a superuser act on a failed run of their own
		// making; the others aim at Bob's running mailing.
		m := bob.Running
		delivery = bob.Delivery
		if want.Status == http.StatusSeeOther {
			m, delivery = e.FailedRun(t, Bob)
			scratch["mailings"][m.ID] = true
		}
		r, err = c.PostForm(fmt.Sprintf("/admin/report/%d/resend", m.ID), url.Values{
			"run_at": {delivery.RunAt.UTC().Format(time.RFC3339Nano)}, "__go_admin_t_": {token()}})
	case "import form":
		r, err = c.Get("/admin/import/clients")
	case "import post":
		marker = fmt.Sprintf("imported%d", caseSeq.Add(1))
		r, err = c.PostFile("/admin/import/clients", url.Values{"__go_admin_t_": {token()}}, "file", "clients.csv",
			"email,name\n"+marker+"@example.net,Imported Client\n")
	default:
		t.Fatalf("unknown page %q", page)
	}
	require.NoError(t, err)
	assert.Equal(t, want.Status, r.Status, "answer: %s", clip(r.Body))
	if want.Status == http.StatusFound {
		assert.Equal(t, "/admin/login", r.Location)
	}
	if want.Shows && r.Status == want.Status {
		for _, m := range []string{"BOB-RUNNING-Z45", "bob.other.q8@example.net", "BOB-SMTP-Z46"} {
			assert.Contains(t, r.Body, m, "the report misses Bob's data")
		}
	}
	leaks := 0
	for _, m := range secrets("", role, r.Status) {
		if strings.Contains(r.Body, m) {
			leaks++
			t.Errorf("LEAK: %q in the answer to %s", m, role)
		}
	}

	switch page {
	case "resend to failed":
		got, _, err := e.Store.ListDeliveries(ctx, mailing.DeliveryFilter{MailingID: delivery.MailingID, ClientID: delivery.ClientID})
		require.NoError(t, err)
		require.Len(t, got, 1)
		if want.Status == http.StatusSeeOther {
			assert.Equal(t, fmt.Sprintf("/admin/report/%d#runs", delivery.MailingID), r.Location)
			assert.Equal(t, mailing.DeliveryPending, got[0].State, "the failed delivery is queued again")
		} else {
			assert.Equal(t, mailing.DeliveryFailed, got[0].State, "nothing was queued")
		}
	case "import post":
		cs, _, err := e.Store.ListClients(ctx, mailing.ClientFilter{Search: marker})
		require.NoError(t, err)
		if want.Status == http.StatusSeeOther {
			require.Len(t, cs, 1, "the client was imported")
			assert.Equal(t, e.Users[roleUser[role]].ID, cs[0].OwnerID, "an imported client is the importer's")
			scratch["clients"][cs[0].ID] = true
		} else {
			assert.Empty(t, cs, "nothing was imported")
		}
	}
	return leaks
}
