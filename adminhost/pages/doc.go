// Package pages serves the public, server-rendered pages of the service on
// a gin engine: registration, email confirmation, "forgot password" and
// password reset, and one-click unsubscribe (RFC 8058). Logging in is the
// admin panel's own page; LoginError gives the sentences it shows.
//
// Quick start, in the host:
//
//	p, err := pages.New(pages.Deps{
//		Accounts: accountsService, Mailings: mailingService, Secret: secret,
//		LoginURL: "/admin/login", AdminURL: "/admin", SiteName: "SkyChimp",
//		Secure: true, // served over https
//	})
//	if err != nil { ... }
//	p.Register(engine) // engine is the *gin.Engine the admin panel uses too
//	srv := &http.Server{Handler: pages.CrossOrigin(engine)}
//
// The pages' forms carry a CSRF token (github.com/gorilla/csrf: a signed
// SameSite=Lax, HttpOnly cookie and a masked per-response token in a hidden
// field). CrossOrigin, wrapped around the whole engine, refuses every
// state-changing request that a browser sends from another origin
// (net/http.CrossOriginProtection), which covers the admin panel's AJAX
// endpoints too. The unsubscribe POST is exempt from both: mail providers
// post it from their servers with neither token nor cookie, and its signed
// link is the authority.
//
// The pages never tell a visitor whether an address has an account: every
// form that takes an address answers with the same page either way.
package pages
