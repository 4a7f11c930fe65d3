package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/blog"
)

// view is what every template gets.
type view struct {
	Site, Title, Description, Nav string
	Base, LoginURL, RegisterURL   string
	Style                         template.CSS
	Narrow                        bool

	Home    *homeView
	Posts   []card
	Pager   *pager
	Post    *postView
	Message *message
}

// homeView holds the figures, formatted for people.
type homeView struct {
	Mailings, Active, Clients                string
	MailingsLabel, ActiveLabel, ClientsLabel string
}

// card is one post in a list.
type card struct {
	Title, Excerpt, URL, Image string
	Date                       time.Time
	Lazy                       bool // load the image when it scrolls into view
}

// pager links the pages of the blog; "" where there is none.
type pager struct {
	Page, Pages  int
	Newer, Older string
}

// postView is one post.
type postView struct {
	Title, Image, Views string
	Date                time.Time
	Content             template.HTML
}

// message is the body of an error page.
type message struct {
	Kind  string // "error" or "info"
	Lines []string
	Links []link
}

// link is one action offered on an error page.
type link struct {
	Href, Text string
	Primary    bool
}

func (s *Site) page(title, nav string) *view {
	return &view{
		Site: s.d.SiteName, Title: title, Nav: nav, Base: s.base,
		LoginURL: s.d.LoginURL, RegisterURL: s.d.RegisterURL, Style: template.CSS(stylesheet), //nolint:gosec // our own embedded stylesheet
	}
}

// home serves the home page.
func (s *Site) home(c *gin.Context) {
	ctx := c.Request.Context()
	fig, err := s.d.Stats.Home(ctx)
	if err != nil {
		s.unavailable(c, "the home page's figures", err)
		return
	}
	posts, err := s.d.Blog.RandomPublished(ctx, HomePosts)
	if err != nil {
		s.unavailable(c, "the home page's posts", err)
		return
	}
	v := s.page("", "home")
	v.Description = s.d.SiteName + " sends your email mailings on schedule: daily, weekly or monthly, with a report of every delivery."
	v.Home = &homeView{
		Mailings: number(fig.Mailings), MailingsLabel: plural(fig.Mailings, "mailing created", "mailings created"),
		Active: number(fig.Active), ActiveLabel: plural(fig.Active, "mailing running now", "mailings running now"),
		Clients: number(fig.UniqueClients), ClientsLabel: plural(fig.UniqueClients, "unique client reached", "unique clients reached"),
	}
	v.Posts = s.cards(posts, false) // near the top: load at once
	s.render(c, http.StatusOK, "home", v)
}

// blogList serves a page of the blog.
func (s *Site) blogList(c *gin.Context) {
	page := 1
	if q, ok := c.GetQuery("page"); ok {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > maxPage {
			s.notFound(c, "Page not found", "There is no such page of the blog.")
			return
		}
		page = n
	}
	size := s.d.PageSize
	posts, total, err := s.d.Blog.ListPublished(c.Request.Context(), blog.ListOptions{Limit: size, Offset: (page - 1) * size})
	if err != nil {
		s.unavailable(c, "the blog's posts", err)
		return
	}
	if len(posts) == 0 && page > 1 {
		s.notFound(c, "Page not found", fmt.Sprintf("The blog has no page %d.", page))
		return
	}
	v := s.page("Blog", "blog")
	v.Description = "News, tips and stories from the " + s.d.SiteName + " team."
	if page > 1 {
		v.Title = fmt.Sprintf("Blog, page %d", page)
	}
	v.Posts = s.cards(posts, true)
	if pages := (total + size - 1) / size; pages > 1 {
		v.Pager = &pager{Page: page, Pages: pages}
		if page > 1 {
			v.Pager.Newer = s.listURL(page - 1)
		}
		if page < pages {
			v.Pager.Older = s.listURL(page + 1)
		}
	}
	s.render(c, http.StatusOK, "blog", v)
}

func (s *Site) listURL(page int) string {
	if page <= 1 {
		return s.base + "/blog"
	}
	return s.base + "/blog?page=" + strconv.Itoa(page)
}

func (s *Site) postURL(slug string) string {
	return s.base + "/blog/" + url.PathEscape(slug)
}

