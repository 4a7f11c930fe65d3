package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/e2e"
)

// stepTimeout bounds each browser step (a navigation and its waits).
const stepTimeout = 30 * time.Second

// poll makes chromedp.Poll check every 50 ms (its default waits for
// animation frames, which a headless background tab may never draw).
var poll = chromedp.WithPollingInterval(50 * time.Millisecond)

// The demo's accounts, as `serve --demo` prints them.
var demoLogins = []e2e.Login{
	{Email: "admin@demo.local", Role: "Superuser"},
	{Email: "manager@demo.local", Role: "Manager"},
	{Email: "content@demo.local", Role: "Content manager"},
	{Email: "alice@demo.local", Role: "User"},
	{Email: "bob@demo.local", Role: "User"},
}

// The side menus by role (adminhost's menus): the entries' texts in page
// order, each group's children after it.
var (
	menuSuperuser = []string{"Dashboard", "Clients", "Client list", "Import CSV", "Messages", "Mailings",
		"Send log", "Deliveries", "Attempts", "Users", "Blog"}
	menuManager = []string{"Dashboard", "All mailings", "Send log", "Deliveries", "Attempts", "Users"}
	menuContent = []string{"Dashboard", "Blog"}
	menuUser    = []string{"Dashboard", "Clients", "Client list", "Import CSV", "Messages", "Mailings",
		"Send log", "Deliveries", "Attempts"}
)

// demoPostTitle is the title of one of the demo blog's posts.
const demoPostTitle = "Welcome to SkyChimp: mailings that run themselves"

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end test builds the binary, runs it and drives a browser: -short skips it")
	}
	work := t.TempDir()
	bin := e2e.Build(t, work)
	dir := filepath.Join(work, "run")
	require.NoError(t, os.Mkdir(dir, 0o755))
	password := "e2e-" + rand.Text()[:16]
	srv := e2e.StartDemo(t, bin, dir, password)
	t.Logf("skychimp serve --demo is listening on %s, working directory %s", srv.URL, dir)

	t.Run("PrintsTheDemoLogins", func(t *testing.T) {
		assert.Equal(t, password, srv.Password, "the printed password")
		assert.Equal(t, demoLogins, srv.Logins, "the printed logins")
		assert.Contains(t, srv.Stdout().String(), "demo: seeded accounts")
	})

	t.Run("SendsAliceDemoMailingAtOnce", func(t *testing.T) {
		want := []string{"client1.of.alice@example.com", "client2.of.alice@example.com", "client3.of.alice@example.com"}
		waitOutbox(t, srv, want, 30*time.Second)
		line, ok := srv.Stderr().Wait(10*time.Second, "scheduled pass")
		require.True(t, ok, "the server logged no scheduled pass.\nstderr:\n%s", srv.Stderr())
		assert.Contains(t, line, "sent 6", "the first pass sends alice's and bob's running mailing to their 3 clients each")
		assert.Contains(t, line, "failed 0")

		eml, err := os.ReadFile(filepath.Join(srv.Dir, "outbox", srv.Outbox(t)[0]))
		require.NoError(t, err)
		m := regexp.MustCompile(`(?m)^List-Unsubscribe: <([^>]*)>`).FindSubmatch(eml)
		require.NotNil(t, m, "the message has a List-Unsubscribe header:\n%s", eml)
		assert.True(t, strings.HasPrefix(string(m[1]), srv.URL+"/unsubscribe/"),
			"the unsubscribe link %s points at the server (%s), even with --addr port 0", m[1], srv.URL)
	})

	t.Run("ServesTheRegisterPage", func(t *testing.T) {
		body, status := get(t, srv.URL+"/register")
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, body, `name="email"`)
		assert.Contains(t, body, `name="password"`)
	})

	t.Run("Browser", func(t *testing.T) {
		chromium, ok := e2e.FindChromium()
		if !ok {
			t.Skipf("no Chromium binary on PATH (looked for %s): the browser half of the end-to-end test needs one, e.g. the Debian package chromium",
				strings.Join(e2e.ChromiumNames, ", "))
		}
		b := startBrowser(t, chromium, srv.URL)
		t.Logf("browser %s, screenshots in %s", chromium, b.shots)
		testBrowser(t, b, srv)
	})

	t.Run("StopsGracefullyOnSIGTERM", func(t *testing.T) {
		code := srv.Stop(t, 45*time.Second)
		assert.Equal(t, 0, code, "exit code.\nstdout:\n%s\nstderr:\n%s", srv.Stdout(), srv.Stderr())
		out := srv.Stdout().Lines()
		require.NotEmpty(t, out)
		assert.Equal(t, "stopped", out[len(out)-1], "the last line printed")
		assert.NotContains(t, srv.Stderr().String(), "ERROR", "the server logged errors")
	})
}

