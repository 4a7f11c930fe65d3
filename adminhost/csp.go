package adminhost

import (
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
)

// Content-Security-Policy of the panel's pages.
//
// The login page is ours and constant: its one <script> and one <style>
// are allowed by their SHA-256 hashes and nothing else runs or loads.
//
// GoAdmin's pages cannot do without inline script, nor without eval:
//
//   - every table, form and action is a <script> block generated per page
//     (with the page's ids, tokens and URLs in it), and many elements
//     carry style attributes. Hashes cannot cover code generated per
//     request, and a nonce would have to be stamped on every <script>
//     GoAdmin prints, so that an injected one would get it too: the policy
//     allows 'unsafe-inline' script and style;
//   - its navigation (PJAX) and its $.html() calls run each fetched page's
//     scripts through jQuery 2.1.4's globalEval, an indirect eval: without
//     'unsafe-eval' the scripts of a page opened from the menu fail with
//     an EvalError (the browser test shows it). Running
//     them as <script> elements instead (what later jQuery does) would put
//     each page's top-level let and const into the one global scope, where
//     the next page's identical declarations fail. Given 'unsafe-inline',
//     'unsafe-eval' adds little: markup that gets in can run script either
//     way.
//
// Everything else is held: scripts, styles, fonts, images and connections
// only from this origin (images also data:), no plugins, no <base>, forms
// post only here, and only this origin may frame the panel. What keeps
// markup from getting in is that every displayed value is escaped (the
// display filter in startGoAdmin). The login page, where the password is
// typed, has the strict policy above.

// loginCSP returns the policy of the login page for its template.
func loginCSP(tmpl string) string {
	return "default-src 'none'; script-src '" + blockHash(tmpl, "script") + "'; style-src '" + blockHash(tmpl, "style") +
		"'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// panelCSP returns the policy of the panel's other pages; mediaURL is
// where the blog's images are served (another origin is allowed for
// images when it names one).
func panelCSP(mediaURL string) string {
	img := "'self' data:"
	if u, err := url.Parse(mediaURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		img += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src " + img +
		"; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
}

// blockHash returns the CSP source ('sha256-...' without the quotes) of
// the first <tag> element's text in page; it panics when there is none
// (the page is a constant of the host).
func blockHash(page, tag string) string {
	_, rest, ok := strings.Cut(page, "<"+tag+">")
	body, _, ok2 := strings.Cut(rest, "</"+tag+">")
	if !ok || !ok2 {
		panic("adminhost: the login page has no <" + tag + "> block")
	}
	sum := sha256.Sum256([]byte(body))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
