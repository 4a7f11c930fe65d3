package adminhost

import (
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Logging out changes state, so it is a POST (GoAdmin's own logout is a
// GET, which any page could trigger with an image): the panel's header
// has a "Log out" form, and the POST is held to the same cross-origin rule
// as every other POST under Prefix (sameOrigin). A GET of the logout URL
// logs nobody out: it answers 405 with the same form.

// logoutPath is the logout route under Prefix.
const logoutPath = "/logout"

// logout ends the request's session, if any, and sends the browser to the
// login page (a JSON client gets {"code": 0} and the login URL instead).
func (h *Host) logout(c *gin.Context) {
	ctx := c.Request.Context()
	if ck, err := c.Request.Cookie(sessionCooky); err == nil && ck.Value != "" {
		if err := h.proj.deleteSession(ctx, ck.Value); err != nil {
			h.internal(c, fmt.Errorf("log out: %w", err))
			return
		}
	}
	h.expireCookie(c)
	login := Prefix + "/login"
	if strings.Contains(c.GetHeader("Accept"), "application/json") || c.GetHeader("X-Requested-With") != "" {
		c.AbortWithStatusJSON(http.StatusOK, gin.H{"code": 0, "msg": "You are logged out.", "data": gin.H{"url": login}})
		return
	}
	c.Redirect(http.StatusSeeOther, login)
	c.Abort()
}

// logoutForm answers a GET of the logout URL: 405, and a button that
// posts the logout.
func (h *Host) logoutForm(c *gin.Context) {
	c.Header("Allow", http.MethodPost)
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusMethodNotAllowed)
	_, _ = fmt.Fprintf(c.Writer, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Log out · %[1]s</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em">
<h1>Log out of %[1]s?</h1>
<form method="post" action="%[2]s"><button type="submit">Log out</button></form>
<p><a href="%[3]s">Back to the dashboard</a></p></body></html>`,
		html.EscapeString(h.deps.Title), Prefix+logoutPath, Prefix)
	c.Abort()
}