func testBrowser(t *testing.T, b *browser, srv *e2e.Server) {
	t.Run("WrongPasswordShowsTheLoginError", func(t *testing.T) {
		tab := b.newTab(t, "/admin/signin")
		tab.run("open the login page", chromedp.Navigate(b.url+"/admin/login"), chromedp.WaitVisible("#username", chromedp.ByQuery))
		assert.Equal(t, "Log in · SkyChimp", tab.title())
		assert.Equal(t, "SkyChimp", tab.text("#sign-in-form h2"))
		tab.screenshot("01-login.png")
		refused := tab.login("alice@demo.local", "not the password")
		assert.Equal(t, "The email address or password is wrong. Check them and try again, or choose a new password at /forgot.", refused)
		tab.screenshot("02-login-wrong-password.png")
		tab.checkClean()
	})

	t.Run("SuperuserSeesEveryMenuAndTheUsers", func(t *testing.T) {
		tab := b.newTab(t)
		tab.loginOK("admin@demo.local", srv.Password)
		tab.checkPanel(menuSuperuser, []string{"All mailings"}, "Superuser · admin@demo.local")
		figs := tab.figures()
		for label, n := range map[string]int{"Clients": 6, "Mailings": 4, "Sent": 6, "Users": 5, "Posts": 6, "Published": 5} {
			assert.Equal(t, n, figs[label], "the dashboard's %s figure (all: %v)", label, figs)
		}
		tab.screenshot("03-admin-dashboard.png")

		rows := tab.table("/admin/info/users", "Users")
		assert.Len(t, rows, len(demoLogins))
		for _, l := range demoLogins {
			assert.True(t, anyContains(rows, l.Email), "the users list shows %s:\n%s", l.Email, strings.Join(rows, "\n"))
		}
		tab.screenshot("04-admin-users.png")
		tab.checkClean()
	})

	t.Run("ManagerSeesAllMailingsAndUsersButNoClients", func(t *testing.T) {
		tab := b.newTab(t)
		tab.loginOK("manager@demo.local", srv.Password)
		tab.checkPanel(menuManager, []string{"Clients", "Messages", "Mailings", "Blog"}, "Manager · manager@demo.local")
		figs := tab.figures()
		for label, n := range map[string]int{"Mailings": 4, "Sent": 6, "Users": 5} {
			assert.Equal(t, n, figs[label], "the dashboard's %s figure (all: %v)", label, figs)
		}
		assert.NotContains(t, figs, "Clients", "a manager has no client pages")
		tab.screenshot("05-manager-dashboard.png")

		rows := tab.table("/admin/info/users", "Users")
		assert.Len(t, rows, len(demoLogins))
		for _, l := range demoLogins {
			assert.True(t, anyContains(rows, l.Email), "the users list shows %s:\n%s", l.Email, strings.Join(rows, "\n"))
		}
		tab.screenshot("06-manager-users.png")
		tab.checkClean()
	})

	t.Run("ContentManagerSeesTheBlogButNoMailings", func(t *testing.T) {
		tab := b.newTab(t, "/admin/info/clients")
		tab.loginOK("content@demo.local", srv.Password)
		tab.checkPanel(menuContent, []string{"Clients", "Messages", "Mailings", "All mailings", "Send log", "Users"},
			"Content manager · content@demo.local")
		assert.Contains(t, tab.text("section.content"), "You write the blog")
		figs := tab.figures()
		assert.Equal(t, 6, figs["Posts"], "the dashboard's Posts figure (all: %v)", figs)
		assert.Equal(t, 5, figs["Published"], "the dashboard's Published figure (all: %v)", figs)
		for _, label := range []string{"Clients", "Mailings", "Sent"} {
			assert.NotContains(t, figs, label, "a content manager has no mailing figures")
		}
		tab.screenshot("07-content-dashboard.png")

		rows := tab.table("/admin/info/posts", "Blog")
		assert.Len(t, rows, 6, "the demo blog's posts:\n%s", strings.Join(rows, "\n"))
		assert.True(t, anyContains(rows, demoPostTitle), "the posts list shows %q:\n%s", demoPostTitle, strings.Join(rows, "\n"))
		assert.Equal(t, tab.count("section.content table img"), tab.loadedImages("section.content table img"),
			"every post image in the list loads")
		tab.screenshot("08-content-blog.png")

		tab.run("open the clients page", chromedp.Navigate(b.url+"/admin/info/clients"), chromedp.WaitVisible("body h1", chromedp.ByQuery))
		assert.Equal(t, "Not Found", tab.text("body h1"), "a content manager asking for the clients page")
		tab.checkClean()
	})

	t.Run("AliceSeesHerMailingsOnlyAndTheySent", func(t *testing.T) {
		tab := b.newTab(t)
		tab.loginOK("alice@demo.local", srv.Password)
		tab.checkPanel(menuUser, []string{"Users", "All mailings", "Blog"}, "User · alice@demo.local")
		figs := tab.figures()
		for label, n := range map[string]int{"Clients": 3, "Mailings": 2, "Sent": 3} {
			assert.Equal(t, n, figs[label], "the dashboard's %s figure (all: %v)", label, figs)
		}
		assert.NotContains(t, figs, "Users", "a user sees no user figures")
		tab.screenshot("09-alice-dashboard.png")

		rows := tab.table("/admin/info/mailings", "Mailings")
		require.Len(t, rows, 2, "alice's mailings:\n%s", strings.Join(rows, "\n"))
		assert.True(t, anyContains(rows, "Weekly news"), "alice's running mailing is listed:\n%s", strings.Join(rows, "\n"))
		assert.True(t, anyContains(rows, "Monthly digest"), "alice's future mailing is listed:\n%s", strings.Join(rows, "\n"))
		for _, r := range rows {
			assert.Contains(t, r, "news from Alice Anders")
			assert.NotContains(t, r, "Bob Brown", "alice sees one of bob's mailings")
		}
		tab.screenshot("10-alice-mailings.png")

		// GoAdmin's scripts work under the panel's Content-Security-Policy:
		// an action (its confirmation dialog, the AJAX post, the answer)
		// and a PJAX navigation from the side menu.
		var clicked bool
		tab.run("click Send now", chromedp.Evaluate(`(() => {
			const row = Array.from(document.querySelectorAll('section.content table tbody tr')).find(r => r.textContent.includes('Weekly news'));
			const a = row && Array.from(row.querySelectorAll('a')).find(a => a.textContent.trim() === 'Send now');
			if (!a) return false;
			$(a).trigger('click');
			return true;
		})()`, &clicked))
		require.True(t, clicked, "the running mailing's row has a Send now action")
		pages := tab.documents()
		// The dialog takes clicks once it has appeared (class "visible").
		tab.run("confirm Send now", chromedp.WaitVisible(".sweet-alert.visible button.confirm", chromedp.ByQuery),
			chromedp.Click(".sweet-alert.visible button.confirm", chromedp.ByQuery))
		// The action posts, shows the answer and reloads the list.
		assert.Equal(t, http.StatusOK, tab.waitResponse("/admin/operation/mailing-send"), "Send now's answer")
		tab.waitFor("the list to reload", func() bool { return tab.documents() > pages })
		tab.run("wait for the reloaded list", chromedp.WaitVisible("section.content table", chromedp.ByQuery))
		tab.run("follow the menu to Messages", chromedp.Click(`aside.main-sidebar a[href="/admin/info/messages"]`, chromedp.ByQuery),
			chromedp.Poll(`(document.querySelector('section.content-header h1') || {textContent: ''}).textContent.trim().startsWith('Messages')`, nil, poll))

		rows = tab.table("/admin/info/deliveries", "Deliveries")
		require.Len(t, rows, 3, "alice's deliveries:\n%s", strings.Join(rows, "\n"))
		for i, r := range rows {
			assert.Contains(t, r, "Weekly news")
			assert.Contains(t, r, "| sent |", "delivery %d is sent: %s", i, r)
			assert.Contains(t, r, ".of.alice@example.com")
			assert.NotContains(t, r, "bob", "alice sees one of bob's deliveries")
		}
		tab.screenshot("11-alice-deliveries.png")

		// Her running mailing's report: runs, the chart of sends per run, clients.
		tab.run("open the report", chromedp.Navigate(b.url+"/admin/report/1"), chromedp.WaitVisible("#runs-table", chromedp.ByQuery))
		assert.Equal(t, 1, tab.count("#runs svg"), "the report draws its chart")
		assert.Positive(t, tab.count("#runs svg rect"), "the chart has bars")
		assert.Contains(t, tab.text("#runs-table"), "3", "the run's three sends are counted")
		assert.Equal(t, 3, tab.count("#clients-table tbody tr"), "one row per client")
		tab.screenshot("15-alice-report.png")

		// The header's Log out button ends the session: the panel then
		// sends her to the login page.
		tab.run("log out", chromedp.Navigate(b.url+"/admin"), chromedp.WaitVisible("#logout-button", chromedp.ByQuery),
			chromedp.Click("#logout-button", chromedp.ByQuery), chromedp.WaitVisible("#sign-in-form", chromedp.ByQuery))
		assert.Equal(t, "Log in · SkyChimp", tab.title())
		tab.run("open the panel logged out", chromedp.Navigate(b.url+"/admin/info/mailings"), chromedp.WaitVisible("#sign-in-form", chromedp.ByQuery))
		tab.checkClean()
	})

	t.Run("BobSeesHisClientsOnly", func(t *testing.T) {
		tab := b.newTab(t)
		tab.loginOK("bob@demo.local", srv.Password)
		tab.checkPanel(menuUser, []string{"Users", "All mailings", "Blog"}, "User · bob@demo.local")

		rows := tab.table("/admin/info/clients", "Clients")
		require.Len(t, rows, 3, "bob's clients:\n%s", strings.Join(rows, "\n"))
		for i, name := range []string{"Ann Archer", "Ben Baker", "Chloé Dubois"} {
			assert.True(t, anyContains(rows, name), "bob's client %s is listed", name)
			assert.True(t, anyContains(rows, fmt.Sprintf("client%d.of.bob@example.com", i+1)))
		}
		assert.False(t, anyContains(rows, "alice"), "bob sees one of alice's clients:\n%s", strings.Join(rows, "\n"))
		tab.screenshot("12-bob-clients.png")
		tab.checkClean()
	})

	t.Run("RegisterPageRenders", func(t *testing.T) {
		tab := b.newTab(t)
		tab.run("open the register page", chromedp.Navigate(b.url+"/register"), chromedp.WaitVisible(`main form input[name="email"]`, chromedp.ByQuery))
		assert.Equal(t, "Create an account", tab.text("main h1"))
		for _, name := range []string{"full_name", "password", "csrf_token"} {
			assert.Equal(t, 1, tab.count(fmt.Sprintf(`main form input[name=%q]`, name)), "the register form's %s field", name)
		}
		var styled bool
		tab.run("check the stylesheet", chromedp.Evaluate(`Array.from(document.styleSheets).some(s => s.href && s.href.endsWith('/static/pages.css') && s.cssRules.length > 0)`, &styled))
		assert.True(t, styled, "the register page's stylesheet is loaded")
		tab.screenshot("13-register.png")
		tab.checkClean()
	})

	t.Run("HomePageShowsTheBlog", func(t *testing.T) {
		tab := b.newTab(t)
		tab.run("open the home page", chromedp.Navigate(b.url+"/"), chromedp.WaitVisible("main h1", chromedp.ByQuery))
		assert.NotEmpty(t, tab.text("main h1"))
		assert.Positive(t, tab.count("main .post-card"), "the home page shows blog posts")
		assert.Equal(t, tab.count("main .post-card img"), tab.loadedImages("main .post-card img"), "every post image on the home page loads")
		tab.screenshot("14-home.png")

		var href string
		tab.run("find a post", chromedp.AttributeValue("main .post-card h3 a", "href", &href, nil, chromedp.ByQuery))
		require.NotEmpty(t, href, "the home page links to its posts")
		if strings.HasPrefix(href, "/") {
			href = b.url + href
		}
		tab.run("open the post", chromedp.Navigate(href), chromedp.WaitVisible("main article h1", chromedp.ByQuery))
		assert.NotEmpty(t, tab.text("main article h1"))
		tab.screenshot("16-post.png")
		tab.checkClean()
	})
}

