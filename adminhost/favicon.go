package adminhost

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
)

// faviconPath is where browsers ask for a site's icon by themselves.
const faviconPath = "/favicon.ico"

// favicon is the service's icon: an ICO file holding one 32×32 PNG, drawn
// in code (a white envelope on a blue disc), made once.
var favicon = sync.OnceValue(func() []byte {
	const n = 32
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	blue := color.NRGBA{R: 0x3c, G: 0x8d, B: 0xbc, A: 0xff}
	white := color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	for y := range n {
		for x := range n {
			dx, dy := float64(x)-15.5, float64(y)-15.5
			if dx*dx+dy*dy <= 15.5*15.5 {
				img.SetNRGBA(x, y, blue)
			}
		}
	}
	// The envelope: a rectangle with its flap's two diagonals.
	const left, right, top, bottom = 7, 24, 10, 21
	for y := top; y <= bottom; y++ {
		for x := left; x <= right; x++ {
			edge := x == left || x == right || y == top || y == bottom
			flap := y-top <= (right-left)/2 && (x-left == y-top || right-x == y-top)
			if edge || flap {
				img.SetNRGBA(x, y, white)
			}
		}
	}
	var p bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	var b bytes.Buffer
	// ICONDIR, then one ICONDIRENTRY pointing at the PNG right after them.
	_ = binary.Write(&b, binary.LittleEndian, struct {
		Reserved, Type, Count uint16
		Width, Height         uint8
		Colors, Reserved2     uint8
		Planes, BitCount      uint16
		Size, Offset          uint32
	}{Type: 1, Count: 1, Width: n, Height: n, Planes: 1, BitCount: 32, Size: uint32(p.Len()), Offset: 6 + 16})
	b.Write(p.Bytes())
	return b.Bytes()
})

// serveFavicon answers /favicon.ico (GET and HEAD), so that no page of
// the service gets a 404 for it.
func serveFavicon(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/x-icon", favicon())
}
