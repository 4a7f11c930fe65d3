package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
)

// demoPost is one post SeedDemoBlog writes.
type demoPost struct {
	title, content string
	age            time.Duration // published this long ago; 0: a draft
	art            func() (*image.RGBA, bool)
}

// demoPosts are the demo blog, oldest first; the last is a draft.
var demoPosts = []demoPost{
	{
		title: "Welcome to SkyChimp: mailings that run themselves",
		age:   21 * 24 * time.Hour,
		art:   artWelcome,
		content: `Staying in touch with your customers should not mean setting an alarm every Monday morning. SkyChimp keeps your client list, your messages and your schedule in one place, and sends each mailing on time, every time.

Add your clients, write a message once (greet every reader by name with {{.Name}}), and choose when the mailing starts, when it ends and how often it repeats: daily, weekly or monthly, in your own time zone. From then on there is nothing to remember: when a mailing is due, it goes out.

Every send is recorded. For each mailing you see every run and every client: delivered, refused, or waiting for another try, with the mail server's own answer.

Create a free account and send your first mailing today.`,
	},
	{
		title: "Five tips for a newsletter people actually open",
		age:   14 * 24 * time.Hour,
		art:   artTips,
		content: `A newsletter is only as good as the number of people who read it. Here are five habits of mailings that get opened.

1. Write the subject line last. Once the message is done, you know what it is really about: say that, in under fifty characters.

2. Use the reader's name, once. "Hello {{.Name}}" at the top reads as a letter, not a flyer. More than once reads as a trick.

3. One message, one action. Ask for one thing (book, reply, read) and make it easy to find.

4. Keep a rhythm. Readers trust a mailing that arrives when they expect it. SkyChimp sends at the same time of day on every run, so your Tuesday letter always lands on Tuesday.

5. Make leaving easy. Every SkyChimp message carries a one-click unsubscribe link. A reader who can leave at any moment is a reader who stays calm, and your list stays healthy.`,
	},
	{
		title: "Daily, weekly or monthly: choosing the right rhythm",
		age:   9 * 24 * time.Hour,
		art:   artRhythm,
		content: `How often should you write? It depends on what you have to say.

Daily suits short, time-bound news: today's menu, the offer of the day, a countdown to an event. Keep it brief and give the mailing an end date.

Weekly is the classic newsletter: enough time to gather real news, frequent enough to be remembered.

Monthly suits digests, reports and long-term customers. SkyChimp counts months the way a calendar does: a mailing started on the 31st goes out on the last day of shorter months, never skipping one.

Whatever you pick, each run goes to every client exactly once, even if the service restarts in the middle of a send.`,
	},
	{
		title: "Reading your send reports",
		age:   4 * 24 * time.Hour,
		art:   artReports,
		content: `After each run, the mailing's report tells you what happened to every message.

Sent means the receiving server accepted it. Failed means it refused it for good: an address that does not exist, a mailbox closed. Those clients are worth a look.

Some refusals are only for now ("try again later"). SkyChimp tries again on its own, waiting a little longer each time, and records every attempt with the server's answer, so you always know why.

Your dashboard adds it all up: your mailings, how many are running now, and your sends per day over the last month.`,
	},
	{
		title: "Keeping your list clean: unsubscribes done right",
		age:   1 * 24 * time.Hour,
		art:   artClean,
		content: `A clean list gets better results than a long one. Every message SkyChimp sends carries a personal unsubscribe link, and the headers that let mail apps show their own one-click "Unsubscribe" button.

When a client uses it, they leave your mailings at once: no login, no form, no "are you sure?" maze. You keep the client in your list, with the reason in plain sight, and no mailing goes to them again.

Fewer complaints, fewer messages sent to people who do not read them, and a better reputation with mail providers: that is what makes the next mailing land in the inbox.`,
	},
	{
		title: "Coming soon: message templates with your brand",
		art:   artDraft,
		content: `We are working on ready-made message templates: your logo, your colours, and a layout that reads well on a phone.

(Draft: screenshots to come before we publish.)`,
	},
}

