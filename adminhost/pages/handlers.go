package pages

import (
	"errors"
	"html/template"
	"net/http"
	"net/mail"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/skychimp/skychimp/accounts"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	// field describes one input: name, label, type, autocomplete, hint.
	// Password inputs never show a value.
	"field": func(v *view, name, label, typ, autocomplete, hint string) fieldView {
		f := fieldView{ID: "f-" + name, Name: name, Label: label, Type: typ,
			Autocomplete: autocomplete, Hint: hint, Error: v.Errors[name]}
		if typ != "password" {
			f.Value = v.Values[name]
		}
		var by []string
		if hint != "" {
			by = append(by, f.ID+"-hint")
		}
		if f.Error != "" {
			by = append(by, f.ID+"-error")
		}
		f.DescribedBy = strings.Join(by, " ")
		return f
	},
}

// fieldView is what the "field" template shows.
type fieldView struct {
	ID, Name, Label, Type, Autocomplete, Hint, Value, Error, DescribedBy string
}

// checkAddress validates the address typed into /forgot and /verify/resend
// like the accounts Service validates a new one.
func checkAddress(email string) error {
	email = accounts.NormalizeEmail(email)
	msg := ""
	switch {
	case email == "":
		msg = "is required"
	case len(email) > accounts.MaxEmailLen:
		msg = "must be at most 254 characters long"
	default:
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email || a.Name != "" {
			msg = "is not a valid email address"
		}
	}
	if msg == "" {
		return nil
	}
	return &accounts.ValidationError{Fields: []accounts.FieldError{{Field: "email", Message: msg}}}
}

// formTitle is the summary title for a form with problems.
const formTitle = "Please correct the problems below"

// ---------------------------------------------------------------------------
// Registration

func (p *Pages) registerView(c *gin.Context) *view {
	v := p.page(c, "Create an account")
	v.Nav = "register"
	v.Values["email"] = c.PostForm("email")
	v.Values["full_name"] = c.PostForm("full_name")
	return v
}

func (p *Pages) registerForm(c *gin.Context) {
	p.render(c, http.StatusOK, "register", p.registerView(c))
}

func (p *Pages) registerRetry(c *gin.Context, s *summary, status int) {
	v := p.registerView(c)
	v.Summary = s
	p.render(c, status, "register", v)
}

func (p *Pages) register(c *gin.Context) {
	in := accounts.RegisterInput{Email: c.PostForm("email"), FullName: c.PostForm("full_name"), Password: c.PostForm("password")}
	_, err := p.d.Accounts.Register(c.Request.Context(), in)
	email := accounts.NormalizeEmail(in.Email)
	switch {
	case errors.Is(err, accounts.ErrInvalid):
		v := p.registerView(c)
		v.fail(formTitle, err, "email", "full_name", "password")
		p.render(c, http.StatusUnprocessableEntity, "register", v)
	case errors.Is(err, accounts.ErrNotify):
		// The same page whether or not the address already had an
		// account: the Service tried to send an email either way.
		p.d.Logger.ErrorContext(c.Request.Context(), "pages: registration email not sent", "err", err)
		v := p.page(c, "We could not send the email")
		v.Summary = &summary{Kind: "error", Title: "We could not send the email",
			Lines: []string{"Your details are saved, but we could not send the email to " + email + " just now."}}
		v.Paras = []string{"Ask for a new confirmation link in a few minutes. Do not register again."}
		v.Links = []link{{Href: p.url("/verify/resend"), Text: "Send a new confirmation link", Primary: true}}
		p.message(c, http.StatusServiceUnavailable, v)
	case err != nil:
		p.d.Logger.ErrorContext(c.Request.Context(), "pages: registration failed", "err", err)
		v := p.registerView(c)
		v.Summary = &summary{Kind: "error", Title: "Something went wrong on our side",
			Lines: []string{"Your account was not created. Try again in a few minutes: what you typed is kept below, except the password."}}
		p.render(c, http.StatusInternalServerError, "register", v)
	default:
		// A new account and an address that already had one get this
		// very page: the Service emails the owner in both cases.
		v := p.page(c, "Check your mailbox")
		v.Summary = &summary{Kind: "success", Title: "Check your mailbox",
			Lines: []string{"We sent a link to " + email + "; it is valid for " + humanDuration(p.d.VerifyTTL) + "."}}
		v.Paras = []string{
			"Open the link in the email to confirm your address. You can log in once your address is confirmed.",
			"Nothing after a few minutes? Look in your spam folder and check the address above, then ask for a new link. " +
				p.emailPace(),
		}
		v.Links = []link{{Href: p.url("/verify/resend"), Text: "Send a new confirmation link"}, {Href: p.d.LoginURL, Text: "Log in"}}
		p.message(c, http.StatusOK, v)
	}
}