// post serves one post; a GET counts a view, a HEAD does not.
func (s *Site) post(c *gin.Context) {
	slug := c.Param("slug")
	if canon := strings.ToLower(strings.TrimSpace(slug)); canon != slug && canon != "" {
		// One address per post: slugs are lower case.
		c.Redirect(http.StatusMovedPermanently, s.postURL(canon))
		c.Abort()
		return
	}
	ctx := c.Request.Context()
	var p blog.Post
	var err error
	if c.Request.Method == http.MethodHead {
		p, err = s.d.Blog.PublishedPost(ctx, slug)
	} else {
		p, err = s.d.Blog.ViewPost(ctx, slug)
	}
	switch {
	case errors.Is(err, blog.ErrNotFound):
		s.notFound(c, "Post not found", "There is no post at this address. It may have been moved or taken down.")
		return
	case err != nil:
		s.unavailable(c, "a post", err)
		return
	}
	v := s.page(p.Title, "blog")
	v.Narrow = true
	v.Description = blog.Excerpt(p.Content)
	v.Post = &postView{
		Title: p.Title, Date: p.PublishedAt, Content: p.HTML(), Image: s.imageURL(p.ImagePath),
		Views: number(int(p.Views)) + plural(int(p.Views), " view", " views"),
	}
	s.render(c, http.StatusOK, "post", v)
}

// cards turns summaries into the cards of a list; lazy: beyond the
// first two, images load as they scroll into view.
func (s *Site) cards(list []blog.Summary, lazy bool) []card {
	out := make([]card, len(list))
	for i, p := range list {
		out[i] = card{Title: p.Title, Excerpt: p.Excerpt, URL: s.postURL(p.Slug), Image: s.imageURL(p.ImagePath), Date: p.PublishedAt, Lazy: lazy && i >= 2}
	}
	return out
}

// imageURL is where a stored image is served, "" for none (or a name
// blog.Images never gives).
func (s *Site) imageURL(name string) string {
	if !blog.ValidImageName(name) {
		return ""
	}
	return s.d.MediaURL + name
}

// notFound renders the 404 page.
func (s *Site) notFound(c *gin.Context, title, line string) {
	v := s.page(title, "")
	v.Narrow = true
	v.Message = &message{Kind: "info", Lines: []string{line}, Links: []link{
		{Href: s.base + "/blog", Text: "See all posts", Primary: true},
		{Href: s.base + "/", Text: "Go to the home page"},
	}}
	s.render(c, http.StatusNotFound, "message", v)
}

// unavailable logs err and renders the "try again" page (503): the data
// behind the page could not be read.
func (s *Site) unavailable(c *gin.Context, what string, err error) {
	ctx := c.Request.Context()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// The visitor left; nobody reads the answer.
		s.d.Logger.InfoContext(ctx, "site: request ended before "+what+" were read", "path", c.Request.URL.Path, "err", err)
	} else {
		s.d.Logger.ErrorContext(ctx, "site: cannot read "+what, "path", c.Request.URL.Path, "err", err)
	}
	v := s.page("Please try again", "")
	v.Narrow = true
	v.Message = &message{Kind: "error", Lines: []string{
		"We could not load this page just now. Nothing is lost: try again in a minute.",
	}, Links: []link{
		{Href: c.Request.URL.RequestURI(), Text: "Try again", Primary: true},
		{Href: s.base + "/", Text: "Go to the home page"},
	}}
	c.Header("Retry-After", "60")
	c.Header("Cache-Control", "no-store")
	s.render(c, http.StatusServiceUnavailable, "message", v)
}

// render writes template name with v and status. The page is built in
// memory first, so a template error never sends half a page; a HEAD gets
// the headers only.
func (s *Site) render(c *gin.Context, status int, name string, v *view) {
	defer c.Abort()
	var buf bytes.Buffer
	t, ok := s.tmpl[name]
	err := fmt.Errorf("no template %q", name)
	if ok {
		err = t.ExecuteTemplate(&buf, "layout.html", v)
	}
	w := c.Writer
	if err != nil {
		s.d.Logger.ErrorContext(c.Request.Context(), "site: cannot render a page", "page", name, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Something went wrong on our side. Try again in a few minutes.\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if c.Request.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// number writes n with thousands separators: 12,345.
func number(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
