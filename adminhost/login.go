package adminhost

import (
	"errors"
	"html"
	htmltemplate "html/template"
	"net/http"
	"strings"

	gctx "github.com/GoAdminGroup/go-admin/context"
	"github.com/GoAdminGroup/go-admin/plugins/admin/models"
	"github.com/GoAdminGroup/go-admin/template/login"

	"github.com/skychimp/skychimp/accounts"
)

// authenticate is GoAdmin's login check (AddAuthService): the email and
// password go to accounts.Service.Authenticate; a refusal comes back as a
// sentence for the login page.
func (h *Host) authenticate(ctx *gctx.Context) (models.UserModel, bool, string) {
	r := ctx.Request
	email, password := ctx.FormValue("username"), ctx.FormValue("password")
	if strings.TrimSpace(email) == "" || password == "" {
		return models.UserModel{}, false, "Enter your email address and your password."
	}
	u, err := h.deps.Accounts.Authenticate(r.Context(), email, password)
	if err != nil {
		if !isAccountsRefusal(err) {
			h.log.ErrorContext(r.Context(), "adminhost: login failed", "err", err)
		}
		return models.UserModel{}, false, h.loginError(err)
	}
	if err := h.proj.syncUser(r.Context(), u); err != nil {
		h.log.ErrorContext(r.Context(), "adminhost: could not write the admin panel's copy of a user", "user_id", u.ID, "err", err)
		return models.UserModel{}, false, accounts.Message(errors.New("internal"))
	}
	// A login always starts a new session: drop the session the browser
	// came with (its id could have been planted), so GoAdmin mints one.
	if ck, err := r.Cookie(sessionCooky); err == nil {
		if err := h.proj.deleteSession(r.Context(), ck.Value); err != nil {
			h.log.ErrorContext(r.Context(), "adminhost: could not delete an old session", "err", err)
		}
		dropCookie(r, sessionCooky)
	}
	return models.UserModel{Id: u.ID, UserName: u.Email, Name: u.FullName}, true, ""
}

// isAccountsRefusal reports whether err is a login refused for a reason
// the person can act on (not a failure of the service).
func isAccountsRefusal(err error) bool {
	for _, e := range []error{accounts.ErrInvalidLogin, accounts.ErrNotVerified, accounts.ErrBlocked, accounts.ErrInvalid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// dropCookie removes cookie name from the request's Cookie header.
func dropCookie(r *http.Request, name string) {
	var keep []string
	for _, ck := range r.Cookies() {
		if ck.Name != name {
			keep = append(keep, ck.String())
		}
	}
	r.Header.Del("Cookie")
	if len(keep) > 0 {
		r.Header.Set("Cookie", strings.Join(keep, "; "))
	}
}

// loginPage is GoAdmin's login page with the service's words: it shows
// why a login was refused, links to registration and password reset, and
// never follows a redirect off the site.
type loginPage struct {
	*login.Login
	tmpl string
}

func newLoginPage(title string, links LoginLinks) *loginPage {
	var extra strings.Builder
	if links.Register != "" {
		extra.WriteString(`<a href="` + html.EscapeString(links.Register) + `">Create an account</a>`)
	}
	if links.Forgot != "" {
		if extra.Len() > 0 {
			extra.WriteString(" &middot; ")
		}
		extra.WriteString(`<a href="` + html.EscapeString(links.Forgot) + `">Forgot your password?</a>`)
	}
	t := strings.NewReplacer("{{TITLE_PLACEHOLDER}}", html.EscapeString(title), "{{LINKS_PLACEHOLDER}}", extra.String()).Replace(loginTemplate)
	return &loginPage{Login: login.GetLoginComponent(), tmpl: t}
}

// GetTemplate returns the page's template (GoAdmin's template.Component).
func (l *loginPage) GetTemplate() (*htmltemplate.Template, string) {
	t, err := htmltemplate.New("skychimp_login").Funcs(login.DefaultFuncMap).Parse(l.tmpl)
	if err != nil {
		panic(err) // the template is a constant: a test parses it
	}
	return t, "skychimp_login"
}

// GetContent renders the page (GoAdmin's template.Component).
func (l *loginPage) GetContent() htmltemplate.HTML {
	var b strings.Builder
	t, name := l.GetTemplate()
	_ = t.ExecuteTemplate(&b, name, l)
	return htmltemplate.HTML(b.String())
}

const loginTemplate = `{{define "skychimp_login"}}<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta http-equiv="X-UA-Compatible" content="IE=edge">
    <title>Log in · {{TITLE_PLACEHOLDER}}</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="stylesheet" href="{{link .CdnUrl .UrlPrefix "/assets/login/dist/all.min.css"}}">
</head>
<body>
<div class="container">
    <div class="row" style="margin-top: 80px;">
        <div class="col-md-4 col-md-offset-4">
            <form action="{{.UrlPrefix}}/signin" onsubmit="return submitData()" method="post" id="sign-in-form" class="fh5co-form">
                <h2>{{TITLE_PLACEHOLDER}}</h2>
                <div id="login-error" class="alert alert-danger" role="alert" style="display:none"></div>
                <div class="form-group">
                    <label for="username" class="sr-only">Email</label>
                    <input type="email" class="form-control" id="username" name="username" placeholder="Email" autocomplete="username" required>
                </div>
                <div class="form-group">
                    <label for="password" class="sr-only">Password</label>
                    <input type="password" class="form-control" id="password" name="password" placeholder="Password" autocomplete="current-password" required>
                </div>
                <div class="form-group">
                    <button type="submit" class="btn btn-primary">Log in</button>
                </div>
                <p>{{LINKS_PLACEHOLDER}}</p>
            </form>
        </div>
    </div>
</div>
<script src="{{link .CdnUrl .UrlPrefix "/assets/login/dist/all.min.js"}}"></script>
<script>
    function showError(msg) {
        $("#login-error").text(msg || "The login failed. Try again in a few minutes.").show();
    }
    function submitData() {
        $.ajax({
            dataType: 'json',
            type: 'POST',
            url: '{{.UrlPrefix}}/signin',
            data: {'username': $("#username").val(), 'password': $("#password").val()},
            success: function (data) {
                var to = data && data.data && data.data.url;
                if (typeof to !== "string" || to.charAt(0) !== "/" || to.charAt(1) === "/" || to.charAt(1) === "\\") {
                    to = "{{.UrlPrefix}}";
                }
                location.href = to;
            },
            error: function (xhr) {
                showError(xhr.responseJSON && xhr.responseJSON.msg);
            }
        });
        return false;
    }
</script>
</body>
</html>
{{end}}`

// loginErrorDiv is the login page's (hidden, empty) error box.
const loginErrorDiv = `<div id="login-error" class="alert alert-danger" role="alert" style="display:none"></div>`

// LoginLinks are the public pages the login page links to; empty ones are
// left out.
type LoginLinks struct {
	Register string // e.g. "/register"
	Forgot   string // e.g. "/forgot"
}

// loginError is the sentence the login page shows for a refused login.
func (h *Host) loginError(err error) string { return h.deps.LoginError(err) }