// waitOutbox waits until the server's outbox holds a message to each of
// rcpts.
func waitOutbox(t *testing.T, srv *e2e.Server, rcpts []string, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		files := srv.Outbox(t)
		missing := slices.DeleteFunc(slices.Clone(rcpts), func(r string) bool { return anyContains(files, "-"+r+"-") })
		if len(missing) == 0 {
			t.Logf("outbox: %s", strings.Join(files, ", "))
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("after %s the outbox has no message to %s; it holds %q.\nstderr:\n%s", timeout, strings.Join(missing, ", "), files, srv.Stderr())
		case <-tick.C:
		}
	}
}

func get(t *testing.T, url string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body), resp.StatusCode
}

func anyContains(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

// browser is one headless Chromium.
type browser struct {
	ctx   context.Context // the browser's first tab; new tabs get their own browser contexts
	url   string          // the server's address
	shots string          // where screenshots go
	log   *lockedBuffer   // the browser's own output

	mu    sync.Mutex
	noted map[string]bool // notes logged already, by any tab
}

// startBrowser starts headless Chromium for the rest of the test.
func startBrowser(t *testing.T, path, url string) *browser {
	t.Helper()
	shots := os.Getenv("SKYCHIMP_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	b := &browser{url: url, shots: shots, log: &lockedBuffer{}, noted: map[string]bool{}}
	// Not t.TempDir: the browser's helper processes may still write to
	// the profile while the test's cleanup removes it.
	profile, err := os.MkdirTemp("", "skychimp-e2e-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI containers run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true), // small /dev/shm in containers
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1366, 900),
		chromedp.CombinedOutput(b.log),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser process to exit
	})
	if err := firstRun(ctx); err != nil {
		t.Fatalf("start %s: %v\nIts output:\n%s", path, err, b.log)
	}
	b.ctx = ctx
	return b
}

