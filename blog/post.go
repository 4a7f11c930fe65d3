package blog

import (
	"fmt"
	"html"
	"html/template"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Post is one blog post.
//
// Content is plain text, not HTML: paragraphs are separated by blank
// lines, and http(s) addresses become links when rendered (see HTML).
// Nothing a content manager types can become markup, so there is no
// sanitiser to keep up to date and no stored script to worry about.
type Post struct {
	ID       int64
	AuthorID int64
	Title    string
	// Slug names the post in its public address. It is derived from the
	// title, unique, and frozen once the post has been published, so that
	// published links keep working.
	Slug    string
	Content string
	// ImagePath is the stored file name of the post's image (see Images),
	// "" when it has none; ImageType is its media type, e.g. "image/png".
	ImagePath string
	ImageType string
	Views     int64
	// Published posts are shown to the public; drafts are not.
	Published bool
	// PublishedAt is the publication date shown with the post: set when it
	// is first published (or given by the editor), kept when it is
	// unpublished and published again. Zero for a post never published.
	PublishedAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Summary is a post without its content, for lists: Excerpt is the start
// of the content (see Excerpt).
type Summary struct {
	ID          int64
	AuthorID    int64
	Title       string
	Slug        string
	Excerpt     string
	ImagePath   string
	ImageType   string
	Views       int64
	Published   bool
	PublishedAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Summary returns the post's summary.
func (p Post) Summary() Summary {
	return Summary{
		ID: p.ID, AuthorID: p.AuthorID, Title: p.Title, Slug: p.Slug, Excerpt: Excerpt(p.Content),
		ImagePath: p.ImagePath, ImageType: p.ImageType, Views: p.Views, Published: p.Published,
		PublishedAt: p.PublishedAt, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// Draft is what an editor writes: the input of CreatePost and UpdatePost.
type Draft struct {
	Title   string
	Content string
	// Published makes the post public.
	Published bool
	// PublishedAt, when not zero, is the publication date to show (for
	// posts moved from elsewhere); it may not lie in the future. Zero keeps
	// the stored date, or takes the time of publication.
	PublishedAt time.Time
}

// Limits on a post's fields, shared by validation and the SQL schemas.
const (
	MaxTitleLen   = 200     // characters
	MaxContentLen = 1 << 20 // bytes
	MaxSlugLen    = 80      // characters, before a "-N" suffix
	// ExcerptLen is the length of a Summary's Excerpt, in characters.
	ExcerptLen = 300
	// ExcerptSource is how many characters of the content Excerpt reads:
	// stores need fetch no more than that for a Summary.
	ExcerptSource = 2 * ExcerptLen
)

// Validate checks a draft's fields and trims the title.
func (d *Draft) Validate(now time.Time) error {
	var v validator
	d.Title = strings.TrimSpace(d.Title)
	d.Content = strings.TrimSpace(strings.ReplaceAll(d.Content, "\r\n", "\n"))
	switch {
	case d.Title == "":
		v.add("title", "is required")
	case utf8.RuneCountInString(d.Title) > MaxTitleLen:
		v.add("title", fmt.Sprintf("must be at most %d characters", MaxTitleLen))
	case strings.ContainsAny(d.Title, "\r\n"):
		v.add("title", "must be a single line")
	case !utf8.ValidString(d.Title):
		v.add("title", "is not valid UTF-8 text")
	}
	switch {
	case d.Content == "":
		v.add("content", "is required")
	case len(d.Content) > MaxContentLen:
		v.add("content", fmt.Sprintf("must be at most %d bytes", MaxContentLen))
	case !utf8.ValidString(d.Content):
		v.add("content", "is not valid UTF-8 text")
	case strings.ContainsRune(d.Content, 0):
		v.add("content", "must not contain NUL characters")
	}
	if !d.PublishedAt.IsZero() {
		d.PublishedAt = d.PublishedAt.UTC().Truncate(time.Second)
		if d.PublishedAt.After(now) {
			v.add("published_at", "must not be in the future")
		}
	}
	return v.err()
}

// Slugify derives a slug from a title: lower-case letters and digits of
// any script, words joined by "-", at most MaxSlugLen characters; "post"
// when nothing is left.
func Slugify(title string) string {
	var b strings.Builder
	n, dash := 0, false
	for _, r := range strings.ToLower(title) {
		if n >= MaxSlugLen {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
				n++
			}
			b.WriteRune(r)
			n++
			dash = false
			continue
		}
		dash = true
	}
	s := strings.TrimRight(b.String(), "-")
	if s == "" {
		return "post"
	}
	return s
}

// slugCandidate is the i-th slug tried for base: base, base-2, base-3...
func slugCandidate(base string, i int) string {
	if i <= 1 {
		return base
	}
	return fmt.Sprintf("%s-%d", base, i)
}

// Excerpt returns the start of content for a list: at most ExcerptLen
// characters with line breaks folded into spaces, cut at a word boundary
// with "…" when longer. It reads only the first ExcerptSource characters,
// so stores may pass just those.
func Excerpt(content string) string {
	truncated := false
	if utf8.RuneCountInString(content) > ExcerptSource {
		content, truncated = string([]rune(content)[:ExcerptSource]), true
	}
	s := strings.Join(strings.Fields(content), " ")
	if utf8.RuneCountInString(s) <= ExcerptLen && !truncated {
		return s
	}
	runes := []rune(s)
	if len(runes) > ExcerptLen {
		runes = runes[:ExcerptLen]
	}
	cut := len(runes)
	for i := len(runes) - 1; i > len(runes)/2; i-- {
		if runes[i] == ' ' {
			cut = i
			break
		}
	}
	return strings.TrimRight(string(runes[:cut]), " .,;:") + "…"
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"']+`)

// HTML renders plain-text content as safe HTML: every character escaped,
// paragraphs (separated by blank lines) in <p>, single line breaks as
// <br>, and http(s) addresses as links that open no window access
// (rel="nofollow noopener noreferrer").
func HTML(content string) template.HTML {
	var b strings.Builder
	content = strings.ReplaceAll(content, "\r\n", "\n")
	for _, para := range strings.Split(content, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			writeLinked(&b, line)
		}
		b.WriteString("</p>\n")
	}
	return template.HTML(b.String()) //nolint:gosec // every piece of input is escaped above
}

// HTML renders the post's content: see the function HTML.
func (p Post) HTML() template.HTML { return HTML(p.Content) }

func writeLinked(b *strings.Builder, line string) {
	last := 0
	for _, m := range linkRE.FindAllStringIndex(line, -1) {
		start, end := m[0], m[1]
		// Trailing punctuation belongs to the sentence, not the address.
		for end > start && strings.ContainsRune(".,;:!?)", rune(line[end-1])) {
			end--
		}
		b.WriteString(html.EscapeString(line[last:start]))
		u := html.EscapeString(line[start:end])
		b.WriteString(`<a href="` + u + `" rel="nofollow noopener noreferrer">` + u + `</a>`)
		last = end
	}
	b.WriteString(html.EscapeString(line[last:]))
}
