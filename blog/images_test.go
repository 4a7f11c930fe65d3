package blog_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/blog"
)

// testImage returns an image of w×h with some colour, so it compresses
// like a real one.
func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	return img
}

func pngBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	require.NoError(tb, png.Encode(&b, testImage(w, h)))
	return b.Bytes()
}

func jpegBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	require.NoError(tb, jpeg.Encode(&b, testImage(w, h), nil))
	return b.Bytes()
}

func gifBytes(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	require.NoError(tb, gif.Encode(&b, testImage(w, h), nil))
	return b.Bytes()
}

// webp1x1 is a 1×1 lossless WebP image (Go has no WebP encoder).
func webp1x1(tb testing.TB) []byte {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	require.NoError(tb, err)
	return b
}

func newImages(tb testing.TB, o blog.ImageOptions) (*blog.Images, string) {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "media")
	im, err := blog.NewImages(dir, o)
	require.NoError(tb, err)
	return im, dir
}

// files lists the directory's entries, temporary files included.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(tb, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestImagesSave(t *testing.T) {
	im, dir := newImages(t, blog.ImageOptions{})
	for _, tc := range []struct {
		name, typ, ext string
		data           []byte
		w, h           int
	}{
		{"PNG", "image/png", ".png", pngBytes(t, 40, 30), 40, 30},
		{"JPEG", "image/jpeg", ".jpg", jpegBytes(t, 40, 30), 40, 30},
		{"GIF", "image/gif", ".gif", gifBytes(t, 40, 30), 40, 30},
		{"WebP", "image/webp", ".webp", webp1x1(t), 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := im.Save(bytes.NewReader(tc.data))
			require.NoError(t, err)
			assert.Equal(t, tc.typ, img.Type)
			assert.Equal(t, tc.w, img.Width)
			assert.Equal(t, tc.h, img.Height)
			assert.EqualValues(t, len(tc.data), img.Size)
			assert.True(t, blog.ValidImageName(img.Name), img.Name)
			assert.True(t, strings.HasSuffix(img.Name, tc.ext))
			assert.Equal(t, tc.typ, blog.ImageType(img.Name))
			got, err := os.ReadFile(filepath.Join(dir, img.Name))
			require.NoError(t, err)
			assert.Equal(t, tc.data, got)
			st, err := os.Stat(filepath.Join(dir, img.Name))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
		})
	}
	t.Run("NamesAreNew", func(t *testing.T) {
		a, err := im.Save(bytes.NewReader(pngBytes(t, 2, 2)))
		require.NoError(t, err)
		b, err := im.Save(bytes.NewReader(pngBytes(t, 2, 2)))
		require.NoError(t, err)
		assert.NotEqual(t, a.Name, b.Name)
	})
	t.Run("Remove", func(t *testing.T) {
		img, err := im.Save(bytes.NewReader(pngBytes(t, 2, 2)))
		require.NoError(t, err)
		require.NoError(t, im.Remove(img.Name))
		assert.NoFileExists(t, filepath.Join(dir, img.Name))
		assert.NoError(t, im.Remove(img.Name), "already gone")
		assert.NoError(t, im.Remove("../secret"), "not a name Images gives: nothing happens")
	})
	for _, f := range files(t, dir) {
		assert.False(t, strings.HasPrefix(f, "."), "no temporary file is left: %s", f)
	}
}