// firstRun makes the first chromedp.Run on ctx, which starts the browser
// or attaches the tab. Its context lives as long as the tab (chromedp
// runs the tab's event loop on it), so the deadline is kept here.
func firstRun(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(stepTimeout):
		return fmt.Errorf("no answer within %s", stepTimeout)
	}
}

// tab is one browser tab with its own cookies, watching for failed
// requests and script errors.
type tab struct {
	t        *testing.T
	b        *browser
	ctx      context.Context
	expected []string // paths whose 4xx answers are part of the test

	mu       sync.Mutex
	urls     map[network.RequestID]string
	statuses map[string]int // the status of the last answer, by path
	docs     int            // page loads (document requests) so far
	problems []string       // fail the test
	notes    []string       // logged: known defects outside the test's reach
}

// knownIssues are defects the test reports (t.Log) instead of failing on;
// each is a substring of the problem's text and the reason. Remove an
// entry once its cause is fixed, so that it cannot come back unseen.
var knownIssues = []struct{ match, why string }{}

// newTab opens a tab in a fresh browser context (no cookies). Answers of
// 400 and above to requests for expected paths are not problems.
func (b *browser) newTab(t *testing.T, expected ...string) *tab {
	t.Helper()
	// chromedp.WithNewBrowserContext opens the context's first tab without
	// a window, which headless Chromium refuses ("no browser is open"):
	// make the browser context and a window in it here.
	c := chromedp.FromContext(b.ctx)
	bctx, cancelStep := context.WithTimeout(b.ctx, stepTimeout)
	defer cancelStep()
	exec := cdp.WithExecutor(bctx, c.Browser)
	id, err := target.CreateBrowserContext().WithDisposeOnDetach(true).Do(exec)
	require.NoError(t, err, "create a browser context")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		defer cancel()
		assert.NoError(t, target.DisposeBrowserContext(id).Do(cdp.WithExecutor(ctx, c.Browser)), "dispose of the browser context")
	})
	tid, err := target.CreateTarget("about:blank").WithBrowserContextID(id).WithNewWindow(true).
		WithWidth(1366).WithHeight(900).Do(exec)
	require.NoError(t, err, "open a window in the new browser context")
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(tid))
	t.Cleanup(cancel)
	tb := &tab{t: t, b: b, ctx: ctx, expected: expected, urls: map[network.RequestID]string{}, statuses: map[string]int{}}
	chromedp.ListenTarget(ctx, tb.listen)
	require.NoError(t, firstRun(ctx), "attach to the new tab")
	// Report every Content-Security-Policy violation as a console error
	// (caught by listen); a script added this way is outside the page's
	// policy.
	tb.run("watch for CSP violations", chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(cspWatch).Do(ctx)
		return err
	}))
	return tb
}

