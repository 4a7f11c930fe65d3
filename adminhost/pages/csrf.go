package pages

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/csrf"
)

// CSRFField is the name of the hidden form field that carries the CSRF token.
const CSRFField = "csrf_token"

// csrfCookie is the CSRF cookie's name; over https it gets the __Host-
// prefix, which browsers accept only from a secure page for the whole host
// (no Domain, Path=/), so a sibling subdomain cannot plant one.
const csrfCookie = "skychimp_csrf"

// csrfState carries one request's gin context through the CSRF handler and
// brings back its outcome.
type csrfState struct {
	c      *gin.Context
	passed bool
	failed *http.Request // the refused request: it carries a fresh token and the reason
}

type csrfStateKey struct{}

// newCSRF returns the CSRF handler, built once: it passes a request on to
// the rest of the gin chain, or records why it refused it.
func (p *Pages) newCSRF() http.Handler {
	name := csrfCookie
	if p.d.Secure {
		name = "__Host-" + csrfCookie
	}
	state := func(r *http.Request) *csrfState { return r.Context().Value(csrfStateKey{}).(*csrfState) }
	return csrf.Protect(subkey(p.d.Secret, "csrf"),
		csrf.CookieName(name),
		csrf.FieldName(CSRFField),
		csrf.Path("/"),
		csrf.Secure(p.d.Secure),
		csrf.HttpOnly(true),
		csrf.SameSite(csrf.SameSiteLaxMode),
		csrf.ErrorHandler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			state(r).failed = r
		})),
	)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		st := state(r)
		st.passed = true
		st.c.Request = r
		st.c.Next()
	}))
}

// retryFunc renders a form again after a refused POST, with what was typed
// (never a password), the summary s and status.
type retryFunc func(c *gin.Context, s *summary, status int)

// csrf checks the CSRF token of unsafe requests and makes a token for the
// page's forms. A refused POST is answered with 403 and the same form,
// filled in again by retry, with a fresh token.
func (p *Pages) csrf(retry retryFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		st := &csrfState{c: c}
		r := c.Request
		if !p.d.Secure {
			r = csrf.PlaintextHTTPRequest(r)
		}
		p.guard.ServeHTTP(c.Writer, r.WithContext(context.WithValue(r.Context(), csrfStateKey{}, st)))
		if st.passed {
			return
		}
		c.Abort()
		if st.failed == nil { // cannot happen: gorilla/csrf either passes or reports
			p.oops(c, "CSRF check", errors.New("csrf: neither passed nor refused"))
			return
		}
		c.Request = st.failed
		p.d.Logger.InfoContext(c.Request.Context(), "pages: form refused (CSRF)",
			"path", c.Request.URL.Path, "reason", csrf.FailureReason(st.failed), "ip", c.ClientIP())
		s := &summary{Kind: "error", Title: "Please send the form again",
			Lines: []string{"We could not accept the form: it has expired, or it was not sent from this site's page. " +
				"Nothing was changed. Check the details below and send it again."}}
		if retry == nil {
			v := p.page(c, "Form refused")
			v.Summary = s
			v.Links = []link{{Href: c.Request.URL.RequestURI(), Text: "Reload the page", Primary: true}}
			p.message(c, http.StatusForbidden, v)
			return
		}
		retry(c, s, http.StatusForbidden)
	}
}

// unsubscribePattern is the RFC 8058 one-click POST, exempt from
// cross-origin checks.
const unsubscribePattern = "POST /unsubscribe/{token}"

// NewCrossOriginProtection returns the cross-origin protection CrossOrigin
// applies: unsafe requests (POST, PUT, DELETE, PATCH) that a browser sends
// from another origin are refused with 403 (Sec-Fetch-Site, or Origin
// compared with Host); requests without those headers (non-browser
// clients, such as mail providers) pass. POST /unsubscribe/{token} is
// exempt. trustedOrigins ("https://admin.example.com") may post anyway.
func NewCrossOriginProtection(trustedOrigins ...string) (*http.CrossOriginProtection, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range trustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	cop.AddInsecureBypassPattern(unsubscribePattern)
	cop.SetDenyHandler(http.HandlerFunc(crossOriginDenied))
	return cop, nil
}

// CrossOrigin wraps the host's whole handler (the gin engine, admin panel
// included) so that every state-changing request a browser sends from
// another origin is refused with 403; see NewCrossOriginProtection.
//
//	srv := &http.Server{Handler: pages.CrossOrigin(engine)}
func CrossOrigin(next http.Handler) http.Handler {
	cop, _ := NewCrossOriginProtection() // no origins: cannot fail
	return cop.Handler(next)
}

// CrossOriginMiddleware is CrossOrigin as gin middleware, for hosts that
// prefer engine.Use (install it before any route).
func CrossOriginMiddleware() gin.HandlerFunc {
	cop, _ := NewCrossOriginProtection()
	return func(c *gin.Context) {
		if err := cop.Check(c.Request); err != nil {
			crossOriginDenied(c.Writer, c.Request)
			c.Abort()
			return
		}
		c.Next()
	}
}

const crossOriginPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Request refused</title></head>
<body><h1>Request refused</h1>
<p>This request came from another website, so it was refused and nothing was changed.</p>
<p>If you clicked a button on this site, reload the page and try again.</p></body></html>
`

func crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("X-Requested-With") != "" || r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"code":403,"msg":"This request came from another website, so it was refused. Reload the page and try again."}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(crossOriginPage))
}