// ---------------------------------------------------------------------------
// Email confirmation

// linkToken is the token of a link, from the query or a form.
func linkToken(c *gin.Context) string {
	if t := c.Query("token"); t != "" {
		return t
	}
	return c.PostForm("token")
}

func (p *Pages) badVerifyLink(c *gin.Context) {
	v := p.page(c, "This link does not work")
	v.Summary = &summary{Kind: "error", Title: "This link does not work",
		Lines: []string{"The confirmation link is invalid, was already used or has expired."}}
	v.Paras = []string{
		"If you already confirmed your address, just log in.",
		"Otherwise ask for a new link: it is valid for " + humanDuration(p.d.VerifyTTL) + ". Make sure you copy the whole link from the email.",
	}
	v.Links = []link{{Href: p.url("/verify/resend"), Text: "Send a new confirmation link", Primary: true}, {Href: p.d.LoginURL, Text: "Log in"}}
	p.message(c, http.StatusBadRequest, v)
}

// verifyPage answers the link in the email. It does not confirm anything:
// mail scanners open links before people do. The button does.
func (p *Pages) verifyPage(c *gin.Context) {
	p.verifyConfirm(c, nil, http.StatusOK)
}

func (p *Pages) verifyRetry(c *gin.Context, s *summary, status int) { p.verifyConfirm(c, s, status) }

func (p *Pages) verifyConfirm(c *gin.Context, s *summary, status int) {
	token := linkToken(c)
	err := p.d.Accounts.CheckToken(c.Request.Context(), accounts.TokenVerify, token)
	switch {
	case errors.Is(err, accounts.ErrTokenInvalid):
		p.badVerifyLink(c)
		return
	case err != nil:
		p.oops(c, "cannot check a confirmation link", err)
		return
	}
	v := p.page(c, "Confirm your email address")
	v.Token = token
	v.Summary = s
	p.render(c, status, "verify", v)
}

func (p *Pages) verify(c *gin.Context) {
	u, err := p.d.Accounts.Verify(c.Request.Context(), linkToken(c))
	switch {
	case errors.Is(err, accounts.ErrTokenInvalid):
		p.badVerifyLink(c)
		return
	case err != nil:
		p.oops(c, "cannot confirm an address", err)
		return
	}
	v := p.page(c, "Your address is confirmed")
	v.Summary = &summary{Kind: "success", Title: "Your address is confirmed",
		Lines: []string{"Thank you: " + u.Email + " is confirmed."}}
	v.Paras = []string{"You can now log in with this address and your password."}
	v.Links = []link{{Href: p.d.LoginURL, Text: "Log in", Primary: true}}
	p.message(c, http.StatusOK, v)
}

func (p *Pages) resendView(c *gin.Context) *view {
	v := p.page(c, "Get a new confirmation link")
	v.Values["email"] = c.PostForm("email")
	return v
}

func (p *Pages) resendForm(c *gin.Context) {
	p.render(c, http.StatusOK, "resend", p.resendView(c))
}

func (p *Pages) resendRetry(c *gin.Context, s *summary, status int) {
	v := p.resendView(c)
	v.Summary = s
	p.render(c, status, "resend", v)
}