// cspWatch turns the page's Content-Security-Policy violations into
// console errors.
const cspWatch = `document.addEventListener('securitypolicyviolation', function (e) {
	console.error('Content-Security-Policy violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '?') +
		' at ' + e.sourceFile + ':' + e.lineNumber + ' ' + (e.sample || ''));
});`

func (tb *tab) listen(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		tb.urls[ev.RequestID] = u
		if ev.Type == network.ResourceTypeDocument {
			tb.docs++
		}
		if tb.thirdParty(u) {
			tb.problem(fmt.Sprintf("a page of %s asks a third party for %s", ev.DocumentURL, u))
		}
	case *network.EventResponseReceived:
		tb.statuses[strings.TrimPrefix(ev.Response.URL, tb.b.url)] = int(ev.Response.Status)
		if ev.Response.Status >= 400 && !tb.isExpected(ev.Response.URL) && !tb.thirdParty(ev.Response.URL) {
			tb.problem(fmt.Sprintf("%s answered %d %s", ev.Response.URL, ev.Response.Status, ev.Response.StatusText))
		}
	case *network.EventLoadingFailed:
		if u := tb.urls[ev.RequestID]; !ev.Canceled && !tb.isExpected(u) && !tb.thirdParty(u) {
			tb.problem(fmt.Sprintf("%s failed to load: %s %s", u, ev.ErrorText, ev.BlockedReason))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		tb.problem(fmt.Sprintf("script error at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *cdplog.EventEntryAdded:
		// The browser's own error messages (failed loads, source network,
		// are checked above; policy violations are reported by cspWatch).
		if e := ev.Entry; e.Level == cdplog.LevelError && e.Source != cdplog.SourceNetwork {
			tb.problem(fmt.Sprintf("browser %s error at %s: %s", e.Source, e.URL, e.Text))
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.APITypeError {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			tb.problem("console error: " + strings.Join(args, " "))
		}
	}
}

// problem records msg as a problem, or as a note when it is a known issue.
func (tb *tab) problem(msg string) {
	for _, k := range knownIssues {
		if strings.Contains(msg, k.match) {
			tb.notes = append(tb.notes, fmt.Sprintf("known issue (%s): %s", k.why, msg))
			return
		}
	}
	tb.problems = append(tb.problems, msg)
}

// thirdParty reports whether url is on the network but not on the server.
func (tb *tab) thirdParty(url string) bool {
	return (strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")) && !strings.HasPrefix(url, tb.b.url+"/")
}

func (tb *tab) isExpected(url string) bool {
	for _, p := range tb.expected {
		if strings.HasPrefix(url, tb.b.url+p) {
			return true
		}
	}
	return false
}

// checkClean logs the notes and asserts that no request to the server
// failed and no script broke in the tab so far.
func (tb *tab) checkClean() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.b.mu.Lock()
	for _, n := range tb.notes {
		if !tb.b.noted[n] {
			tb.b.noted[n] = true
			tb.t.Logf("NOTE: %s", n)
		}
	}
	tb.b.mu.Unlock()
	assert.Empty(tb.t, tb.problems, "failed requests or script errors in the pages")
}

// documents returns how many pages the tab has loaded so far.
func (tb *tab) documents() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.docs
}

// waitResponse waits for an answer to a request for path (on the
// server) and returns its status.
func (tb *tab) waitResponse(path string) int {
	tb.t.Helper()
	var status int
	tb.waitFor("an answer to "+path, func() bool {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		status = tb.statuses[path]
		return status != 0
	})
	return status
}

// waitFor waits up to stepTimeout for cond, which the browser's events
// make true.
func (tb *tab) waitFor(what string, cond func() bool) {
	tb.t.Helper()
	deadline := time.NewTimer(stepTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			tb.mu.Lock()
			problems := strings.Join(tb.problems, "\n")
			tb.mu.Unlock()
			tb.t.Fatalf("waited %s for %s\nproblems in the tab so far:\n%s", stepTimeout, what, problems)
		case <-tick.C:
		}
	}
}

// run runs actions within stepTimeout.
func (tb *tab) run(step string, actions ...chromedp.Action) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	err := chromedp.Run(ctx, actions...)
	if err != nil {
		loc := "unknown"
		lctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		defer cancel()
		_ = chromedp.Run(lctx, chromedp.Location(&loc))
		tb.mu.Lock()
		problems := strings.Join(tb.problems, "\n")
		tb.mu.Unlock()
		tb.t.Fatalf("%s: %v (the tab is at %s)\nproblems in the tab so far:\n%s", step, err, loc, problems)
	}
}

