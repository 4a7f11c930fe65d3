package blog

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/image/webp"
)

// Defaults of ImageOptions.
const (
	DefaultMaxImageBytes = 5 << 20 // 5 MiB
	DefaultMaxImageSide  = 4096    // pixels, each of width and height
)

// imageTypes are the accepted media types and the extension each is
// stored with.
var imageTypes = map[string]string{
	"image/png":  ".png",
	"image/jpeg": ".jpg",
	"image/gif":  ".gif",
	"image/webp": ".webp",
}

// typeOfExt is the reverse of imageTypes, for serving.
var typeOfExt = map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}

// nameRE matches the names Images gives files: 32 random hex digits and a
// known extension. Nothing else is ever opened or served.
var nameRE = regexp.MustCompile(`^[0-9a-f]{32}\.(png|jpg|gif|webp)$`)

// ImageOptions limit what Images accepts. Zero fields take the defaults.
type ImageOptions struct {
	MaxBytes int64 // the largest file accepted (DefaultMaxImageBytes)
	MaxSide  int   // the largest width or height in pixels (DefaultMaxImageSide)
}

// Images keeps the posts' images as files in one directory, under random
// names, and serves them.
//
// Save accepts only PNG, JPEG, GIF and WebP, recognised by their content
// (never by a file name or a browser's claim), within the size and pixel
// limits, and only when the whole image decodes: a damaged or truncated
// image is refused. Everything is checked in memory before a byte is
// written, so a refused upload never reaches the disk, and a saved file
// appears under its final name only once complete.
type Images struct {
	dir  string
	opts ImageOptions
}

// NewImages returns the image store of directory dir, creating it (0750)
// when missing.
func NewImages(dir string, o ImageOptions) (*Images, error) {
	if dir == "" {
		return nil, errors.New("blog: images: no directory given")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxImageBytes
	}
	if o.MaxSide <= 0 {
		o.MaxSide = DefaultMaxImageSide
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blog: images: %w", err)
	}
	return &Images{dir: dir, opts: o}, nil
}

// Image describes a stored image.
type Image struct {
	Name   string // the file's name in the directory, e.g. "3f…9a.png"
	Type   string // its media type, e.g. "image/png"
	Width  int
	Height int
	Size   int64 // bytes
}

// ImageError says why an image was refused, in words for the person who
// uploaded it. It matches ErrImage.
type ImageError struct {
	Reason string
}

func (e *ImageError) Error() string { return "blog: image refused: " + e.Reason }

// Is makes errors.Is(err, ErrImage) true.
func (e *ImageError) Is(target error) bool { return target == ErrImage }

func refuse(format string, args ...any) error {
	return &ImageError{Reason: fmt.Sprintf(format, args...)}
}

// Check reads an image from r and validates it without storing anything.
// Refusals are *ImageError; other errors come from r.
func (im *Images) Check(r io.Reader) (Image, []byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, im.opts.MaxBytes+1))
	if err != nil {
		return Image{}, nil, fmt.Errorf("blog: read image: %w", err)
	}
	img, err := im.CheckBytes(data)
	return img, data, err
}

