// Package newsletter holds the realistic campaign the benchmarks send: a
// personalised HTML newsletter of about 5 KB, and bodies of other sizes
// built from the same parts.
package newsletter

import (
	_ "embed"
	"strings"
)

// Subject is the newsletter's subject template.
const Subject = "{{.Name}}, here is what happened this week"

// HTML is the newsletter's body template (about 4.7 KB of source, 5 KB
// rendered): a table layout with inline styles, a button, eight links,
// a list, the recipient's name and address and an unsubscribe link
// ({{.Name}}, {{.Email}}, {{.UnsubscribeURL}}).
//
//go:embed newsletter.html
var HTML string

// paragraph is one block of filler for Sized.
const paragraph = `  <p>Our customers keep in touch with the people who matter to them: a short note about what is new,
  a tip they can use, and a link to read more <a href="https://example.com/news/more?utm_source=newsletter">on our site</a>.</p>
`

// Sized returns a body template of at least kb KiB: the newsletter itself
// when it is large enough, or a greeting, filler paragraphs and the
// newsletter's footer (name, address and unsubscribe link). kb <= 0 gives
// HTML.
func Sized(kb int) string {
	want := kb * 1024
	if want <= 0 || want == len(HTML) {
		return HTML
	}
	var b strings.Builder
	b.WriteString("<html><body>\n  <h1>Hello {{.Name}},</h1>\n")
	footer := "  <p>You receive this because {{.Email}} is subscribed. <a href=\"{{.UnsubscribeURL}}\">Unsubscribe</a></p>\n</body></html>\n"
	for b.Len()+len(footer) < want {
		b.WriteString(paragraph)
	}
	b.WriteString(footer)
	return b.String()
}

// PlainSized returns a body of at least kb KiB without markup: lines of
// text with the recipient's name, address and unsubscribe link.
func PlainSized(kb int) string {
	want := max(kb, 1) * 1024
	var b strings.Builder
	b.WriteString("Hello {{.Name}},\n\n")
	footer := "You receive this because {{.Email}} is subscribed. Unsubscribe: {{.UnsubscribeURL}}\n"
	for b.Len()+len(footer) < want {
		b.WriteString("Our customers keep in touch with the people who matter to them: a short note about what is new,\n" +
			"a tip they can use, and a link to read more on our site: https://example.com/news/more\n\n")
	}
	b.WriteString(footer)
	return b.String()
}