// login submits the login form from the login page and waits for the
// panel or the form's error; it returns the error ("" when the panel
// opened).
func (tb *tab) login(email, password string) string {
	tb.t.Helper()
	tb.run("open the login page", chromedp.Navigate(tb.b.url+"/admin/login"), chromedp.WaitVisible("#username", chromedp.ByQuery))
	tb.run("log in as "+email,
		chromedp.SendKeys("#username", email, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Click(`#sign-in-form button[type="submit"]`, chromedp.ByQuery),
		// Whichever comes first: the panel's menu or the form's error.
		chromedp.WaitVisible(`aside.main-sidebar ul.sidebar-menu, #login-error`, chromedp.ByQuery),
	)
	var refused string
	tb.run("read the login error", chromedp.Evaluate(`(() => {
		const e = document.getElementById('login-error');
		return e && e.offsetParent !== null ? e.textContent.trim() : '';
	})()`, &refused))
	return refused
}

// loginOK logs in and fails the test unless the panel opens.
func (tb *tab) loginOK(email, password string) {
	tb.t.Helper()
	refused := tb.login(email, password)
	require.Empty(tb.t, refused, "the login as %s was refused", email)
	tb.run("wait for the dashboard", chromedp.WaitVisible("section.content-header h1", chromedp.ByQuery))
}

// checkPanel asserts the side menu and the dashboard's heading.
func (tb *tab) checkPanel(menu, forbidden []string, description string) {
	tb.t.Helper()
	got := tb.menu()
	assert.Equal(tb.t, menu, got, "the side menu")
	for _, f := range forbidden {
		assert.NotContains(tb.t, got, f, "the side menu")
	}
	assert.Equal(tb.t, "Dashboard "+description, tb.text("section.content-header h1"), "the dashboard's heading")
	assert.Equal(tb.t, "SkyChimp", tb.text("footer.main-footer"), "the footer names the panel only (no GoAdmin version)")
	assert.Equal(tb.t, 1, tb.count("header form[action='/admin/logout'] #logout-button"), "the header's Log out button")
}

// menu returns the side menu's entries, in page order.
func (tb *tab) menu() []string {
	tb.t.Helper()
	var items []string
	tb.run("read the menu", chromedp.Evaluate(
		`Array.from(document.querySelectorAll('aside.main-sidebar ul.sidebar-menu a')).map(a => a.textContent.replace(/\s+/g, ' ').trim())`, &items))
	return items
}

// figures returns the dashboard's boxes: number by label.
func (tb *tab) figures() map[string]int {
	tb.t.Helper()
	var figs map[string]int
	tb.run("read the dashboard's figures", chromedp.Evaluate(`Object.fromEntries(
		Array.from(document.querySelectorAll('section.content .small-box .inner'))
			.map(e => [e.querySelector('p').textContent.trim(), parseInt(e.querySelector('h3').textContent, 10)]))`, &figs))
	return figs
}

// loadedImages returns how many of the images matching sel load (lazy
// ones are made eager; it waits for those still loading).
func (tb *tab) loadedImages(sel string) int {
	tb.t.Helper()
	var n int
	tb.run("wait for the images "+sel, chromedp.Evaluate(fmt.Sprintf(`Promise.all(Array.from(document.querySelectorAll(%q)).map(img => {
		img.loading = 'eager';
		return img.complete ? img.naturalWidth > 0 : new Promise(done => { img.onload = () => done(true); img.onerror = () => done(false); });
	}))
		.then(ok => ok.filter(Boolean).length)`, sel), &n, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	return n
}

// table opens a list page of the panel and returns its rows' texts, as
// "| cell | cell |".
func (tb *tab) table(path, title string) []string {
	tb.t.Helper()
	tb.run("open "+path, chromedp.Navigate(tb.b.url+path), chromedp.WaitVisible("section.content table", chromedp.ByQuery))
	assert.True(tb.t, strings.HasPrefix(tb.text("section.content-header h1"), title), "the heading of %s", path)
	var rows []string
	tb.run("read the table of "+path, chromedp.Evaluate(`Array.from(document.querySelectorAll('section.content table tbody tr'))
		.filter(r => r.querySelector('td'))
		.map(r => Array.from(r.querySelectorAll('td')).map(td => td.textContent.replace(/\s+/g, ' ').trim()).join(' | '))`, &rows))
	for i := range rows {
		rows[i] = "| " + rows[i] + " |" // "| x |" matches a whole cell
	}
	return rows
}

// text returns the whitespace-collapsed text of the first element
// matching the CSS selector sel ("" when there is none).
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	var s string
	tb.run("read "+sel, chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent.replace(/\s+/g, ' ').trim() : ''; })()`, sel), &s))
	return s
}

// count returns the number of elements matching the CSS selector sel.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	var n int
	tb.run("count "+sel, chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n))
	return n
}

// title returns the page's title.
func (tb *tab) title() string {
	tb.t.Helper()
	var s string
	tb.run("read the title", chromedp.Title(&s))
	return s
}

// screenshot saves a full-page PNG under the browser's screenshot
// directory.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	var png []byte
	tb.run("screenshot "+name, chromedp.FullScreenshot(&png, 100))
	path := filepath.Join(tb.b.shots, name)
	require.NoError(tb.t, os.WriteFile(path, png, 0o644))
	tb.t.Logf("screenshot %s", path)
}

// lockedBuffer collects the browser's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
