package adminhost

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Charts are drawn on the server as inline SVG: no script, no external
// library, readable without JavaScript. Each bar is a group of stacked
// rectangles (one per series, bottom up) with a <title> that screen
// readers and mouse hovers show; the pages put a table with the same
// numbers next to every chart.

// series is one kind of count in a chart, stacked bottom up.
type series struct {
	name  string // "sent"
	color string // its fill
}

// Series of the charts, with AdminLTE's colours.
var (
	seriesSent    = series{"sent", "#00a65a"}
	seriesFailed  = series{"failed", "#dd4b39"}
	seriesUnknown = series{"unknown", "#f39c12"}
	seriesPending = series{"pending", "#a0a7b0"}
)

// chartBar is one bar: its label on the axis (may be empty), its title
// (a full sentence for assistive technology) and a value per series.
type chartBar struct {
	label  string
	title  string
	values []int
}

// Chart geometry, in the SVG's own units (it scales to its box).
const (
	chartW      = 720
	chartH      = 240
	chartLeft   = 44 // room for the axis labels
	chartRight  = 8
	chartTop    = 12
	chartBottom = 36 // room for the bar labels
	chartLabels = 10 // at most this many bar labels
)

// barChart renders a stacked bar chart. id must be unique on the page;
// title names the chart; describedBy, when set, is the id of the table
// holding the same numbers.
func barChart(id, title, describedBy string, ss []series, bars []chartBar) template.HTML {
	var b strings.Builder
	maxTotal := 0
	for _, bar := range bars {
		t := 0
		for _, v := range bar.values {
			t += max(v, 0)
		}
		maxTotal = max(maxTotal, t)
	}
	top := niceCeil(maxTotal)
	plotW := float64(chartW - chartLeft - chartRight)
	plotH := float64(chartH - chartTop - chartBottom)
	step := plotW / float64(max(len(bars), 1))
	barW := step * 0.72
	if barW > 48 {
		barW = 48
	}
	labelEvery := (len(bars) + chartLabels - 1) / chartLabels

	desc := ""
	if describedBy != "" {
		desc = fmt.Sprintf(` aria-describedby="%s"`, html.EscapeString(describedBy))
	}
	fmt.Fprintf(&b, `<figure class="skychimp-chart" style="margin:0 0 1em"><svg id="%[1]s" role="img" aria-labelledby="%[1]s-title"%[2]s viewBox="0 0 %[3]d %[4]d" width="100%%" style="max-width:%[3]dpx;height:auto;display:block" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">`,
		html.EscapeString(id), desc, chartW, chartH)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, html.EscapeString(id), html.EscapeString(title))
	// Grid lines and the axis: 0, half and the top.
	for _, f := range []int{0, 2, 4} {
		v := top * f / 4
		y := float64(chartTop) + plotH - plotH*float64(v)/float64(top)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1"/>`,
			chartLeft, y, chartW-chartRight, y, map[bool]string{true: "#777", false: "#e3e3e3"}[v == 0])
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#444">%d</text>`, chartLeft-6, y+4, v)
	}
	for i, bar := range bars {
		x := float64(chartLeft) + step*float64(i) + (step-barW)/2
		y := float64(chartTop) + plotH
		fmt.Fprintf(&b, `<g class="bar"><title>%s</title>`, html.EscapeString(bar.title))
		// An invisible full-height rectangle, so that the title shows on
		// hover over short bars too.
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%.1f" fill="transparent"/>`, x, chartTop, barW, plotH)
		for j, v := range bar.values {
			if v <= 0 || j >= len(ss) {
				continue
			}
			h := plotH * float64(v) / float64(top)
			y -= h
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`,
				ss[j].name, x, y, barW, h, ss[j].color)
		}
		b.WriteString(`</g>`)
		// Label every labelEvery-th bar, counting back from the newest.
		if bar.label != "" && (len(bars)-1-i)%labelEvery == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#444">%s</text>`,
				x+barW/2, chartH-chartBottom+16, html.EscapeString(bar.label))
		}
	}
	b.WriteString(`</svg><figcaption>`)
	for _, s := range ss {
		fmt.Fprintf(&b, `<span style="display:inline-block;margin-right:1.2em"><span aria-hidden="true" style="display:inline-block;width:.9em;height:.9em;background:%s;vertical-align:middle;margin-right:.35em"></span>%s</span>`,
			s.color, html.EscapeString(s.name))
	}
	b.WriteString(`</figcaption></figure>`)
	return template.HTML(b.String())
}

// niceCeil rounds n up to a number that divides into four even steps of
// a round size (at least 4).
func niceCeil(n int) int {
	if n <= 4 {
		return 4
	}
	unit := 1
	for unit*10 < n {
		unit *= 10
	}
	for _, m := range []int{1, 2, 4, 5, 8, 10} {
		if c := unit * m; c >= n && c%4 == 0 {
			return c
		}
	}
	return (n + 3) / 4 * 4
}