// CheckBytes validates an image held in memory; see Check.
func (im *Images) CheckBytes(data []byte) (Image, error) {
	switch {
	case len(data) == 0:
		return Image{}, refuse("the file is empty")
	case int64(len(data)) > im.opts.MaxBytes:
		return Image{}, refuse("the file is larger than %s", humanBytes(im.opts.MaxBytes))
	}
	typ := http.DetectContentType(data)
	ext, ok := imageTypes[typ]
	if !ok {
		return Image{}, refuse("the file is not a PNG, JPEG, GIF or WebP image (its content looks like %s)", strings.SplitN(typ, ";", 2)[0])
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || "image/"+format != typ {
		return Image{}, refuse("the file is damaged: it does not decode as the %s image it claims to be", strings.TrimPrefix(typ, "image/"))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > im.opts.MaxSide || cfg.Height > im.opts.MaxSide {
		return Image{}, refuse("the image is %d×%d pixels; at most %d×%d are accepted", cfg.Width, cfg.Height, im.opts.MaxSide, im.opts.MaxSide)
	}
	// Decode it all (the dimensions are bounded now), so that a truncated
	// or damaged image is caught here and not in a reader's browser.
	if err := decodeAll(typ, data); err != nil {
		return Image{}, refuse("the file is damaged or incomplete: %s", plainDecodeError(err))
	}
	return Image{Type: typ, Width: cfg.Width, Height: cfg.Height, Size: int64(len(data)), Name: ext}, nil
}

func decodeAll(typ string, data []byte) error {
	r := bytes.NewReader(data)
	var err error
	switch typ {
	case "image/png":
		_, err = png.Decode(r)
	case "image/jpeg":
		_, err = jpeg.Decode(r)
	case "image/webp":
		_, err = webp.Decode(r)
	case "image/gif":
		// The first frame decodes; the rest is checked to end in the GIF
		// trailer, without holding every frame in memory.
		if _, err = gif.Decode(r); err == nil && data[len(data)-1] != 0x3B {
			err = io.ErrUnexpectedEOF
		}
	}
	return err
}

func plainDecodeError(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "it ends too early"
	}
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "png: "), "jpeg: ")
}

func humanBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Save validates the image read from r (see Check) and stores it under a
// new random name. A refused image (*ImageError, matching ErrImage) leaves
// nothing on disk; nor does a failed write.
func (im *Images) Save(r io.Reader) (Image, error) {
	img, data, err := im.Check(r)
	if err != nil {
		return Image{}, err
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Image{}, fmt.Errorf("blog: image name: %w", err)
	}
	img.Name = hex.EncodeToString(raw[:]) + img.Name // Name held the extension
	tmp, err := os.CreateTemp(im.dir, ".upload-*")
	if err != nil {
		return Image{}, fmt.Errorf("blog: save image: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return Image{}, fmt.Errorf("blog: save image: %w", err)
	}
	if err := tmp.Chmod(0o640); err != nil {
		return Image{}, fmt.Errorf("blog: save image: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Image{}, fmt.Errorf("blog: save image: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Image{}, fmt.Errorf("blog: save image: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(im.dir, img.Name)); err != nil {
		return Image{}, fmt.Errorf("blog: save image: %w", err)
	}
	ok = true
	return img, nil
}

// Remove deletes a stored image. A name Images never gives, or a file
// already gone, is not an error.
func (im *Images) Remove(name string) error {
	if !ValidImageName(name) {
		return nil
	}
	err := os.Remove(filepath.Join(im.dir, name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blog: remove image: %w", err)
	}
	return nil
}

// ValidImageName reports whether name is one Images gives its files.
func ValidImageName(name string) bool { return nameRE.MatchString(name) }

// ImageType returns the media type of a stored image's name, or "".
func ImageType(name string) string {
	if !ValidImageName(name) {
		return ""
	}
	return typeOfExt[filepath.Ext(name)]
}

// Handler serves the stored images by name, mounted under a prefix with
// http.StripPrefix:
//
//	mux.Handle("/media/", http.StripPrefix("/media/", images.Handler()))
//
// It answers only GET and HEAD for names Images gives (anything else is
// 404, so no path can reach another file), with the stored type as
// Content-Type and headers that keep an uploaded file from ever running
// as a page: X-Content-Type-Options: nosniff, a Content-Security-Policy
// that allows nothing and sandboxes the response, and
// Content-Disposition: inline. Names are never reused, so responses are
// cached for a year as immutable.
func (im *Images) Handler() http.Handler {
	return http.HandlerFunc(im.serve)
}

func (im *Images) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	typ := ImageType(name)
	if typ == "" {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(im.dir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", `inline; filename="`+name+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+strings.TrimSuffix(name, filepath.Ext(name))+`"`)
	http.ServeContent(w, r, name, st.ModTime().Truncate(time.Second), f)
}
