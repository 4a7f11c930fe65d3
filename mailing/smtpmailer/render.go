package smtpmailer

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	netmail "net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/wneessen/go-mail"

	"github.com/skychimp/skychimp/mailing"
)

// ErrInvalidEnvelope is wrapped by the error for an envelope that cannot be
// turned into a message (bad address, bad header, no sender).
var ErrInvalidEnvelope = errors.New("smtpmailer: invalid envelope")

// reservedHeaders are built from the Envelope's fields and cannot be set
// through Envelope.Headers.
var reservedHeaders = []string{
	"bcc", "cc", "content-transfer-encoding", "content-type", "date", "from",
	"list-unsubscribe", "list-unsubscribe-post", "message-id", "mime-version",
	"reply-to", "return-path", "sender", "subject", "to",
}

// NewMsg builds the message for e. from and fromName are the sender used
// when e.From is empty. The message carries From and To (names encoded per
// RFC 2047), the Subject (UTF-8, encoded), Date, a Message-ID
// <random@sender-domain>, a text/plain part (e.Text, or one derived from
// e.HTML) and the text/html part as its alternative, List-Unsubscribe and
// List-Unsubscribe-Post (RFC 8058 one-click) when e.ListUnsubscribe is set,
// and e.Headers. Errors wrap ErrInvalidEnvelope.
func NewMsg(e mailing.Envelope, from, fromName string) (*mail.Msg, error) {
	if e.From != "" {
		from, fromName = e.From, ""
	}
	if e.FromName != "" {
		fromName = e.FromName
	}
	if from == "" {
		return nil, fmt.Errorf("%w: no sender address", ErrInvalidEnvelope)
	}
	fromAddr, err := parseAddr(from)
	if err != nil {
		return nil, fmt.Errorf("%w: sender %q: %v", ErrInvalidEnvelope, from, err)
	}
	toAddr, err := parseAddr(e.To)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient %q: %v", ErrInvalidEnvelope, e.To, err)
	}

	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	m.FromMailAddress(&netmail.Address{Name: fromName, Address: fromAddr})
	m.AddToMailAddress(&netmail.Address{Name: e.ToName, Address: toAddr})
	m.Subject(e.Subject)
	m.SetDate()
	m.SetMessageIDWithValue(rand.Text() + "@" + messageIDDomain(fromAddr))

	text := e.Text
	if text == "" && e.HTML != "" {
		text = htmlToText(e.HTML)
	}
	m.SetBodyString(mail.TypeTextPlain, text)
	if e.HTML != "" {
		m.AddAlternativeString(mail.TypeTextHTML, e.HTML)
	}

	if e.ListUnsubscribe != "" {
		if err := checkUnsubscribeURL(e.ListUnsubscribe); err != nil {
			return nil, fmt.Errorf("%w: list-unsubscribe %q: %v", ErrInvalidEnvelope, e.ListUnsubscribe, err)
		}
		m.SetListUnsubscribe(e.ListUnsubscribe)
		m.SetListUnsubscribePost()
	}

	keys := make([]string, 0, len(e.Headers))
	for k := range e.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("%w: header name %q", ErrInvalidEnvelope, k)
		}
		if slices.Contains(reservedHeaders, strings.ToLower(k)) {
			return nil, fmt.Errorf("%w: header %q is set from the envelope's fields", ErrInvalidEnvelope, k)
		}
		m.SetGenHeader(mail.Header(k), e.Headers[k])
	}
	return m, nil
}

// Render returns the bytes of the message NewMsg builds for e (CRLF line
// ends), as sent over SMTP and written to .eml files.
func Render(e mailing.Envelope, from, fromName string) ([]byte, error) {
	m, err := NewMsg(e, from, fromName)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEnvelope, err)
	}
	return buf.Bytes(), nil
}

func messageIDDomain(addr string) string {
	d := strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
	for _, r := range d {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("<>()[]\\,;:\"@", r) {
			return "localhost"
		}
	}
	if d == "" {
		return "localhost"
	}
	return d
}

func checkUnsubscribeURL(s string) error {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == ',' {
			return errors.New("want an ASCII URL without spaces, commas or angle brackets")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" {
			return errors.New("no host")
		}
	case "mailto":
	default:
		return fmt.Errorf("scheme %q: want https, http or mailto", u.Scheme)
	}
	return nil
}

// validHeaderName: RFC 5322 field names are printable ASCII except colon.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

var (
	reNewline = regexp.MustCompile(`\r\n|\r|\n`)
	reComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	reDrop    = regexp.MustCompile(`(?is)<(script|style|head|title)\b[^>]*>.*?</(script|style|head|title)\s*>`)
	reLink    = regexp.MustCompile(`(?is)<a\s[^>]*?href\s*=\s*["']([^"']*)["'][^>]*>(.*?)</a\s*>`)
	reBreak   = regexp.MustCompile(`(?i)<\s*(br|hr|/p|p|/div|/h[1-6]|/tr|/table|/ul|/ol|/blockquote)\b[^>]*>`)
	reItem    = regexp.MustCompile(`(?i)<\s*li\b[^>]*>`)
	reTag     = regexp.MustCompile(`(?s)<[^>]*>`)
	reSpaces  = regexp.MustCompile(`[ \t\f\v\x{00a0}]+`)
	reBlank   = regexp.MustCompile(`\n{3,}`)
)

// htmlToText is a plain rendering of an HTML body: tags stripped, block
// ends as line breaks, links as "text (url)", entities decoded.
func htmlToText(h string) string {
	s := reNewline.ReplaceAllString(h, " ")
	s = reComment.ReplaceAllString(s, "")
	s = reDrop.ReplaceAllString(s, "")
	s = reLink.ReplaceAllStringFunc(s, func(a string) string {
		m := reLink.FindStringSubmatch(a)
		href := html.UnescapeString(m[1])
		text := strings.TrimSpace(reTag.ReplaceAllString(m[2], ""))
		switch {
		case href == "" || strings.HasPrefix(href, "#"):
			return text
		case text == "" || html.UnescapeString(text) == href:
			return href
		}
		return text + " (" + href + ")"
	})
	s = reBreak.ReplaceAllString(s, "\n")
	s = reItem.ReplaceAllString(s, "\n- ")
	s = reTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(reSpaces.ReplaceAllString(l, " "))
	}
	s = reBlank.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(s) + "\n"
}
