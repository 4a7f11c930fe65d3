// Package e2e holds the end-to-end test of the whole program: it builds
// the skychimp binary, runs `skychimp serve --demo` in a scratch directory
// and drives the admin panel in headless Chromium over the DevTools
// protocol (chromedp), logging in as each demo role.
//
// The package's code is test support: Build and StartDemo run the real
// binary the way a person does on a fresh checkout; FindChromium locates
// the browser. Run the test with
//
//	SKYCHIMP_SCREENSHOTS=shots go test ./internal/e2e/ -v
//
// to keep the screenshots (one PNG per role and page); without the
// variable they go to the test's temporary directory. Without a Chromium
// binary on PATH the browser part is skipped and the server part still
// runs.
package e2e
