package site

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/stats"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/site.css
var stylesheet string

// styleHash is the CSP source that allows the inline stylesheet.
var styleHash = func() string {
	sum := sha256.Sum256([]byte(stylesheet))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// Deps is what the site needs from the host.
type Deps struct {
	// Blog gives the published posts and counts their views. Required.
	Blog *blog.Service
	// Stats gives the home page's figures. Required.
	Stats *stats.Service
	// SiteName is shown in the header and page titles. Default "SkyChimp".
	SiteName string
	// MediaURL is where the host serves the blog's images
	// (blog.Images.Handler), ending in "/". Default "/media/". An absolute
	// http(s) address (a CDN) is allowed by the content policy too.
	MediaURL string
	// AdminURL is the admin panel's home. Default "/admin".
	AdminURL string
	// LoginURL is the login page. Default AdminURL + "/login".
	LoginURL string
	// RegisterURL is the registration page (adminhost/pages). Default
	// "/register".
	RegisterURL string
	// PageSize is the number of posts on a page of the blog. Default 10.
	PageSize int
	// Logger receives the errors behind "try again" pages. Default
	// slog.Default().
	Logger *slog.Logger
}

// Default values of Deps.
const (
	DefaultSiteName    = "SkyChimp"
	DefaultMediaURL    = "/media/"
	DefaultAdminURL    = "/admin"
	DefaultRegisterURL = "/register"
	DefaultPageSize    = 10
	// HomePosts is the number of random posts on the home page.
	HomePosts = 3
	// maxPage bounds ?page=, so no offset overflows.
	maxPage = 1_000_000
)

// Site serves the home page and the blog. Make one with New and mount it
// with Register; it is safe for concurrent use.
type Site struct {
	d    Deps
	tmpl map[string]*template.Template
	csp  string
	base string // the router's base path, "" at the root
}

// New checks deps, fills in defaults and parses the templates.
func New(deps Deps) (*Site, error) {
	var missing []string
	if deps.Blog == nil {
		missing = append(missing, "Blog")
	}
	if deps.Stats == nil {
		missing = append(missing, "Stats")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("site: missing dependencies: %s", strings.Join(missing, ", "))
	}
	if deps.SiteName == "" {
		deps.SiteName = DefaultSiteName
	}
	if deps.MediaURL == "" {
		deps.MediaURL = DefaultMediaURL
	}
	if !strings.HasSuffix(deps.MediaURL, "/") {
		deps.MediaURL += "/"
	}
	imgSrc := "'self'"
	if u, err := url.Parse(deps.MediaURL); err != nil {
		return nil, fmt.Errorf("site: MediaURL %q: %w", deps.MediaURL, err)
	} else if u.IsAbs() || u.Host != "" {
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("site: MediaURL %q: want a path such as /media/ or an http(s) address", deps.MediaURL)
		}
		imgSrc += " " + u.Scheme + "://" + u.Host
	}
	if deps.AdminURL == "" {
		deps.AdminURL = DefaultAdminURL
	}
	if deps.LoginURL == "" {
		deps.LoginURL = strings.TrimRight(deps.AdminURL, "/") + "/login"
	}
	if deps.RegisterURL == "" {
		deps.RegisterURL = DefaultRegisterURL
	}
	if deps.PageSize <= 0 {
		deps.PageSize = DefaultPageSize
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Site{
		d: deps, tmpl: tmpl,
		csp: "default-src 'none'; style-src " + styleHash + "; img-src " + imgSrc +
			"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	}, nil
}

var funcs = template.FuncMap{}

// parseTemplates parses every page with the layout and the shared parts.
func parseTemplates() (map[string]*template.Template, error) {
	common, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		t, err := template.Must(common.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("site: %w", err)
		}
		out[name] = t
	}
	for _, want := range []string{"home", "blog", "post", "message"} {
		if out[want] == nil {
			return nil, errors.New("site: missing template " + want)
		}
	}
	return out, nil
}

// Register mounts the site on r (usually the *gin.Engine, or a group):
//
//	GET, HEAD /            the home page: figures and three random posts
//	GET, HEAD /blog        published posts, newest first (?page=N)
//	GET, HEAD /blog/:slug  one post (a GET counts a view)
//
// Nothing else: the account pages, the panel and the images are the
// host's. Call it once.
func (s *Site) Register(r gin.IRouter) {
	if b, ok := r.(interface{ BasePath() string }); ok {
		s.base = strings.TrimRight(b.BasePath(), "/")
	}
	g := r.Group("", s.headers)
	for _, route := range []struct {
		path string
		h    gin.HandlerFunc
	}{
		{"/", s.home},
		{"/blog", s.blogList},
		{"/blog/:slug", s.post},
	} {
		g.GET(route.path, route.h)
		g.HEAD(route.path, route.h)
	}
}

// headers sets what every page needs: revalidation on every visit (the
// home page changes and a visit to a post counts), no framing, no
// referrer outside the site, and a strict content policy (no scripts, the
// inline stylesheet by its hash, images from the site or MediaURL).
func (s *Site) headers(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", s.csp)
	c.Next()
}
