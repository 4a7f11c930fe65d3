// Package htmltext turns an HTML body into its plain-text alternative in
// one streaming pass over golang.org/x/net/html's tokenizer: no regular
// expressions, one allocation for the output.
package htmltext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Convert returns the plain-text rendering of h: the text of the document
// with runs of white space folded to one space; paragraphs, headings,
// lists, tables and block quotes separated by a blank line; line breaks
// for <br>, <div>, table rows and list items (which start with "- ");
// table cells of a row separated by a space; links as "text (url)" (just
// the url when the text is empty or the url itself; just the text for
// "#..." and javascript: links); the contents of <head>, <script>,
// <style>, <title>, <template> and comments left out; entities decoded.
// Lines are trimmed, and the result ends with one newline.
func Convert(h string) string { return ConvertMarked(h, 0) }

// ConvertMarked is Convert for a template's source whose actions were
// replaced by placeholders: mark, a number, mark. A link whose url is one
// placeholder gets, instead of " (url)", the placeholder with an "L" after
// its first mark, for the caller to turn into " (url)" written only when
// the url is not empty.
func ConvertMarked(h string, mark rune) string {
	c := converter{z: html.NewTokenizer(strings.NewReader(h)), mark: mark}
	c.out.Grow(len(h) / 2)
	c.run()
	return c.finish()
}

type converter struct {
	z      *html.Tokenizer
	out    strings.Builder
	skip   int    // depth inside elements whose content is dropped
	breaks int    // line breaks owed before the next text: 1 or 2
	space  bool   // a space is owed before the next word
	prefix string // written before the next text (a list item's "- ")
	cells  int    // cells seen in the current table row

	links []link // open <a> elements
	mark  rune   // see ConvertMarked; 0 for none
}

type link struct {
	href  string
	start int // out.Len() when the link's text began; -1 before its first word
}

func (c *converter) run() {
	for {
		tt := c.z.Next()
		switch tt {
		case html.ErrorToken:
			return // io.EOF, or input too large: what was read is converted
		case html.TextToken:
			if c.skip == 0 {
				c.text(c.z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := c.z.TagName()
			a := atom.Lookup(name)
			if dropped(a) {
				if tt == html.StartTagToken {
					c.skip++
				}
				continue
			}
			if c.skip > 0 {
				continue
			}
			c.start(a, hasAttr)
		case html.EndTagToken:
			name, _ := c.z.TagName()
			a := atom.Lookup(name)
			if dropped(a) {
				if c.skip > 0 {
					c.skip--
				}
				continue
			}
			if c.skip == 0 {
				c.end(a)
			}
		}
	}
}

func dropped(a atom.Atom) bool {
	switch a {
	case atom.Head, atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript:
		return true
	}
	return false
}

func (c *converter) start(a atom.Atom, hasAttr bool) {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Ul, atom.Ol, atom.Table, atom.Blockquote, atom.Pre, atom.Dl:
		c.brk(2)
	case atom.Br, atom.Div, atom.Hr, atom.Section, atom.Article, atom.Header, atom.Footer,
		atom.Center, atom.Dt, atom.Dd, atom.Address:
		c.brk(1)
	case atom.Tr:
		c.brk(1)
		c.cells = 0
	case atom.Td, atom.Th:
		if c.cells > 0 {
			c.space = true
		}
		c.cells++
	case atom.Li:
		c.brk(1)
		c.prefix = "- "
	case atom.A:
		var href string
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = c.z.TagAttr()
			if string(k) == "href" {
				href = strings.TrimSpace(string(v))
			}
		}
		c.links = append(c.links, link{href: href, start: -1})
	}
}

func (c *converter) end(a atom.Atom) {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Ul, atom.Ol, atom.Table, atom.Blockquote, atom.Pre, atom.Dl:
		c.brk(2)
	case atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Center,
		atom.Tr, atom.Li, atom.Dt, atom.Dd, atom.Address:
		c.brk(1)
	case atom.A:
		if len(c.links) == 0 {
			return
		}
		l := c.links[len(c.links)-1]
		c.links = c.links[:len(c.links)-1]
		c.closeLink(l)
	}
}

func (c *converter) closeLink(l link) {
	href := l.href
	if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(strings.ToLower(href), "javascript:") {
		return
	}
	var text string
	if l.start >= 0 {
		text = strings.TrimSpace(c.out.String()[l.start:])
	}
	switch {
	case text == href, strings.TrimPrefix(href, "mailto:") == text:
	case text == "":
		c.words(href)
	case c.placeholder(href):
		c.space = false
		c.word([]byte(string(c.mark) + "L" + href[utf8.RuneLen(c.mark):]))
	default:
		c.words("(" + href + ")")
	}
}

// placeholder says whether s is one placeholder of ConvertMarked.
func (c *converter) placeholder(s string) bool {
	if c.mark == 0 {
		return false
	}
	n := utf8.RuneLen(c.mark)
	if len(s) < 2*n+1 || !strings.HasPrefix(s, string(c.mark)) || !strings.HasSuffix(s, string(c.mark)) {
		return false
	}
	for _, r := range s[n : len(s)-n] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// brk owes n line breaks (the larger of what is owed) before the next text.
func (c *converter) brk(n int) {
	c.breaks = max(c.breaks, n)
	c.space = false
}

// text writes a text token's words.
func (c *converter) text(b []byte) {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if isSpace(r) {
			c.space = true
			b = b[size:]
			continue
		}
		i := 0
		for i < len(b) {
			r, size := utf8.DecodeRune(b[i:])
			if isSpace(r) {
				break
			}
			i += size
		}
		c.word(b[:i])
		b = b[i:]
	}
}

// words writes the words of s.
func (c *converter) words(s string) {
	c.space = true
	for _, w := range strings.FieldsFunc(s, isSpace) {
		c.word([]byte(w))
	}
}

// word writes one word, after what is owed before it.
func (c *converter) word(w []byte) {
	if c.out.Len() > 0 {
		switch {
		case c.breaks > 0:
			c.out.WriteString("\n\n"[:c.breaks])
		case c.space:
			c.out.WriteByte(' ')
		}
	}
	c.breaks, c.space = 0, false
	if c.prefix != "" {
		c.out.WriteString(c.prefix)
		c.prefix = ""
	}
	for i := range c.links {
		if c.links[i].start < 0 {
			c.links[i].start = c.out.Len()
		}
	}
	c.out.Write(w)
}

// isSpace is HTML's white space plus the other Unicode spaces (such as
// the no-break space of &nbsp;).
func isSpace(r rune) bool { return unicode.IsSpace(r) }

func (c *converter) finish() string {
	for len(c.links) > 0 { // unclosed links
		l := c.links[len(c.links)-1]
		c.links = c.links[:len(c.links)-1]
		c.closeLink(l)
	}
	s := c.out.String()
	if s == "" {
		return "\n"
	}
	return s + "\n"
}
