package hosttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
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
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

// pngImage returns a small valid PNG.
func pngImage(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// mediaFiles lists the files in the image directory.
func (e *Env) mediaFiles(t testing.TB) []string {
	t.Helper()
	des, err := os.ReadDir(e.MediaDir)
	require.NoError(t, err)
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// postByTitle returns the post titled title, if any.
func (e *Env) postByTitle(t testing.TB, title string) (blog.Post, bool) {
	t.Helper()
	sums, _, err := e.Posts.ListPosts(context.Background(), blog.PostFilter{})
	require.NoError(t, err)
	for _, s := range sums {
		if s.Title == title {
			p, err := e.Posts.GetPost(context.Background(), s.ID)
			require.NoError(t, err)
			return p, true
		}
	}
	return blog.Post{}, false
}

// Blog: a content manager writes posts with images in the panel; an
// image is checked before anything is stored; nobody else has a blog.
func Blog(t *testing.T, e *Env) {
	cm, err := e.Login(Content)
	require.NoError(t, err)
	newPost := func(t *testing.T, c *Client, title, file, ctype string, data []byte) *Response {
		t.Helper()
		tok, err := c.Token("posts")
		require.NoError(t, err)
		vals := url.Values{"title": {title}, "content": {"First paragraph.\n\nSecond one, see https://example.org."},
			"published": {"no"}, "published_at": {""}, "__go_admin_t_": {tok}, "__go_admin_previous_": {"/admin/info/posts"}}
		var r *Response
		if file == "" {
			r, err = c.PostMultipart("/admin/new/posts", vals)
		} else {
			r, err = c.PostFileTyped("/admin/new/posts", vals, "image", file, ctype, data)
		}
		require.NoError(t, err)
		return r
	}

	var created blog.Post
	t.Run("CreateWithImage", func(t *testing.T) {
		before := len(e.mediaFiles(t))
		r := newPost(t, cm, "Spring news", "spring.png", "image/png", pngImage(t))
		require.Equal(t, http.StatusOK, r.Status, clip(r.Body))
		p, ok := e.postByTitle(t, "Spring news")
		require.True(t, ok, "created: %s", clip(r.Body))
		created = p
		assert.Equal(t, e.Users[Content].ID, p.AuthorID)
		assert.False(t, p.Published)
		require.True(t, blog.ValidImageName(p.ImagePath), p.ImagePath)
		assert.Equal(t, "image/png", p.ImageType)
		assert.Len(t, e.mediaFiles(t), before+1)

		r, err := cm.Get("/admin/info/posts")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Contains(t, r.Body, `<img src="/media/`+p.ImagePath+`"`, "a thumbnail")
		assert.Contains(t, r.Body, "Spring news")
		assert.Contains(t, r.Body, BlogMarkers[0], "drafts are listed for editors")
		img, err := cm.Get("/media/" + p.ImagePath)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, img.Status)
		assert.Equal(t, "image/png", img.Header.Get("Content-Type"))

		r, err = cm.Get("/admin/info/posts/edit?__goadmin_edit_pk=" + strconv.FormatInt(p.ID, 10))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Contains(t, r.Body, "Spring news")
		assert.Contains(t, r.Body, `<img src="/media/`+p.ImagePath+`"`, "the current image")
	})

	t.Run("RejectedUploadLeavesNothing", func(t *testing.T) {
		before := e.mediaFiles(t)
		evil := []byte("<html><body><script>alert(document.cookie)</script></body></html>")
		r := newPost(t, cm, "Rejected upload KEEP-7 <i>x</i>", "cat.png", "image/png", evil)
		require.Equal(t, http.StatusOK, r.Status, clip(r.Body))
		assert.Contains(t, r.Body, "Image: the file is not a PNG, JPEG, GIF or WebP image", "the reason is shown")
		assert.Contains(t, r.Body, "Rejected upload KEEP-7 &lt;i&gt;x&lt;/i&gt;", "what was typed is kept, escaped")
		assert.NotContains(t, r.Body, "<i>x</i>")
		assert.Contains(t, r.Body, "Second one, see https://example.org.")
		_, ok := e.postByTitle(t, "Rejected upload KEEP-7 <i>x</i>")
		assert.False(t, ok, "a post whose image is refused is not kept")
		assert.Equal(t, before, e.mediaFiles(t), "nothing was written to the image directory")
		_, err := os.Stat("uploads")
		assert.True(t, errors.Is(err, os.ErrNotExist), "GoAdmin's own upload directory was never made: %v", err)

		// Editing: the image is checked first, so the post stays as it was.
		require.NotZero(t, created.ID)
		tok, err := cm.Token("posts")
		require.NoError(t, err)
		r, err = cm.PostFileTyped("/admin/edit/posts", url.Values{"id": {strconv.FormatInt(created.ID, 10)}, "title": {"Renamed?"},
			"content": {"x"}, "published": {"no"}, "remove_image": {"no"}, "__go_admin_t_": {tok}, "__go_admin_previous_": {"/admin/info/posts"}},
			"image", "big.gif", "image/gif", []byte("GIF89a not really"))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Contains(t, r.Body, "Please correct the form: Image: the image is 28192×29807 pixels", "a bad GIF header")
		got, err := e.Posts.GetPost(context.Background(), created.ID)
		require.NoError(t, err)
		assert.Equal(t, created.Title, got.Title)
		assert.Equal(t, created.ImagePath, got.ImagePath)
		assert.Equal(t, before, e.mediaFiles(t))

		// Only the image field may carry a file.
		tok, err = cm.Token("posts")
		require.NoError(t, err)
		r, err = cm.PostFileTyped("/admin/new/posts", url.Values{"title": {"x"}, "content": {"x"}, "__go_admin_t_": {tok}},
			"avatar", "a.png", "image/png", pngImage(t))
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.Status)
	})

	t.Run("EditRemovesImage", func(t *testing.T) {
		require.NotZero(t, created.ID)
		tok, err := cm.Token("posts")
		require.NoError(t, err)
		r, err := cm.PostMultipart("/admin/edit/posts", url.Values{"id": {strconv.FormatInt(created.ID, 10)}, "title": {"Spring news, updated"},
			"content": {"New words."}, "published": {"no"}, "published_at": {"2020-03-01 10:00:00"}, "remove_image": {"yes"},
			"__go_admin_t_": {tok}, "__go_admin_previous_": {"/admin/info/posts"}})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status, clip(r.Body))
		got, err := e.Posts.GetPost(context.Background(), created.ID)
		require.NoError(t, err)
		assert.Equal(t, "Spring news, updated", got.Title)
		assert.Equal(t, "New words.", got.Content)
		assert.Empty(t, got.ImagePath)
		assert.Equal(t, time.Date(2020, 3, 1, 10, 0, 0, 0, time.UTC), got.PublishedAt)
		assert.NotContains(t, e.mediaFiles(t), created.ImagePath, "the old file is gone")
	})

	t.Run("PublishAndUnpublish", func(t *testing.T) {
		id := strconv.FormatInt(created.ID, 10)
		code, msg := opJSON(t, must(cm.PostForm("/admin/operation/post-publish", url.Values{"id": {id}})))
		require.Zero(t, code, msg)
		assert.Contains(t, msg, "is published")
		got, err := e.Posts.GetPost(context.Background(), created.ID)
		require.NoError(t, err)
		assert.True(t, got.Published)
		list, _, err := e.Blog.ListPublished(context.Background(), blog.ListOptions{})
		require.NoError(t, err)
		assert.Condition(t, func() bool {
			for _, s := range list {
				if s.ID == created.ID {
					return true
				}
			}
			return false
		}, "the public sees it")
		code, msg = opJSON(t, must(cm.PostForm("/admin/operation/post-unpublish", url.Values{"id": {id}})))
		require.Zero(t, code, msg)
		got, err = e.Posts.GetPost(context.Background(), created.ID)
		require.NoError(t, err)
		assert.False(t, got.Published)

		code, msg = statusJSON(t, must(cm.PostForm("/admin/operation/post-publish", url.Values{"id": {"999999"}})), http.StatusNotFound)
		assert.Equal(t, http.StatusNotFound, code)
		assert.Equal(t, "Not found.", msg)
	})

	t.Run("Escaped", func(t *testing.T) {
		p, err := e.Blog.CreatePost(accounts.WithUser(context.Background(), e.Users[Content]),
			blog.Draft{Title: `<script>alert("blog")</script>`, Content: `<img src=x onerror=alert(1)>`})
		require.NoError(t, err)
		defer func() {
			require.NoError(t, e.Blog.DeletePost(accounts.WithUser(context.Background(), e.Users[Content]), p.ID))
		}()
		id := strconv.FormatInt(p.ID, 10)
		for _, path := range []string{"/admin/info/posts", "/admin/info/posts/detail?__goadmin_detail_pk=" + id,
			"/admin/info/posts/edit?__goadmin_edit_pk=" + id} {
			r, err := cm.Get(path)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.Status, path)
			assert.NotContains(t, r.Body, `<script>alert("blog")`, path)
			assert.NotContains(t, r.Body, `<img src=x`, path)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		r := newPost(t, cm, "Short-lived", "s.png", "image/png", pngImage(t))
		require.Equal(t, http.StatusOK, r.Status)
		p, ok := e.postByTitle(t, "Short-lived")
		require.True(t, ok)
		r, err := cm.PostForm("/admin/delete/posts", url.Values{"id": {strconv.FormatInt(p.ID, 10)}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, r.Status, r.Body)
		_, err = e.Posts.GetPost(context.Background(), p.ID)
		assert.ErrorIs(t, err, blog.ErrNotFound)
		assert.NotContains(t, e.mediaFiles(t), p.ImagePath, "its image is gone")
	})

	t.Run("NobodyElse", func(t *testing.T) {
		for _, who := range []string{Alice, Manager} {
			c, err := e.Login(who)
			require.NoError(t, err)
			for _, path := range []string{"/admin/info/posts", "/admin/info/posts/new"} {
				r, err := c.Get(path)
				require.NoError(t, err)
				assert.Equal(t, http.StatusNotFound, r.Status, "%s %s", who, path)
				assert.NotContains(t, r.Body, BlogMarkers[0])
			}
			r, err := c.PostForm("/admin/operation/post-publish", url.Values{"id": {strconv.FormatInt(e.Post.ID, 10)}})
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, r.Status, who)
		}
		got, err := e.Posts.GetPost(context.Background(), e.Post.ID)
		require.NoError(t, err)
		assert.False(t, got.Published)
		r, err := cm.Get("/admin/info/clients")
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, r.Status, "a content manager has no mailing data")
	})
}