// SeedDemoBlog fills an empty blog with demo posts written by the user
// with email authorEmail (a content manager or a superuser): five
// published posts about the service, dated over the last three weeks, each
// with an image drawn here and stored through c.Blog.SetImage (so it is
// validated like an upload), and one draft. A blog that already has posts
// is left alone, so restarting with --demo is harmless.
func (a *App) SeedDemoBlog(ctx context.Context, c *Content, authorEmail string) error {
	_, total, err := c.BlogStore.ListPosts(ctx, blog.PostFilter{ListOptions: blog.ListOptions{Limit: 1}})
	if err != nil {
		return fmt.Errorf("demo blog: %w", err)
	}
	if total > 0 {
		return nil
	}
	author, err := a.AccountsStore.GetUserByEmail(ctx, accounts.NormalizeEmail(authorEmail))
	if err != nil {
		return fmt.Errorf("demo blog: author %s: %w", authorEmail, err)
	}
	ctx = accounts.WithUser(ctx, author)
	now := time.Now().UTC().Truncate(time.Minute)
	for _, d := range demoPosts {
		draft := blog.Draft{Title: d.title, Content: d.content, Published: d.age > 0}
		if d.age > 0 {
			draft.PublishedAt = now.Add(-d.age)
		}
		p, err := c.Blog.CreatePost(ctx, draft)
		if err != nil {
			return fmt.Errorf("demo blog: post %q: %w", d.title, err)
		}
		data, err := encodeArt(d.art())
		if err != nil {
			return fmt.Errorf("demo blog: image of %q: %w", d.title, err)
		}
		if _, err := c.Blog.SetImage(ctx, p.ID, bytes.NewReader(data)); err != nil {
			return fmt.Errorf("demo blog: image of %q: %w", d.title, err)
		}
	}
	return nil
}

// The demo images' size: 16:9, like the site's thumbnails.
const artW, artH = 960, 540

// encodeArt encodes img as JPEG, or as PNG when flat is set (flat colours
// compress well and stay crisp).
func encodeArt(img *image.RGBA, flat bool) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if flat {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	}
	return buf.Bytes(), err
}

func rgb(hex uint32) color.RGBA {
	return color.RGBA{uint8(hex >> 16), uint8(hex >> 8), uint8(hex), 255}
}

// fade is c with opacity alpha (0-255), premultiplied as image/color wants.
func fade(c color.RGBA, alpha uint8) color.RGBA {
	m := func(v uint8) uint8 { return uint8(uint16(v) * uint16(alpha) / 255) }
	return color.RGBA{m(c.R), m(c.G), m(c.B), alpha}
}

// canvas returns an image filled with a diagonal gradient from one colour
// (top left) to another (bottom right).
func canvas(from, to color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, artW, artH))
	mix := func(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t + 0.5) }
	for y := range artH {
		for x := range artW {
			t := (float64(x)/artW + float64(y)/artH) / 2
			img.SetRGBA(x, y, color.RGBA{mix(from.R, to.R, t), mix(from.G, to.G, t), mix(from.B, to.B, t), 255})
		}
	}
	return img
}

// shape is a mask: opaque where in is true, within bounds b.
type shape struct {
	b  image.Rectangle
	in func(x, y float64) bool
}

func (s shape) ColorModel() color.Model { return color.AlphaModel }
func (s shape) Bounds() image.Rectangle { return s.b }
func (s shape) At(x, y int) color.Color {
	if s.in(float64(x)+0.5, float64(y)+0.5) {
		return color.Alpha{A: 255}
	}
	return color.Alpha{}
}

// fill paints s on img in colour c (alpha blended).
func fill(img *image.RGBA, s shape, c color.RGBA) {
	r := s.b.Intersect(img.Bounds())
	draw.DrawMask(img, r, image.NewUniform(c), image.Point{}, s, r.Min, draw.Over)
}

func box(x0, y0, x1, y1 float64) image.Rectangle {
	return image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1))+1, int(math.Ceil(y1))+1)
}

func circle(cx, cy, r float64) shape {
	return shape{box(cx-r, cy-r, cx+r, cy+r), func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }}
}

func ring(cx, cy, r, width float64) shape {
	return shape{box(cx-r, cy-r, cx+r, cy+r), func(x, y float64) bool {
		d := math.Hypot(x-cx, y-cy)
		return d <= r && d >= r-width
	}}
}

func roundRect(x0, y0, x1, y1, rad float64) shape {
	return shape{box(x0, y0, x1, y1), func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx, cy := math.Max(x0+rad, math.Min(x, x1-rad)), math.Max(y0+rad, math.Min(y, y1-rad))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= rad*rad
	}}
}

// line is a stroke of width w from (x0, y0) to (x1, y1), with round ends.
func line(x0, y0, x1, y1, w float64) shape {
	dx, dy := x1-x0, y1-y0
	l2 := dx*dx + dy*dy
	return shape{box(math.Min(x0, x1)-w, math.Min(y0, y1)-w, math.Max(x0, x1)+w, math.Max(y0, y1)+w), func(x, y float64) bool {
		t := math.Max(0, math.Min(1, ((x-x0)*dx+(y-y0)*dy)/l2))
		px, py := x0+t*dx-x, y0+t*dy-y
		return px*px+py*py <= w*w/4
	}}
}

func triangle(ax, ay, bx, by, cx, cy float64) shape {
	side := func(px, py, qx, qy, x, y float64) float64 { return (qx-px)*(y-py) - (qy-py)*(x-px) }
	return shape{box(math.Min(ax, math.Min(bx, cx)), math.Min(ay, math.Min(by, cy)), math.Max(ax, math.Max(bx, cx)), math.Max(ay, math.Max(by, cy))),
		func(x, y float64) bool {
			d1, d2, d3 := side(ax, ay, bx, by, x, y), side(bx, by, cx, cy, x, y), side(cx, cy, ax, ay, x, y)
			return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0))
		}}
}

