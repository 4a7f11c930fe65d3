package smtpmailer

import (
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/internal/htmltext"
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

// Render returns the message for e (CRLF line ends), as sent over SMTP
// and written to .eml files. from and fromName are the sender used when
// e.From is empty.
//
// The message carries From and To (names encoded per RFC 2047), the
// Subject (UTF-8, encoded where needed, folded), Date, a Message-ID
// <random@sender-domain>, MIME-Version, List-Unsubscribe and
// List-Unsubscribe-Post (RFC 8058 one-click) when e.ListUnsubscribe is set,
// e.Headers in name order, and a multipart/alternative body: the
// text/plain part (e.Text, or one derived from e.HTML) then the text/html
// part, both UTF-8 and quoted-printable. Without HTML the body is the
// text/plain part alone. Errors wrap ErrInvalidEnvelope.
func Render(e mailing.Envelope, from, fromName string) ([]byte, error) {
	b, err := appendMessage(make([]byte, 0, messageSize(e)), e, from, fromName)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// messageSize estimates the size of e's message: room for the headers and
// for quoted-printable's growth.
func messageSize(e mailing.Envelope) int {
	text := len(e.Text)
	if text == 0 {
		text = len(e.HTML) / 2
	}
	return 1024 + len(e.Subject)*3 + (len(e.HTML)+text)*9/8
}

// appendMessage appends the message Render returns to b. The work per
// message is linear in its size: headers are written directly and both
// parts are quoted-printable encoded in one pass each.
func appendMessage(b []byte, e mailing.Envelope, from, fromName string) ([]byte, error) {
	if e.From != "" {
		from, fromName = e.From, ""
	}
	if e.FromName != "" {
		fromName = e.FromName
	}
	if from == "" {
		return b, fmt.Errorf("%w: no sender address", ErrInvalidEnvelope)
	}
	fromAddr, err := parseAddr(from)
	if err != nil {
		return b, fmt.Errorf("%w: sender %q: %v", ErrInvalidEnvelope, from, err)
	}
	toAddr, err := parseAddr(e.To)
	if err != nil {
		return b, fmt.Errorf("%w: recipient %q: %v", ErrInvalidEnvelope, e.To, err)
	}
	if e.ListUnsubscribe != "" {
		if err := checkUnsubscribeURL(e.ListUnsubscribe); err != nil {
			return b, fmt.Errorf("%w: list-unsubscribe %q: %v", ErrInvalidEnvelope, e.ListUnsubscribe, err)
		}
	}
	var keys [8]string
	names := keys[:0]
	for k := range e.Headers {
		if !validHeaderName(k) {
			return b, fmt.Errorf("%w: header name %q", ErrInvalidEnvelope, k)
		}
		if slices.Contains(reservedHeaders, strings.ToLower(k)) {
			return b, fmt.Errorf("%w: header %q is set from the envelope's fields", ErrInvalidEnvelope, k)
		}
		names = append(names, k)
	}
	slices.Sort(names)

	b = append(b, "From: "...)
	b = append(b, (&netmail.Address{Name: fromName, Address: fromAddr}).String()...)
	b = append(b, "\r\nTo: "...)
	b = append(b, (&netmail.Address{Name: e.ToName, Address: toAddr}).String()...)
	b = append(b, "\r\n"...)
	b = appendUnstructured(b, "Subject", e.Subject)
	b = append(b, "Date: "...)
	b = time.Now().AppendFormat(b, time.RFC1123Z)
	b = append(b, "\r\nMessage-ID: <"...)
	b = append(b, rand.Text()...)
	b = append(b, '@')
	b = append(b, messageIDDomain(fromAddr)...)
	b = append(b, ">\r\nMIME-Version: 1.0\r\n"...)
	if e.ListUnsubscribe != "" {
		b = append(b, "List-Unsubscribe: <"...)
		b = append(b, e.ListUnsubscribe...)
		b = append(b, ">\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"...)
	}
	for _, k := range names {
		b = appendUnstructured(b, k, e.Headers[k])
	}

	text := e.Text
	if text == "" && e.HTML != "" {
		text = htmltext.Convert(e.HTML)
	}
	if e.HTML == "" {
		b = append(b, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
		return appendQP(b, text), nil
	}
	boundary := rand.Text()
	b = append(b, "Content-Type: multipart/alternative; boundary=\""...)
	b = append(b, boundary...)
	b = append(b, "\"\r\n\r\n--"...)
	b = append(b, boundary...)
	b = append(b, "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
	b = appendQP(b, text)
	b = append(b, "\r\n--"...)
	b = append(b, boundary...)
	b = append(b, "\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
	b = appendQP(b, e.HTML)
	b = append(b, "\r\n--"...)
	b = append(b, boundary...)
	b = append(b, "--\r\n"...)
	return b, nil
}

// appendUnstructured appends the header "name: value" (RFC 5322
// unstructured), the value RFC 2047 encoded when it is not plain ASCII
// (so a line break in it cannot start another header),
// folded at spaces to lines of at most 78 characters where it can be.
func appendUnstructured(b []byte, name, value string) []byte {
	value = mime.QEncoding.Encode("UTF-8", value)
	b = append(b, name...)
	b = append(b, ':')
	line := len(name) + 1
	for w := range strings.SplitSeq(value, " ") {
		if line+1+len(w) > 78 && line > 1 {
			b = append(b, "\r\n"...) // fold: the space starts the next line
			line = 0
		}
		b = append(b, ' ')
		b = append(b, w...)
		line += 1 + len(w)
	}
	return append(b, "\r\n"...)
}

// qpPlain marks the bytes quoted-printable writes as they are: printable
// ASCII but "=", and space and tab (encoded only at the end of a line).
var qpPlain = func() (t [256]bool) {
	for c := ' '; c <= '~'; c++ {
		t[c] = c != '='
	}
	t['\t'] = true
	return t
}()

const qpLine = 75 // characters per encoded line before a soft break ("=")

// appendQP appends s quoted-printable encoded (RFC 2045): line breaks of
// s (LF or CRLF) become CRLF, lines longer than 76 characters get soft
// breaks, and white space at the end of a line and a "." at its start are
// encoded (so the message needs no dot-stuffing in SMTP). Runs of plain
// bytes are copied whole.
func appendQP(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	line := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			b = append(b, '\r', '\n')
			line = 0
			i++
			continue
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			b = append(b, '\r', '\n')
			line = 0
			i += 2
			continue
		case qpPlain[c] && !(c == '.' && line == 0):
			j, lim := i, min(len(s), i+qpLine-line)
			for j < lim && qpPlain[s[j]] {
				j++
			}
			if last := s[j-1]; (last == ' ' || last == '\t') && (j == len(s) || s[j] == '\n' || s[j] == '\r') {
				j-- // white space before a line end is encoded
			}
			if j > i {
				b = append(b, s[i:j]...)
				line += j - i
				i = j
				if line >= qpLine && i < len(s) && s[i] != '\n' && s[i] != '\r' {
					b = append(b, '=', '\r', '\n')
					line = 0
				}
				continue
			}
		}
		if line+3 > qpLine {
			b = append(b, '=', '\r', '\n')
			line = 0
		}
		b = append(b, '=', hex[c>>4], hex[c&15])
		line += 3
		i++
	}
	return b
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
