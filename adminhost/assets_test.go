package adminhost_test

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/adminhost/internal/hosttest"
)

func TestLoginPageIsSelfContained(t *testing.T) {
	r, err := env.NewClient("anonymous").Get("/admin/login")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Body, `id="sign-in-form"`)
	assert.Contains(t, r.Body, `action="/admin/signin"`)
	assert.NotContains(t, r.Body, "all.min.js", "GoAdmin's login script (a particles animation without its element)")
	assert.NotContains(t, r.Body, "all.min.css", "GoAdmin's login style (web fonts from a third party)")
	for _, m := range regexp.MustCompile(`(?i)(?:src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(r.Body, -1) {
		assert.Regexp(t, `^/[^/]`, m[1], "the page loads %s: only the site's own paths", m[1])
	}
	assert.NotRegexp(t, `(?i)https?://|url\(`, r.Body, "no resource from elsewhere")
}

func TestFavicon(t *testing.T) {
	r, err := env.NewClient("anonymous").Get("/favicon.ico")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "image/x-icon", r.Header.Get("Content-Type"))
	b := []byte(r.Body)
	require.Greater(t, len(b), 22, "an ICO header and one entry")
	assert.Equal(t, []byte{0, 0, 1, 0, 1, 0}, b[:6], "ICO header with one image")
	size, off := binary.LittleEndian.Uint32(b[14:18]), binary.LittleEndian.Uint32(b[18:22])
	require.Equal(t, len(b), int(off+size), "the entry covers the rest of the file")
	img, err := png.Decode(bytes.NewReader(b[off:]))
	require.NoError(t, err, "the image is a PNG")
	assert.Equal(t, 32, img.Bounds().Dx())
}

// thead returns the column heads of a GoAdmin list (its header row).
func thead(t *testing.T, body string) []string {
	t.Helper()
	row := regexp.MustCompile(`(?s)<tbody>\s*<tr>(.*?)</tr>`).FindStringSubmatch(body)
	require.NotNil(t, row, "the list's header row")
	var heads []string
	for _, m := range regexp.MustCompile(`(?s)<th[^>]*>(.*?)</th>`).FindAllStringSubmatch(row[1], -1) {
		h := strings.TrimSpace(regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(m[1], ""))
		if h != "" {
			heads = append(heads, h)
		}
	}
	return heads
}

func TestListsFitTheScreen(t *testing.T) {
	alice, err := env.Login(hosttest.Alice)
	require.NoError(t, err)
	r, err := alice.Get("/admin/info/mailings")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Body, "min-width: 0 !important", "GoAdmin's 1600px table width is lifted")
	assert.Equal(t, []string{"ID", "Name", "Message", "Clients", "Period", "Time zone", "Status", "Next run", "Report", "Operation"},
		thead(t, r.Body), "the mailings list's columns")

	id := strconv.FormatInt(env.Data[hosttest.Alice].Running.ID, 10)
	r, err = alice.Get("/admin/info/mailings/detail?__goadmin_detail_pk=" + id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status)
	for _, head := range []string{"Start", "End", "Enabled", "Time zone", "Next run"} {
		assert.Contains(t, r.Body, head, "the detail page shows every field")
	}
}

func TestListsWithoutRowSelection(t *testing.T) {
	super, err := env.Login(hosttest.Super)
	require.NoError(t, err)
	for _, path := range []string{"/admin/info/users", "/admin/info/deliveries", "/admin/info/attempts"} {
		r, err := super.Get(path)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status, path)
		assert.Contains(t, r.Body, "td:nth-child(1)", "%s hides the checkbox column", path)
		assert.Contains(t, r.Body, ".btn-group:has(.grid-batch-0, .grid-batch-1) { display: none; }", "%s hides the Action menu", path)
		assert.NotContains(t, r.Body, "column-selector", "%s has no column chooser", path)
	}
	r, err := super.Get("/admin/info/clients")
	require.NoError(t, err)
	assert.NotContains(t, r.Body, "grid-batch-1) { display: none; }", "the clients list keeps its row selection")
}
