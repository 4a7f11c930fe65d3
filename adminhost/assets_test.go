package adminhost_test

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