var (
	pageTokenRE = regexp.MustCompile(`name="__go_admin_t_" value="([^"]+)"`)
	runRowRE    = regexp.MustCompile(`<tr class="run"><th scope="row">([^<]*)</th><td class="text-right">(\d+)</td><td class="text-right">(\d+)</td><td class="text-right">(\d+)</td><td class="text-right">(\d+)</td><td class="text-right">(\d+)</td>`)
	barTitleRE  = regexp.MustCompile(`<g class="bar"><title>([^<]*)</title>`)
)

// Reports: a user's own mailing report (counts per run in the mailing's
// zone, every client's last attempt, paging, a bar per run), staff read
// any report, another user finds none; resend to failed queues the failed
// clients again for the owner only. The dashboard shows the figures.
func Reports(t *testing.T, e *Env) {
	ctx := context.Background()
	n := caseSeq.Add(1)
	dora, err := e.Accounts.AddUser(ctx, accounts.AddInput{Email: fmt.Sprintf("dora%d@example.com", n), FullName: "Dora Tester",
		Password: Password, Role: accounts.RoleUser, Verified: true})
	require.NoError(t, err)
	e.Users["dora"] = dora
	uctx := accounts.WithUser(ctx, dora)
	in := make([]mailing.Client, 55)
	for i := range in {
		in[i] = mailing.Client{Email: fmt.Sprintf("dora%d.c%02d@example.org", n, i), Name: fmt.Sprintf("Client %02d", i)}
	}
	cs, err := e.Mailings.ImportClients(uctx, in)
	require.NoError(t, err)
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
		if i < 5 {
			e.Mailer.FailRecipient(c.Email, mailingtest.PermError(550, "5.1.1 DORA-SMTP mailbox unavailable"), -1)
		}
	}
	msg, err := e.Mailings.CreateMessage(uctx, mailing.Message{Subject: "DORA-SUBJECT", Body: "<p>Hi {{.Name}}</p>"})
	require.NoError(t, err)
	now := time.Now().UTC()
	m, err := e.Mailings.CreateMailing(uctx, mailing.Mailing{Name: "DORA-MAILING", MessageID: msg.ID, ClientIDs: ids,
		Start: now.Add(-time.Hour), End: now.AddDate(0, 0, 10), Period: mailing.Daily, TimeZone: "Asia/Tokyo"})
	require.NoError(t, err)
	_, err = e.Engine.SendNow(ctx, m.ID)
	require.NoError(t, err)
	// The dashboard counts the ledger as of its last refresh (seconds old):
	// refresh it so that the sends just made show.
	require.NoError(t, e.Figures.Refresh(ctx))
	report := fmt.Sprintf("/admin/report/%d", m.ID)

	dc, err := e.Login("dora")
	require.NoError(t, err)

	t.Run("DashboardFigures", func(t *testing.T) {
		r, err := dc.Get("/admin")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		for label, want := range map[string]int{"Clients": 55, "Mailings": 1, "Running now": 1, "Sent": 50, "Failed": 5, "Unknown": 0, "Pending": 0} {
			assert.Contains(t, r.Body, fmt.Sprintf("<h3>%d</h3><p>%s</p>", want, label), label)
		}
		titles := barTitleRE.FindAllStringSubmatch(r.Body, -1)
		require.Len(t, titles, 30, "a bar per day")
		assert.Contains(t, titles[29][1], "50 sent, 5 failed", "today's bar (UTC)")
		assert.Contains(t, r.Body, `id="sends-table"`, "the numbers as a table too")
		assert.Contains(t, r.Body, `id="figures-as-of"`, "says when the ledger was counted")
	})

	t.Run("OwnReport", func(t *testing.T) {
		r, err := dc.Get("/admin/info/mailings")
		require.NoError(t, err)
		assert.Contains(t, r.Body, `href="`+report+`"`, "each mailing links to its report")

		r, err = dc.Get(report)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		rows := runRowRE.FindAllStringSubmatch(r.Body, -1)
		require.Len(t, rows, 1, "one run")
		assert.Equal(t, []string{"50", "5", "0", "0", "55"}, rows[0][2:], "sent, failed, unknown, pending, total")
		assert.True(t, strings.HasSuffix(rows[0][1], " JST"), "in the mailing's zone: %s", rows[0][1])
		titles := barTitleRE.FindAllStringSubmatch(r.Body, -1)
		require.Len(t, titles, 1, "a bar per run")
		assert.Contains(t, titles[0][1], "50 sent, 5 failed, 0 unknown, 0 pending")
		assert.Equal(t, 50, strings.Count(r.Body, `<tr class="client">`), "a page of clients")
		assert.Contains(t, r.Body, "dora"+strconv.FormatInt(n, 10)+".c00@example.org")
		assert.Contains(t, r.Body, "5.1.1 DORA-SMTP mailbox unavailable", "the server's answer")
		assert.Contains(t, r.Body, "<td>550</td>")
		assert.Contains(t, r.Body, "Resend to failed (5)")
		assert.Contains(t, r.Body, `href="`+report+`?page=2#clients"`)

		r, err = dc.Get(report + "?page=2")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, 5, strings.Count(r.Body, `<tr class="client">`))
		assert.Contains(t, r.Body, "dora"+strconv.FormatInt(n, 10)+".c54@example.org")
		assert.Contains(t, r.Body, `href="`+report+`?page=1#clients"`)
		for _, p := range []string{"x", "0", "-1", "1e3", "2&page=3"} {
			r, err = dc.Get(report + "?page=" + p)
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadRequest, r.Status, "page=%s", p)
			assert.Contains(t, r.Body, "The page number", "page=%s", p)
		}
	})

	t.Run("OthersReports", func(t *testing.T) {
		mc, err := e.Login(Manager)
		require.NoError(t, err)
		r, err := mc.Get(report)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Contains(t, r.Body, "DORA-MAILING")
		assert.Contains(t, r.Body, dora.Email, "staff see the owner")
		assert.NotContains(t, r.Body, `class="resend"`, "no resend button for a manager")
		tok := pageTokenRE.FindStringSubmatch(must(dc.Get(report)).Body)
		require.NotNil(t, tok)
		r, err = mc.PostForm(report+"/resend", url.Values{"run_at": {"2000-01-01T00:00:00Z"}, "__go_admin_t_": {tok[1]}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status)

		sc, err := e.Login(Super)
		require.NoError(t, err)
		r, err = sc.Get(report)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Contains(t, r.Body, `class="resend"`, "a superuser may resend")

		for _, who := range []string{Alice, Content} {
			c, err := e.Login(who)
			require.NoError(t, err)
			for _, do := range []func() (*Response, error){
				func() (*Response, error) { return c.Get(report) },
				func() (*Response, error) {
					return c.PostForm(report+"/resend", url.Values{"run_at": {"2000-01-01T00:00:00Z"}, "__go_admin_t_": {"x"}})
				},
			} {
				r, err := do()
				require.NoError(t, err)
				assert.Equal(t, http.StatusNotFound, r.Status, who)
				assert.NotContains(t, r.Body, "DORA-")
			}
		}
		ds, _, err := e.Store.ListDeliveries(ctx, mailing.DeliveryFilter{MailingID: m.ID, States: []mailing.DeliveryState{mailing.DeliveryFailed}})
		require.NoError(t, err)
		assert.Len(t, ds, 5, "nothing was queued")
	})

	t.Run("ResendToFailed", func(t *testing.T) {
		page := must(dc.Get(report)).Body
		tok := pageTokenRE.FindStringSubmatch(page)
		require.NotNil(t, tok)
		runAt := regexp.MustCompile(`name="run_at" value="([^"]+)"`).FindStringSubmatch(page)
		require.NotNil(t, runAt)

		r, err := dc.PostForm(report+"/resend", url.Values{"run_at": {runAt[1]}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status, "a form token is needed")
		evil := e.NewClient("evil")
		evil.http.Jar = dc.http.Jar
		evil.Origin = "http://evil.example"
		r, err = evil.PostForm(report+"/resend", url.Values{"run_at": {runAt[1]}, "__go_admin_t_": {tok[1]}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status, "cross-origin")
		r, err = dc.PostForm(report+"/resend", url.Values{"run_at": {"yesterday"}, "__go_admin_t_": {tok[1]}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.Status)

		tok = pageTokenRE.FindStringSubmatch(must(dc.Get(report)).Body)
		r, err = dc.PostForm(report+"/resend", url.Values{"run_at": {runAt[1]}, "__go_admin_t_": {tok[1]}})
		require.NoError(t, err)
		require.Equal(t, http.StatusSeeOther, r.Status, clip(r.Body))
		assert.Equal(t, report+"#runs", r.Location)
		ds, _, err := e.Store.ListDeliveries(ctx, mailing.DeliveryFilter{MailingID: m.ID, States: []mailing.DeliveryState{mailing.DeliveryPending}})
		require.NoError(t, err)
		assert.Len(t, ds, 5, "the failed deliveries are pending again")

		r, err = dc.Get(report)
		require.NoError(t, err)
		assert.Contains(t, r.Body, "Queued 5 client(s) again; they are sent within seconds.")
		rows := runRowRE.FindAllStringSubmatch(r.Body, -1)
		require.Len(t, rows, 1)
		assert.Equal(t, []string{"50", "0", "0", "5", "55"}, rows[0][2:])
		assert.NotContains(t, r.Body, `class="resend"`, "no failures left to resend")
		r, err = dc.Get(report)
		require.NoError(t, err)
		assert.NotContains(t, r.Body, "Queued 5", "a notice is shown once")
		// The report reads the ledger; the dashboard counts it every few
		// seconds: refresh it rather than wait.
		require.NoError(t, e.Figures.Refresh(ctx))
		r, err = dc.Get("/admin")
		require.NoError(t, err)
		assert.Contains(t, r.Body, "<h3>5</h3><p>Pending</p>")

		// The scheduler's next pass tries them again; they fail again and
		// the report shows their second attempt.
		_, err = e.Engine.SendNow(ctx, m.ID)
		require.NoError(t, err)
		r, err = dc.Get(report)
		require.NoError(t, err)
		rows = runRowRE.FindAllStringSubmatch(r.Body, -1)
		require.Len(t, rows, 1)
		assert.Equal(t, []string{"50", "5", "0", "0", "55"}, rows[0][2:])
	})
}

var importErrRE = regexp.MustCompile(`<tr class="import-error"><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>`)

// ImportCSV: a user imports clients from a file; a file with bad rows is
// refused whole, every problem listed by line; only owners import.
func ImportCSV(t *testing.T, e *Env) {
	ctx := context.Background()
	alice, err := e.Login(Alice)
	require.NoError(t, err)
	count := func() int {
		_, n, err := e.Store.ListClients(ctx, mailing.ClientFilter{OwnerID: e.Users[Alice].ID, ListOptions: mailing.ListOptions{Limit: 1}})
		require.NoError(t, err)
		return n
	}
	token := func() string {
		r, err := alice.Get("/admin/import/clients")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		m := pageTokenRE.FindStringSubmatch(r.Body)
		require.NotNil(t, m)
		return m[1]
	}
	post := func(csv string) *Response {
		r, err := alice.PostFileTyped("/admin/import/clients", url.Values{"__go_admin_t_": {token()}}, "file", "clients.csv", "text/csv", []byte(csv))
		require.NoError(t, err)
		return r
	}

	t.Run("Page", func(t *testing.T) {
		r, err := alice.Get("/admin/import/clients")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Contains(t, r.Body, `enctype="multipart/form-data"`)
		assert.Contains(t, r.Body, "one client per row")
		assert.Contains(t, r.Body, "nothing is imported")
		r, err = alice.Get("/admin/info/clients")
		require.NoError(t, err)
		assert.Contains(t, r.Body, `href="/admin/import/clients"`, "the clients list links to it")
	})

	t.Run("BadRowsImportNothing", func(t *testing.T) {
		before := count()
		r := post("email,name,comment\ngood.one.x1@example.org,Good One,\nnot-an-email,Bad,\ngood.one.x1@example.org,Again,\n,Nobody,\ngood.two.x1@example.org,Good Two,\n")
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
		assert.Contains(t, r.Body, "Nothing was imported")
		errs := importErrRE.FindAllStringSubmatch(r.Body, -1)
		var lines []string
		for _, m := range errs {
			lines = append(lines, m[1])
			assert.NotEmpty(t, m[3], "a reason")
		}
		assert.Equal(t, []string{"3", "4", "5"}, lines, "every bad line, by its number")
		assert.Contains(t, r.Body, "line 2", "a repeated address names its first line")
		assert.Equal(t, before, count(), "nothing was imported")
		cs, _, err := e.Store.ListClients(ctx, mailing.ClientFilter{Search: "good.one.x1@example.org"})
		require.NoError(t, err)
		assert.Empty(t, cs)

		r = post("email,name\n" + e.Data[Alice].Clients[0].Email + ",Already\n")
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
		errs = importErrRE.FindAllStringSubmatch(r.Body, -1)
		require.Len(t, errs, 1)
		assert.Equal(t, "2", errs[0][1])
		assert.Equal(t, before, count())
	})

	t.Run("GoodFile", func(t *testing.T) {
		before := count()
		r := post("email;name\nann.x2@example.org;Ann\nben.x2@example.org;Ben\ncid.x2@example.org;Cid\n")
		require.Equal(t, http.StatusSeeOther, r.Status, clip(r.Body))
		assert.Equal(t, "/admin/import/clients", r.Location)
		assert.Equal(t, before+3, count())
		r, err := alice.Get("/admin/import/clients")
		require.NoError(t, err)
		assert.Contains(t, r.Body, "Imported 3 clients.")
		cs, _, err := e.Store.ListClients(ctx, mailing.ClientFilter{Search: "ben.x2@example.org"})
		require.NoError(t, err)
		require.Len(t, cs, 1)
		assert.Equal(t, e.Users[Alice].ID, cs[0].OwnerID)
		assert.Equal(t, "Ben", cs[0].Name)
	})

	t.Run("Refusals", func(t *testing.T) {
		before := count()
		r, err := alice.PostMultipart("/admin/import/clients", url.Values{"__go_admin_t_": {token()}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
		assert.Contains(t, r.Body, "Choose a CSV file to import.")

		r, err = alice.PostFileTyped("/admin/import/clients", url.Values{}, "file", "c.csv", "text/csv", []byte("email,name\nnotoken.x3@example.org,No Token\n"))
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status, "a form token is needed")

		r, err = alice.PostForm("/admin/import/clients", url.Values{"__go_admin_t_": {token()}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.Status, "the form must be multipart")

		big := "email\n" + strings.Repeat("a", 7<<20) + "\n"
		r, err = alice.PostFileTyped("/admin/import/clients", url.Values{"__go_admin_t_": {token()}}, "file", "big.csv", "text/csv", []byte(big))
		require.NoError(t, err)
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)

		evil := e.NewClient("evil")
		evil.http.Jar = alice.http.Jar
		evil.Origin = "http://evil.example"
		r, err = evil.PostFileTyped("/admin/import/clients", url.Values{"__go_admin_t_": {token()}}, "file", "c.csv", "text/csv", []byte("email,name\nevil.x3@example.org,Evil\n"))
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status, "cross-origin")
		assert.Equal(t, before, count())

		for _, who := range []string{Manager, Content} {
			c, err := e.Login(who)
			require.NoError(t, err)
			r, err := c.Get("/admin/import/clients")
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, r.Status, who)
		}
	})
}

// SignInLimit: ten sign-ins from one address, then one every ten seconds;
// more are answered 429 with the reason, whatever the password.
func SignInLimit(t *testing.T, e *Env) {
	c := e.NewClient("guesser")
	email := e.Users[Bob].Email
	for i := range 10 {
		r, err := c.Login(email, fmt.Sprintf("guess %d", i))
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.Status, "try %d: %s", i+1, r.Body)
	}
	r, err := c.Login(email, "guess 11")
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	_, msg := loginJSON(t, r)
	assert.Equal(t, "Too many attempts; try again in a minute", msg)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	r, err = c.Login(email, Password)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, r.Status, "even the right password")

	req, err := http.NewRequest(http.MethodPost, e.Server.URL+"/admin/signin",
		strings.NewReader(url.Values{"username": {email}, "password": {Password}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	r, err = c.do(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Contains(t, r.Body, "Too many attempts; try again in a minute")
	assert.Contains(t, r.Body, `id="sign-in-form"`, "the login page")

	other, err := e.Login(Bob)
	require.NoError(t, err, "another address signs in")
	r, err = other.Get("/admin")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, e.Logs.String(), "too many attempts from one address")
}