func (p *Pages) resend(c *gin.Context) {
	email := c.PostForm("email")
	if err := checkAddress(email); err != nil {
		v := p.resendView(c)
		v.fail(formTitle, err, "email")
		p.render(c, http.StatusUnprocessableEntity, "resend", v)
		return
	}
	if err := p.d.Accounts.ResendVerification(c.Request.Context(), email); err != nil {
		p.d.Logger.ErrorContext(c.Request.Context(), "pages: cannot resend a confirmation link", "err", err)
		v := p.resendView(c)
		v.Summary = &summary{Kind: "error", Title: "Something went wrong on our side",
			Lines: []string{"No link was sent. Try again in a few minutes."}}
		p.render(c, http.StatusInternalServerError, "resend", v)
		return
	}
	email = accounts.NormalizeEmail(email)
	v := p.page(c, "Check your mailbox")
	v.Summary = &summary{Kind: "success", Title: "Check your mailbox",
		Lines: []string{"If " + email + " belongs to an account that is waiting for confirmation, we sent a new link to it; it is valid for " +
			humanDuration(p.d.VerifyTTL) + "."}}
	v.Paras = []string{
		"Open the link in the email to confirm your address. Links sent earlier keep working until they expire. " + p.emailPace(),
		"Already confirmed? Just log in. Forgot your password? Ask for a reset link.",
	}
	v.Links = []link{{Href: p.d.LoginURL, Text: "Log in"}, {Href: p.url("/forgot"), Text: "Forgot your password?"}}
	p.message(c, http.StatusOK, v)
}

// ---------------------------------------------------------------------------
// Password reset

func (p *Pages) forgotView(c *gin.Context) *view {
	v := p.page(c, "Forgot your password?")
	v.Values["email"] = c.PostForm("email")
	return v
}

func (p *Pages) forgotForm(c *gin.Context) {
	p.render(c, http.StatusOK, "forgot", p.forgotView(c))
}

func (p *Pages) forgotRetry(c *gin.Context, s *summary, status int) {
	v := p.forgotView(c)
	v.Summary = s
	p.render(c, status, "forgot", v)
}

func (p *Pages) forgot(c *gin.Context) {
	email := c.PostForm("email")
	if err := checkAddress(email); err != nil {
		v := p.forgotView(c)
		v.fail(formTitle, err, "email")
		p.render(c, http.StatusUnprocessableEntity, "forgot", v)
		return
	}
	if err := p.d.Accounts.RequestPasswordReset(c.Request.Context(), email); err != nil {
		p.d.Logger.ErrorContext(c.Request.Context(), "pages: cannot send a reset link", "err", err)
		v := p.forgotView(c)
		v.Summary = &summary{Kind: "error", Title: "Something went wrong on our side",
			Lines: []string{"No link was sent. Try again in a few minutes."}}
		p.render(c, http.StatusInternalServerError, "forgot", v)
		return
	}
	email = accounts.NormalizeEmail(email)
	v := p.page(c, "Check your mailbox")
	v.Summary = &summary{Kind: "success", Title: "Check your mailbox",
		Lines: []string{"If " + email + " belongs to an account, we sent a link to it to choose a new password; it is valid for " +
			humanDuration(p.d.ResetTTL) + "."}}
	v.Paras = []string{
		"Open the link in the email and choose a new password. Your current password keeps working until then.",
		"Nothing after a few minutes? Look in your spam folder and check that this is the address you registered with, then ask again. " +
			p.emailPace(),
	}
	v.Links = []link{{Href: p.url("/forgot"), Text: "Ask again"}, {Href: p.d.LoginURL, Text: "Log in"}}
	p.message(c, http.StatusOK, v)
}

func (p *Pages) badResetLink(c *gin.Context) {
	v := p.page(c, "This link does not work")
	v.Summary = &summary{Kind: "error", Title: "This link does not work",
		Lines: []string{"The password reset link is invalid, was already used or has expired."}}
	v.Paras = []string{"Ask for a new link: it is valid for " + humanDuration(p.d.ResetTTL) +
		". Make sure you copy the whole link from the newest email."}
	v.Links = []link{{Href: p.url("/forgot"), Text: "Send a new reset link", Primary: true}, {Href: p.d.LoginURL, Text: "Log in"}}
	p.message(c, http.StatusBadRequest, v)
}

