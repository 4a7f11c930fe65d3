package adminhost

import (
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/GoAdminGroup/go-admin/modules/auth"
	gform "github.com/GoAdminGroup/go-admin/plugins/admin/modules/form"
	"github.com/GoAdminGroup/go-admin/template/types"
	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/mailing"
)

// Pages of the host's own, beside GoAdmin's tables: a mailing's report
// (with "Resend to failed") and the CSV import of clients. They are gin
// handlers rendered inside GoAdmin's layout (Engine.Content), behind the
// same guard as everything else: the guard classifies the route, finds
// the session's user, refuses a role that does not see the page (404) or
// may not use it (403), looks up the object the path names through the
// services (another user's mailing is 404), bounds and parses a POST's
// body and checks its one-time form token, all before the handler runs.

// Page ids.
const (
	pageReport     = "report"      // GET  /report/{mailing id}
	pageResend     = "resend"      // POST /report/{mailing id}/resend
	pageImport     = "import"      // GET  /import/clients
	pageImportPost = "import-post" // POST /import/clients
)

// pathImport is the import page's path after Prefix.
const pathImport = "/import/clients"

// reportPath returns the path of mailing id's report.
func reportPath(id int64) string { return Prefix + "/report/" + strconv.FormatInt(id, 10) }

// pageSpec is one page of the host's own.
type pageSpec struct {
	// sees are the roles for which the page exists; for others it is 404.
	sees []accounts.Role
	// acts are the roles of sees that may use it (nil: all of them); the
	// others get 403.
	acts []accounts.Role
	// lookup, when set, checks that the acting user (in ctx) may see the
	// object the path names.
	lookup func(ctx context.Context, id int64) error
	// post pages take a form: bounded, with a form token.
	post bool
	body bodyRules
	// permission is the GoAdmin permission path (a regular expression of
	// the path after the prefix) of the page, for GoAdmin's second lock.
	permission string
	handler    gin.HandlerFunc
	path       string // the gin route
	method     string
}

var (
	usersAndSuper = []accounts.Role{accounts.RoleUser, accounts.RoleSuperuser}
	mailingRoles  = []accounts.Role{accounts.RoleUser, accounts.RoleManager, accounts.RoleSuperuser}
)

// buildPages returns the host's pages by id; a page whose service is
// missing is left out (404).
func (h *Host) buildPages() map[string]*pageSpec {
	out := map[string]*pageSpec{
		pageImport: {sees: usersAndSuper, permission: pathImport,
			handler: h.importPage, path: Prefix + pathImport, method: http.MethodGet},
		pageImportPost: {sees: usersAndSuper, post: true,
			body:       bodyRules{multipart: true, limit: importBodyLimit, file: importField},
			permission: pathImport, handler: h.importPost, path: Prefix + pathImport, method: http.MethodPost},
	}
	if h.deps.Stats != nil {
		lookup := func(ctx context.Context, id int64) error {
			_, err := h.deps.Mailings.GetMailing(ctx, id)
			return err
		}
		out[pageReport] = &pageSpec{sees: mailingRoles, lookup: lookup, permission: "/report/[0-9]+",
			handler: h.reportPage, path: Prefix + "/report/:id", method: http.MethodGet}
		out[pageResend] = &pageSpec{sees: mailingRoles, acts: usersAndSuper, lookup: lookup, post: true,
			permission: "/report/[0-9]+/resend",
			handler:    h.resend, path: Prefix + "/report/:id/resend", method: http.MethodPost}
	}
	return out
}

// registerPages adds the pages' routes to r.
func (h *Host) registerPages(r gin.IRouter) {
	ids := make([]string, 0, len(h.pages))
	for id := range h.pages {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := h.pages[id]
		r.Handle(p.method, p.path, p.handler)
	}
}

// guardPage is the guard's part for a page: role, object, body, token.
func (h *Host) guardPage(c *gin.Context, st *reqState, p *pageSpec) {
	role := st.user.Role
	if !slices.Contains(p.sees, role) {
		h.answer(c, http.StatusNotFound, "")
		return
	}
	if p.acts != nil && !slices.Contains(p.acts, role) {
		h.answer(c, http.StatusForbidden, "You are not allowed to do that.")
		return
	}
	if p.lookup != nil {
		if err := p.lookup(c.Request.Context(), st.route.id); err != nil {
			h.lookupFailed(c, err, st.route.page, st.route.id)
			return
		}
	}
	if p.post {
		if status, msg := h.parseBody(c, st, p.body); status != 0 {
			h.answer(c, status, msg)
			return
		}
		if !h.checkToken(c.Request.PostForm) {
			h.answer(c, http.StatusForbidden, "The form has expired: go back, reload the page and try again.")
			return
		}
	}
	h.buffered(c, st)
}

