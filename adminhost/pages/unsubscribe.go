package pages

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/mailing"
)

// UnsubscribeURL returns the engine's mailing.EngineConfig.UnsubscribeURL
// for pages served at base ("https://mail.example.com"): a link to
// base/unsubscribe/TOKEN, signed with secret (the same Deps.Secret).
func UnsubscribeURL(base string, secret []byte) func(mailing.Delivery) string {
	base = strings.TrimRight(base, "/")
	return func(d mailing.Delivery) string {
		return base + "/unsubscribe/" + mailing.UnsubscribeToken(secret, d)
	}
}

func (p *Pages) badUnsubscribeLink(c *gin.Context) {
	v := p.page(c, "This link does not work")
	v.Summary = &summary{Kind: "error", Title: "This link does not work",
		Lines: []string{"The unsubscribe link is invalid or incomplete."}}
	v.Paras = []string{"Copy the whole link from the email, or use the unsubscribe link of a newer email from the same mailing."}
	p.message(c, http.StatusBadRequest, v)
}

// unsubscribePage asks for confirmation: opening the link changes nothing
// (mail scanners open links too).
func (p *Pages) unsubscribePage(c *gin.Context) {
	token := c.Param("token")
	if _, _, err := mailing.ParseUnsubscribeToken(p.d.Secret, token); err != nil {
		p.badUnsubscribeLink(c)
		return
	}
	v := p.page(c, "Unsubscribe")
	v.Token = token
	p.render(c, http.StatusOK, "unsubscribe", v)
}

// unsubscribe takes the recipient out of the mailing. Any POST to the
// signed link does it: the page's button, or a mail provider's RFC 8058
// one-click request (body "List-Unsubscribe=One-Click", as
// multipart/form-data or urlencoded, no cookie, no CSRF token), which gets a
// short plain-text answer.
func (p *Pages) unsubscribe(c *gin.Context) {
	oneClick := c.PostForm("List-Unsubscribe") == "One-Click"
	err := p.d.Mailings.Unsubscribe(c.Request.Context(), p.d.Secret, c.Param("token"))
	switch {
	case errors.Is(err, mailing.ErrBadToken) && oneClick:
		c.String(http.StatusBadRequest, "Invalid unsubscribe link.\n")
		return
	case errors.Is(err, mailing.ErrBadToken):
		p.badUnsubscribeLink(c)
		return
	case err != nil && oneClick:
		p.d.Logger.ErrorContext(c.Request.Context(), "pages: one-click unsubscribe failed", "err", err)
		c.String(http.StatusInternalServerError, "Unsubscribe failed; try again later.\n")
		return
	case err != nil:
		p.oops(c, "unsubscribe failed", err)
		return
	case oneClick:
		c.String(http.StatusOK, "Unsubscribed.\n")
		return
	}
	v := p.page(c, "You are unsubscribed")
	v.Summary = &summary{Kind: "success", Title: "You are unsubscribed",
		Lines: []string{"You will not receive this mailing any more."}}
	v.Paras = []string{"An email that was already on its way may still arrive. You can close this page."}
	p.message(c, http.StatusOK, v)
}