var white = rgb(0xffffff)

// artWelcome: bubbles rising on blue to teal, and a paper plane.
func artWelcome() (*image.RGBA, bool) {
	img := canvas(rgb(0x083f77), rgb(0x13a89e))
	for i, b := range [][3]float64{{120, 420, 70}, {260, 140, 40}, {430, 470, 28}, {820, 110, 90}, {700, 400, 50}, {560, 90, 22}, {900, 470, 34}} {
		fill(img, circle(b[0], b[1], b[2]), fade(white, uint8(40+15*(i%3))))
	}
	fill(img, triangle(360, 300, 640, 170, 470, 340), white)
	fill(img, triangle(470, 340, 640, 170, 500, 390), fade(rgb(0xcfe3f7), 255))
	return img, false
}

// artTips: an envelope on orange to pink.
func artTips() (*image.RGBA, bool) {
	img := canvas(rgb(0xff8a3d), rgb(0xe8457c))
	fill(img, roundRect(300, 150, 660, 400, 18), white)
	fill(img, triangle(300, 160, 660, 160, 480, 290), rgb(0xf3d9c9))
	fill(img, line(305, 160, 480, 290, 8), rgb(0xe8b9a1))
	fill(img, line(655, 160, 480, 290, 8), rgb(0xe8b9a1))
	for i := range 5 {
		fill(img, circle(150+float64(i)*165, 475, 14), fade(white, 180))
	}
	return img, false
}

// artRhythm: a calendar, some days marked daily, weekly or monthly.
func artRhythm() (*image.RGBA, bool) {
	img := image.NewRGBA(image.Rect(0, 0, artW, artH))
	draw.Draw(img, img.Bounds(), image.NewUniform(rgb(0xf6f7f9)), image.Point{}, draw.Src)
	fill(img, roundRect(180, 50, 780, 490, 20), white)
	fill(img, roundRect(180, 50, 780, 120, 20), rgb(0x0b57a4))
	draw.Draw(img, image.Rect(180, 100, 781, 121), image.NewUniform(rgb(0x0b57a4)), image.Point{}, draw.Src)
	const cell, gap = 74.0, 10.0
	for row := range 4 {
		for col := range 7 {
			x, y := 200+float64(col)*(cell+gap), 140+float64(row)*(cell+gap)
			c := rgb(0xe8f0fb)
			switch {
			case row == 0:
				c = rgb(0xffbf47) // daily: the first week, every day
			case col == 1:
				c = rgb(0x13a89e) // weekly: every Tuesday
			case row == 3 && col == 6:
				c = rgb(0xe8457c) // monthly
			}
			fill(img, roundRect(x, y, x+cell, y+cell, 10), c)
		}
	}
	return img, true
}

// artReports: a bar chart of sends, with failures on top.
func artReports() (*image.RGBA, bool) {
	img := image.NewRGBA(image.Rect(0, 0, artW, artH))
	draw.Draw(img, img.Bounds(), image.NewUniform(rgb(0xe8f0fb)), image.Point{}, draw.Src)
	fill(img, roundRect(80, 60, 880, 480, 16), white)
	base := 430.0
	for i, h := range []float64{180, 240, 210, 300, 270, 330, 290, 340} {
		x := 130 + float64(i)*92
		fail := h * 0.12
		fill(img, roundRect(x, base-h, x+60, base, 6), rgb(0x1b6b35))
		fill(img, roundRect(x, base-h, x+60, base-h+fail, 6), rgb(0xb3261e))
	}
	fill(img, line(110, base+4, 850, base+4, 4), rgb(0x4f5860))
	return img, true
}

// artClean: a tick in a ring on green.
func artClean() (*image.RGBA, bool) {
	img := canvas(rgb(0x1b6b35), rgb(0x5cc486))
	fill(img, circle(480, 270, 150), fade(white, 60))
	fill(img, ring(480, 270, 150, 16), white)
	fill(img, line(405, 275, 460, 330, 28), white)
	fill(img, line(460, 330, 565, 210, 28), white)
	return img, false
}

// artDraft: placeholders of a message template on purple to blue.
func artDraft() (*image.RGBA, bool) {
	img := canvas(rgb(0x5b3a9e), rgb(0x0b57a4))
	fill(img, roundRect(320, 60, 640, 480, 18), white)
	fill(img, roundRect(350, 90, 450, 140, 8), rgb(0xffbf47))
	for i := range 5 {
		y := 180 + float64(i)*44
		fill(img, roundRect(350, y, 610-float64(i%2)*60, y+18, 9), rgb(0xc9ced4))
	}
	return img, false
}
