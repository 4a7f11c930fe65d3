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

// loginTemplate is self-contained: its style and script are inline, with
// the system's fonts, so the page asks no one else for anything (GoAdmin's
// own login assets load web fonts from a third party and start an
// animation in an element this page does not have). Its <style> and
// <script> hold no template actions and no element has a style attribute:
// the page's Content-Security-Policy allows exactly those two blocks, by
// their hashes (csp.go).
const loginTemplate = `{{define "skychimp_login"}}<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <title>Log in · {{TITLE_PLACEHOLDER}}</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="icon" href="/favicon.ico">
    <style>
        *, *::before, *::after { box-sizing: border-box; }
        body {
            margin: 0; min-height: 100vh; background: #f4f6f8; color: #222;
            font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
            font-size: 15px; line-height: 1.45;
        }
        .login-box { max-width: 360px; margin: 80px auto 24px; padding: 0 16px; }
        .fh5co-form { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 28px 28px 20px; box-shadow: 0 2px 8px rgba(0,0,0,.06); }
        h2 { margin: 0 0 20px; font-size: 24px; font-weight: 600; }
        .form-group { margin-bottom: 14px; }
        .sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0,0,0,0); border: 0; }
        .form-control { display: block; width: 100%; padding: 9px 11px; font: inherit; color: inherit; background: #fff; border: 1px solid #c5ccd3; border-radius: 4px; }
        .form-control:focus { outline: 2px solid #3c8dbc; outline-offset: 0; border-color: #3c8dbc; }
        .btn { display: inline-block; padding: 9px 18px; font: inherit; font-weight: 600; border: 0; border-radius: 4px; cursor: pointer; }
        .btn-primary { color: #fff; background: #3c8dbc; }
        .btn-primary:hover, .btn-primary:focus { background: #367fa9; }
        .btn[disabled] { opacity: .65; cursor: default; }
        .alert { padding: 10px 12px; margin-bottom: 14px; border-radius: 4px; }
        .alert-danger { color: #a94442; background: #f2dede; border: 1px solid #ebccd1; }
        p { margin: 14px 0 0; font-size: 14px; }
        a { color: #3c8dbc; }
    </style>
</head>
<body>
<div class="login-box">
    <form action="{{.UrlPrefix}}/signin" method="post" id="sign-in-form" class="fh5co-form" data-home="{{.UrlPrefix}}">
        <h2>{{TITLE_PLACEHOLDER}}</h2>
        <div id="login-error" class="alert alert-danger" role="alert" hidden></div>
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
<script>
(function () {
    var form = document.getElementById("sign-in-form");
    var box = document.getElementById("login-error");
    var button = form.querySelector("button[type=submit]");
    function showError(msg) {
        box.textContent = msg || "The login failed. Try again in a few minutes.";
        box.hidden = false;
    }
    form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = new URLSearchParams();
        body.set("username", document.getElementById("username").value);
        body.set("password", document.getElementById("password").value);
        button.disabled = true;
        fetch(form.getAttribute("action"), {
            method: "POST", body: body, credentials: "same-origin",
            headers: {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}
        }).then(function (r) {
            return r.json().then(function (d) { return {ok: r.ok, d: d}; }, function () { return {ok: false, d: null}; });
        }).then(function (res) {
            if (!res.ok) {
                button.disabled = false;
                showError(res.d && res.d.msg);
                return;
            }
            var to = res.d && res.d.data && res.d.data.url;
            if (typeof to !== "string" || to.charAt(0) !== "/" || to.charAt(1) === "/" || to.charAt(1) === "\\") {
                to = form.getAttribute("data-home") || "/";
            }
            location.href = to;
        }, function () {
            button.disabled = false;
            showError("");
        });
    });
})();
</script>
</body>
</html>
{{end}}`

// loginErrorDiv is the login page's (hidden, empty) error box.
const loginErrorDiv = `<div id="login-error" class="alert alert-danger" role="alert" hidden></div>`

// LoginLinks are the public pages the login page links to; empty ones are
// left out.
type LoginLinks struct {
	Register string // e.g. "/register"
	Forgot   string // e.g. "/forgot"
}

// loginError is the sentence the login page shows for a refused login.
func (h *Host) loginError(err error) string { return h.deps.LoginError(err) }