func (p *Pages) resetForm(c *gin.Context) { p.resetShow(c, nil, nil, http.StatusOK) }

func (p *Pages) resetRetry(c *gin.Context, s *summary, status int) { p.resetShow(c, s, nil, status) }

// resetShow shows the new-password form for a good link, with s or err's
// problems on top.
func (p *Pages) resetShow(c *gin.Context, s *summary, err error, status int) {
	token := linkToken(c)
	cerr := p.d.Accounts.CheckToken(c.Request.Context(), accounts.TokenReset, token)
	switch {
	case errors.Is(cerr, accounts.ErrTokenInvalid):
		p.badResetLink(c)
		return
	case cerr != nil:
		p.oops(c, "cannot check a reset link", cerr)
		return
	}
	v := p.page(c, "Choose a new password")
	v.Token = token
	v.Summary = s
	if err != nil {
		v.fail(formTitle, err, "password")
	}
	p.render(c, status, "reset", v)
}

func (p *Pages) reset(c *gin.Context) {
	token := linkToken(c)
	u, err := p.d.Accounts.ResetPassword(c.Request.Context(), token, c.PostForm("password"))
	switch {
	case errors.Is(err, accounts.ErrTokenInvalid):
		p.badResetLink(c)
		return
	case errors.Is(err, accounts.ErrInvalid):
		p.resetShow(c, nil, err, http.StatusUnprocessableEntity)
		return
	case errors.Is(err, accounts.ErrBlocked):
		v := p.page(c, "This account is blocked")
		v.Summary = &summary{Kind: "error", Title: "This account is blocked", Lines: []string{accounts.Message(err)}}
		v.Paras = []string{"The password was not changed."}
		p.message(c, http.StatusForbidden, v)
		return
	case err != nil && u.ID == 0:
		p.oops(c, "cannot reset a password", err)
		return
	case err != nil:
		// The password is changed; only ending other sessions failed.
		p.d.Logger.ErrorContext(c.Request.Context(), "pages: password reset, but sessions not ended", "user_id", u.ID, "err", err)
	}
	v := p.page(c, "Your password is changed")
	v.Summary = &summary{Kind: "success", Title: "Your password is changed",
		Lines: []string{"You can now log in as " + u.Email + " with your new password."}}
	v.Paras = []string{"For your safety, you were logged out everywhere else: log in again on your other devices."}
	v.Links = []link{{Href: p.d.LoginURL, Text: "Log in", Primary: true}}
	p.message(c, http.StatusOK, v)
}

// ---------------------------------------------------------------------------
// Login

// LoginError returns the sentence the login page shows for an error of
// accounts.Service.Authenticate: a wrong address or password (worded
// alike, so the page never tells whether an address has an account), an
// address not confirmed yet (with the way to a new link), a blocked
// account, or a failure on our side. It is plain text (no HTML).
func LoginError(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, accounts.ErrInvalidLogin):
		return "The email address or password is wrong. Check them and try again, or choose a new password at /forgot."
	case errors.Is(err, accounts.ErrNotVerified):
		return "Confirm your email address first: open the link we emailed you (look in your spam folder too; " +
			"we send a new one at most every few minutes). Nothing arrived? Ask for another at /verify/resend."
	case errors.Is(err, accounts.ErrBlocked):
		return "This account is blocked. Contact the service's staff if you think this is a mistake."
	case errors.Is(err, accounts.ErrInvalid):
		return accounts.Message(err)
	}
	return "Something went wrong on our side. Try again in a few minutes."
}

// emailPace tells that asking again soon sends nothing (the accounts
// Service's email limits), in the same words whether or not the address
// has an account.
func (p *Pages) emailPace() string {
	return "We send one address at most one such email every " + humanDuration(p.d.EmailInterval) +
		": ask again sooner and nothing more is sent, while the link already sent keeps working."
}