func TestImagesRefused(t *testing.T) {
	full := pngBytes(t, 64, 64)
	jpg := jpegBytes(t, 64, 64)
	for _, tc := range []struct {
		name   string
		data   []byte
		opts   blog.ImageOptions
		reason string
	}{
		{"Empty", nil, blog.ImageOptions{}, "the file is empty"},
		{"HTMLNamedPNG", []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"), blog.ImageOptions{}, "is not a PNG, JPEG, GIF or WebP image (its content looks like text/html)"},
		{"SVG", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>`), blog.ImageOptions{}, "its content looks like text/xml"},
		{"SVGWithoutXMLHeader", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), blog.ImageOptions{}, "is not a PNG, JPEG, GIF or WebP image"},
		{"PDF", []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n"), blog.ImageOptions{}, "looks like application/pdf"},
		{"GIFHeaderThenHTML", []byte("GIF89a<html><script>alert(1)</script></html>"), blog.ImageOptions{}, "pixels; at most 4096×4096 are accepted"},
		{"GIFScreenThenHTML", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00<html><script>alert(1)</script></html>"), blog.ImageOptions{}, "the file is damaged or incomplete"},
		{"PNGSignatureThenHTML", append([]byte("\x89PNG\r\n\x1a\n"), "<html><script>alert(1)</script></html>"...), blog.ImageOptions{}, "does not decode as the png image it claims to be"},
		{"TooLarge", pngBytes(t, 200, 200), blog.ImageOptions{MaxBytes: 1024}, "the file is larger than 1 KiB"},
		{"TooWide", pngBytes(t, 300, 2), blog.ImageOptions{MaxSide: 256}, "the image is 300×2 pixels; at most 256×256 are accepted"},
		{"TruncatedPNG", full[:len(full)*2/3], blog.ImageOptions{}, "the file is damaged or incomplete"},
		{"PNGWithoutEnd", full[:len(full)-12], blog.ImageOptions{}, "the file is damaged or incomplete"},
		{"TruncatedJPEG", jpg[:len(jpg)/2], blog.ImageOptions{}, "the file is damaged or incomplete"},
		{"TruncatedGIF", func() []byte { g := gifBytes(t, 64, 64); return g[:len(g)-1] }(), blog.ImageOptions{}, "the file is damaged or incomplete"},
		{"TruncatedWebP", func() []byte { w := webp1x1(t); return w[:len(w)-3] }(), blog.ImageOptions{}, "the file is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im, dir := newImages(t, tc.opts)
			_, err := im.Save(bytes.NewReader(tc.data))
			require.ErrorIs(t, err, blog.ErrImage)
			var ie *blog.ImageError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, ie.Reason, tc.reason)
			assert.Empty(t, files(t, dir), "nothing refused stays on disk")
		})
	}
}

func TestImagesHandler(t *testing.T) {
	im, _ := newImages(t, blog.ImageOptions{})
	data := pngBytes(t, 8, 8)
	img, err := im.Save(bytes.NewReader(data))
	require.NoError(t, err)
	srv := http.StripPrefix("/media/", im.Handler())

	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	t.Run("OK", func(t *testing.T) {
		rec := do(http.MethodGet, "/media/"+img.Name)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, data, rec.Body.Bytes())
		h := rec.Header()
		assert.Equal(t, "image/png", h.Get("Content-Type"))
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
		assert.Equal(t, "default-src 'none'; sandbox", h.Get("Content-Security-Policy"))
		assert.Equal(t, `inline; filename="`+img.Name+`"`, h.Get("Content-Disposition"))
		assert.Equal(t, "public, max-age=31536000, immutable", h.Get("Cache-Control"))
		assert.NotEmpty(t, h.Get("ETag"))
	})
	t.Run("Head", func(t *testing.T) {
		rec := do(http.MethodHead, "/media/"+img.Name)
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.Bytes())
		assert.Equal(t, "image/png", rec.Header().Get("Content-Type"))
	})
	t.Run("NotModified", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/media/"+img.Name, nil)
		req.Header.Set("If-None-Match", do(http.MethodGet, "/media/"+img.Name).Header().Get("ETag"))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusNotModified, rec.Code)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, p := range []string{
			"/media/0123456789abcdef0123456789abcdef.png", // well-formed, not stored
			"/media/" + strings.TrimSuffix(img.Name, ".png") + ".gif",
			"/media/../blog.go", "/media/..%2fblog.go", "/media/", "/media/x.png",
			"/media/" + strings.ToUpper(img.Name),
			"/media/.upload-123",
		} {
			rec := do(http.MethodGet, p)
			assert.Equal(t, http.StatusNotFound, rec.Code, p)
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), p)
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		rec := do(http.MethodPost, "/media/"+img.Name)
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	})
}

func TestNewImages(t *testing.T) {
	_, err := blog.NewImages("", blog.ImageOptions{})
	assert.Error(t, err)
}
