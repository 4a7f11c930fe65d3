package adminhost

import (
	"net/http"
	"net/url"
)

// The cross-origin protection around the whole handler
// (net/http.CrossOriginProtection, Deps.CrossOrigin) refuses a POST that a
// browser marks as coming from another site (Sec-Fetch-Site, or an Origin
// other than the host), but lets through a POST that carries neither
// header, taking it for a non-browser client. Under Prefix there are no
// such clients: every POST comes from the panel's own pages, and GoAdmin's
// delete, export and action endpoints carry no token of their own. So the
// guard also refuses a POST under Prefix that carries none of
// Sec-Fetch-Site, Origin and Referer, and one whose only sign, the
// Referer, names another host. Browsers send Origin with every POST (and
// Sec-Fetch-Site too, the current ones), and the panel's Referrer-Policy
// (same-origin) keeps the Referer on its own requests.

// sameOrigin reports whether a state-changing request under Prefix shows
// that it comes from a page of this host; see above.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") != "" || r.Header.Get("Origin") != "" {
		// Checked by the cross-origin protection around the handler.
		return true
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return false
	}
	u, err := url.Parse(ref)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == r.Host
}

// crossOriginRefusal is what a refused request is told.
const crossOriginRefusal = "This request did not come from a page of this site, so it was refused and nothing was changed. " +
	"Reload the page and try again."
