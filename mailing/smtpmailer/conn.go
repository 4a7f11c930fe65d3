package smtpmailer

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/skychimp/skychimp/mailing"
)

// trackConn is the innermost connection (under any TLS layer). It lets the
// mailer cut a connection short from another goroutine (kill, used when ctx
// ends) and remembers whether a write failed, which tells a body that never
// fully left from one whose reply was lost.
type trackConn struct {
	net.Conn
	mu          sync.Mutex
	killed      bool
	writeFailed atomic.Bool
}

var past = time.Unix(1, 0)

// arm starts an operation that must end by deadline.
func (c *trackConn) arm(deadline time.Time) {
	c.writeFailed.Store(false)
	_ = c.SetDeadline(deadline)
}

// kill makes every pending and future read and write fail at once.
func (c *trackConn) kill() {
	c.mu.Lock()
	c.killed = true
	_ = c.Conn.SetDeadline(past)
	c.mu.Unlock()
}

func (c *trackConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		t = past
	}
	return c.Conn.SetDeadline(t)
}

func (c *trackConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		t = past
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *trackConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		t = past
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c *trackConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.writeFailed.Store(true)
	}
	return n, err
}

// conn is one pooled SMTP session.
type conn struct {
	raw        *trackConn
	c          *smtp.Client
	pipelining bool // send MAIL, RCPT and DATA in one write (RFC 2920)
}

// phase is the step of a transaction that failed.
type phase int

const (
	phaseConnect phase = iota // dial, greeting, EHLO, STARTTLS, AUTH
	phaseMail                 // MAIL FROM
	phaseRcpt                 // RCPT TO
	phaseData                 // the DATA command
	phaseBody                 // writing the message
	phaseReply                // waiting for the reply to the final "."
)

func (p phase) String() string {
	return [...]string{"connect", "MAIL FROM", "RCPT TO", "DATA", "message body", "reply to the message body"}[p]
}

// exchange runs one mail transaction. from and to are SMTP paths
// ("<name@example.com>").
func (pc *conn) exchange(from, to string, body []byte) (mailing.Reply, phase, error) {
	if pc.pipelining {
		return pc.exchangePipelined(from, to, body)
	}
	if err := pc.c.Mail(from); err != nil {
		return mailing.Reply{}, phaseMail, err
	}
	if err := pc.c.Rcpt(to); err != nil {
		return mailing.Reply{}, phaseRcpt, err
	}
	w, err := pc.c.Data()
	if err != nil {
		return mailing.Reply{}, phaseData, err
	}
	if _, err := w.Write(body); err != nil {
		return mailing.Reply{}, phaseBody, err
	}
	if err := w.Close(); err != nil {
		return mailing.Reply{}, phaseReply, err
	}
	reply := mailing.Reply{Code: 250}
	if dc, ok := w.(*smtp.DataCloser); ok {
		reply.Text = strings.TrimSpace(dc.ServerResponse())
	}
	return reply, phaseReply, nil
}

// exchangePipelined sends MAIL FROM, RCPT TO and DATA in one write and
// reads the three replies in order, then the body: two round trips per
// message instead of four.
func (pc *conn) exchangePipelined(from, to string, body []byte) (mailing.Reply, phase, error) {
	t := pc.c.Text
	mail := "MAIL FROM:" + from
	if !isASCII(from + to) {
		if ok, _ := pc.c.Extension("SMTPUTF8"); ok {
			mail += " SMTPUTF8"
		}
	}
	if _, err := t.W.WriteString(mail + "\r\nRCPT TO:" + to + "\r\nDATA\r\n"); err != nil {
		return mailing.Reply{}, phaseMail, err
	}
	if err := t.W.Flush(); err != nil {
		return mailing.Reply{}, phaseMail, err
	}
	// Read every reply, even after a refusal, to stay in step.
	steps := [...]struct {
		ph   phase
		want int
	}{{phaseMail, 250}, {phaseRcpt, 25}, {phaseData, 354}}
	var first, dataErr error
	firstPh := phaseMail
	for _, st := range steps {
		_, _, err := t.ReadResponse(st.want)
		if err != nil && !isReply(err) {
			// The stream is broken; a refusal read before (such as 421,
			// after which servers hang up) is the better explanation.
			_ = pc.raw.Close()
			if first != nil {
				return mailing.Reply{}, firstPh, first
			}
			return mailing.Reply{}, st.ph, err
		}
		if err != nil && first == nil {
			first, firstPh = err, st.ph
		}
		dataErr = err
	}
	if first != nil {
		if dataErr == nil {
			// DATA was accepted although MAIL or RCPT failed (RFC 2920
			// forbids it): the server waits for a body we will not send.
			// Closing the connection aborts the transaction.
			_ = pc.raw.Close()
		}
		return mailing.Reply{}, firstPh, first
	}
	if err := writeData(t.W, body); err != nil {
		return mailing.Reply{}, phaseBody, err
	}
	code, msg, err := t.ReadResponse(250)
	if err != nil {
		return mailing.Reply{}, phaseReply, err
	}
	return mailing.Reply{Code: code, Text: strings.TrimSpace(msg)}, phaseReply, nil
}

// writeData writes a message as the content of DATA and its final ".".
// A message whose lines all end in CRLF and none starts with "." (as
// Render makes them: quoted-printable encodes such a dot) goes out as it
// is, in one write; any other is dot-stuffed on the way.
func writeData(w *bufio.Writer, body []byte) error {
	if dotSafe(body) {
		if _, err := w.Write(body); err != nil {
			return err
		}
		end := "\r\n.\r\n"
		if len(body) == 0 || bytes.HasSuffix(body, []byte("\r\n")) {
			end = ".\r\n"
		}
		if _, err := w.WriteString(end); err != nil {
			return err
		}
		return w.Flush()
	}
	dw := textproto.NewWriter(w).DotWriter()
	if _, err := dw.Write(body); err != nil {
		return err
	}
	return dw.Close()
}

// dotSafe says whether b needs no dot-stuffing: no line starts with "."
// and every line feed follows a carriage return, and no lone carriage
// return.
func dotSafe(b []byte) bool {
	if len(b) > 0 && b[0] == '.' {
		return false
	}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return bytes.IndexByte(b[i:], '\r') < 0
		}
		j += i
		if j == 0 || b[j-1] != '\r' || bytes.IndexByte(b[i:j-1], '\r') >= 0 || (j+1 < len(b) && b[j+1] == '.') {
			return false
		}
		i = j + 1
	}
}

func isReply(err error) bool {
	var tpe *textproto.Error
	return errors.As(err, &tpe)
}

// quit ends the session politely, within a short deadline.
func (pc *conn) quit() {
	_ = pc.raw.SetDeadline(time.Now().Add(time.Second))
	_ = pc.c.Quit()
	_ = pc.raw.Close()
}

// drop closes the connection without a word.
func (pc *conn) drop() { _ = pc.raw.Close() }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