// newToken returns a one-time form token (GoAdmin's, as its own forms
// carry).
func (h *Host) newToken() string {
	return auth.GetTokenService(h.eng.Services.Get(auth.TokenServiceKey)).AddToken()
}

// checkToken checks and uses up the form's one-time token.
func (h *Host) checkToken(form map[string][]string) bool {
	vs := form[gform.TokenKey]
	if len(vs) != 1 || vs[0] == "" || len(vs[0]) > 64 {
		return false
	}
	return auth.GetTokenService(h.eng.Services.Get(auth.TokenServiceKey)).CheckToken(vs[0])
}

// tokenField is the hidden input of a form token.
func tokenField(tok string) string {
	return fmt.Sprintf(`<input type="hidden" name="%s" value="%s">`, gform.TokenKey, html.EscapeString(tok))
}

// A flash is a one-line notice shown once, on the page a POST redirects
// to. The cookie holds a kind and a number only; the sentence is made
// here, so a planted cookie can say nothing of its own.
const flashCookie = "skychimp_flash"

// Flash kinds.
const (
	flashResent   = "resent"
	flashImported = "imported"
)

var flashRE = regexp.MustCompile(`^(resent|imported)\.([0-9]{1,9})$`)

// setFlash leaves a notice for the next page.
func (h *Host) setFlash(c *gin.Context, kind string, n int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: kind + "." + strconv.Itoa(n), Path: Prefix,
		MaxAge: 60, HttpOnly: true, Secure: h.deps.SecureCookies, SameSite: http.SameSiteStrictMode})
}

// takeFlash returns and clears the notice left for this page, if any.
func (h *Host) takeFlash(c *gin.Context) (kind string, n int, ok bool) {
	ck, err := c.Request.Cookie(flashCookie)
	if err != nil {
		return "", 0, false
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: h.deps.SecureCookies, SameSite: http.SameSiteStrictMode})
	m := flashRE.FindStringSubmatch(ck.Value)
	if m == nil {
		return "", 0, false
	}
	n, _ = strconv.Atoi(m[2])
	return m[1], n, true
}

// flashHTML renders a notice.
func flashHTML(kind string, n int) string {
	var msg string
	switch kind {
	case flashResent:
		if n == 0 {
			msg = "Nothing was queued: that run has no failed deliveries now."
		} else {
			msg = fmt.Sprintf("Queued %d client(s) again; they are sent within seconds.", n)
		}
	case flashImported:
		msg = fmt.Sprintf("Imported %d %s.", n, plural(n, "client", "clients"))
	default:
		return ""
	}
	return `<div class="alert alert-success" role="status">` + html.EscapeString(msg) + `</div>`
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// render sends a page of the panel with content; a status other than 0
// replaces 200.
func (h *Host) render(c *gin.Context, status int, title, desc string, content template.HTML) {
	if status != 0 {
		c.Status(status)
	}
	h.eng.Content(c, func(_ interface{}) (types.Panel, error) {
		return types.Panel{Title: template.HTML(html.EscapeString(title)),
			Description: template.HTML(html.EscapeString(desc)), Content: content}, nil
	})
}

// pageFailed records why a page's service call failed: a refusal becomes
// its status, anything else a logged 500. The guard answers.
func (h *Host) pageFailed(st *reqState, err error) {
	switch {
	case errors.Is(err, mailing.ErrNotFound), errors.Is(err, accounts.ErrNotFound), errors.Is(err, blog.ErrNotFound):
		st.refuse(http.StatusNotFound, "")
	case errors.Is(err, mailing.ErrForbidden), errors.Is(err, accounts.ErrForbidden), errors.Is(err, blog.ErrForbidden):
		st.refuse(http.StatusForbidden, userMessage(err))
	case errors.Is(err, accounts.ErrUnauthenticated):
		st.refuse(http.StatusUnauthorized, "")
	case isRefusal(err):
		st.refuse(http.StatusBadRequest, userMessage(err))
	default:
		st.fail(err)
	}
}
