package smtpmailer_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

// scriptIdle is how long the scripted server waits for the client's next
// line before it stops writing (a half-close, so the client reads EOF at
// once instead of waiting for its deadline), and then before it hangs up.
const scriptIdle = 25 * time.Millisecond

// scripted is an SMTP "server" that answers whatever the client sends with
// the next part of a script, byte for byte: the first part on connect, then
// one part per command line and one after each message body. When the
// script runs out it half-closes. It counts the message bodies it received
// in full (a "." line: dot-stuffing means no other line is just ".").
// Connections of one iteration share the script.
type scripted struct {
	mu        sync.Mutex
	parts     []string
	bodyEnds  int
	done      bool // the iteration is over: accept no more
	conns     sync.WaitGroup
	lastLines []string // the client's last lines, for failure messages
}

func (s *scripted) next() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.parts) == 0 {
		return "", false
	}
	p := s.parts[0]
	s.parts = s.parts[1:]
	return p, true
}

func (s *scripted) saw(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if line == ".\r\n" {
		s.bodyEnds++
	}
	if len(s.lastLines) == 12 {
		s.lastLines = s.lastLines[1:]
	}
	if len(line) > 80 {
		line = line[:80] + "..."
	}
	s.lastLines = append(s.lastLines, line)
}

func (s *scripted) serve(c *net.TCPConn) {
	defer s.conns.Done()
	defer c.Close()
	open := true
	reply := func() string {
		if !open {
			return ""
		}
		p, ok := s.next()
		if !ok {
			_ = c.CloseWrite()
			open = false
			return ""
		}
		if _, err := c.Write([]byte(p)); err != nil {
			open = false
		}
		return p
	}
	reply() // the greeting
	r := bufio.NewReader(c)
	inBody := false
	for {
		_ = c.SetReadDeadline(time.Now().Add(scriptIdle))
		line, err := r.ReadString('\n')
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && open {
				// The client waits for more of a reply: end it.
				_ = c.CloseWrite()
				open = false
				continue
			}
			return
		}
		s.saw(line)
		switch {
		case inBody && line == ".\r\n":
			inBody = false
			reply()
		case inBody:
		default:
			p := reply()
			// A client that sent DATA writes the body after a 354.
			if strings.EqualFold(strings.TrimSpace(line), "DATA") && strings.HasPrefix(p, "354") {
				inBody = true
			}
		}
	}
}

// scriptListener is one listener per test process, shared by iterations
// (they run one at a time), so that fuzzing does not use up ports.
var scriptListener = sync.OnceValues(func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") })

// Script modes, the bits of FuzzServerReplies' mode argument.
const (
	modeTwoSends     = 1 << iota // a second message, on the kept connection or a new one
	modeAuth                     // log in (PLAIN, LOGIN or CRAM-MD5, as offered)
	modeStartTLS                 // insist on STARTTLS
	modeNoPipelining             // never pipeline, even when offered
)

func script(parts ...string) string { return strings.Join(parts, "\x00") }

// FuzzServerReplies drives the mailer against a server answering with
// fuzzed bytes. Properties: Send returns within its timeouts; a failure is
// a *mailing.SendError of a valid kind, with a code only when the server
// gave a well-formed one; Permanent only for a 5xx; success only after the
// server got the whole message; and a message the server got in full is
// never reported as a failure without a server code (which the engine
// would retry as temporary: a duplicate), only as sent, a 4xx/5xx, or
// Unknown.
func FuzzServerReplies(f *testing.F) {
	ok := []string{"220 mx.example ESMTP\r\n", "250 mx.example\r\n", "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n", "250 2.0.0 Ok: queued as 1234\r\n", "221 2.0.0 Bye\r\n"}
	pipelining := "250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10240000\r\n"
	auth := "250-mx.example\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 PIPELINING\r\n"
	seeds := []struct {
		mode  byte
		parts []string
	}{
		{0, ok},
		{modeTwoSends, append(ok[:6:6], ok[2:]...)},
		{0, append([]string{ok[0], pipelining}, ok[2:]...)},
		{modeNoPipelining, append([]string{ok[0], pipelining}, ok[2:]...)},
		{0, []string{ok[0], ok[1], ok[2], "450 4.2.0 <ann@example.com>: Recipient address rejected: Greylisted\r\n", "250 reset\r\n"}},
		{0, []string{ok[0], ok[1], "550 5.7.1 Sender rejected\r\n", "250 reset\r\n"}},
		{modeTwoSends, []string{ok[0], ok[1], ok[2], ok[3], ok[4], ok[5], "421 4.4.2 Timeout, closing\r\n", ok[0], ok[1], ok[2], ok[3], ok[4], ok[5]}},
		{0, []string{ok[0], pipelining, ok[2], "550 5.1.1 No such user\r\n", "554 5.5.1 No valid recipients\r\n", "250 reset\r\n"}},
		{0, []string{ok[0], pipelining, ok[2], "550 5.1.1 No such user\r\n", ok[4]}}, // DATA accepted after a refused RCPT
		{0, ok[:5]}, // the connection drops after the body
		{0, append(ok[:5:5], "199 what?\r\n")},
		{0, append(ok[:5:5], "250-partial\r\n")},
		{0, append(ok[:5:5], "452 4.3.1 Insufficient system storage\r\n")},
		{0, append(ok[:5:5], "552 5.3.4 Message too big\r\n")},
		{0, []string{"garbage\r\n"}},
		{0, []string{"554 5.3.2 No service\r\n"}},
		{0, []string{ok[0], "502 5.5.2 EHLO not understood\r\n", "250 helo\r\n", ok[2], ok[3], ok[4], ok[5]}},
		{0, []string{ok[0], ok[1], ok[2], ok[3], "354 go\r\n250 early\r\n", "250 late\r\n"}}, // a reply ahead of time
		{0, []string{"220-first\r\n220-second\r\n220 last\r\n", ok[1], ok[2], ok[3], ok[4], ok[5]}},
		{0, []string{"220 a\r\n", "250-x\r\n251 y\r\n"}},
		{0, []string{"220 a", "\r\n"}},
		{modeStartTLS, []string{ok[0], "250-mx.example\r\n250 STARTTLS\r\n", "220 2.0.0 Ready to start TLS\r\n", "\x16\x03\x01\x00\x05hello"}},
		{modeStartTLS, []string{ok[0], ok[1]}},
		{modeAuth, []string{ok[0], auth, "334 PDQxODkyLjE2OTYwMDAwMDBAbXguZXhhbXBsZT4=\r\n", "235 2.7.0 Authentication successful\r\n", ok[2], ok[3], ok[4], ok[5]}},
		{modeAuth, []string{ok[0], "250-mx.example\r\n250 AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n", "535 5.7.8 Authentication credentials invalid\r\n"}},
		{modeAuth, []string{ok[0], auth, "334 !!not base64!!\r\n", "501 bad\r\n"}},
		{modeAuth, []string{ok[0], "250-mx.example\r\n250 AUTH PLAIN\r\n", "235 ok\r\n", ok[2], ok[3], ok[4], ok[5]}},
	}
	for _, s := range seeds {
		f.Add(s.mode, script(s.parts...))
	}
	f.Fuzz(func(t *testing.T, mode byte, raw string) {
		parts := strings.Split(raw, "\x00")
		if len(parts) > 64 || len(raw) > 8<<10 {
			t.Skip("long scripts add nothing but time")
		}
		ln, err := scriptListener()
		require.NoError(t, err)
		srv := &scripted{parts: parts}
		accepting := make(chan struct{})
		go func() {
			defer close(accepting)
			for {
				c, err := ln.Accept()
				if err != nil || srv.stopping(c) {
					return
				}
				go srv.serve(c.(*net.TCPConn))
			}
		}()
		defer srv.stop(t, ln, accepting)

		cfg := smtpmailer.Config{
			Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, HELO: "client.test",
			From: "news@example.com", Connections: 1,
			DialTimeout: time.Second, SendTimeout: time.Second,
			NoPipelining: mode&modeNoPipelining != 0, InsecureSkipVerify: true,
		}
		if mode&modeAuth != 0 {
			cfg.Username, cfg.Password = "user", "secret"
		}
		if mode&modeStartTLS != 0 {
			cfg.TLS = smtpmailer.TLSStartTLS
		}
		m, err := smtpmailer.New(cfg)
		require.NoError(t, err)

		sends := 1
		if mode&modeTwoSends != 0 {
			sends = 2
		}
		var sent, unknown, coded int
		for i := range sends {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			began := time.Now()
			reply, err := m.Send(ctx, mailing.Envelope{To: "ann@example.com", Subject: "Hello " + strconv.Itoa(i), HTML: "<p>Hello</p>\n.\n..\n"})
			took := time.Since(began)
			cancel()
			// Each try is bounded by DialTimeout + SendTimeout, and a dead
			// reused connection is replaced once.
			require.Less(t, took, 4*time.Second+time.Second, "Send hung (script %q)", raw)
			t.Logf("send %d: %v, %v, in %s", i, reply, err, took.Round(time.Millisecond))
			if err == nil {
				sent++
				assert.True(t, reply.Code >= 200 && reply.Code < 300, "success with code %d", reply.Code)
				continue
			}
			var se *mailing.SendError
			require.True(t, errors.As(err, &se), "not a SendError: %v", err)
			assert.Contains(t, []mailing.FailureKind{mailing.Temporary, mailing.Permanent, mailing.Unknown}, se.Kind, "kind of %v", err)
			assert.NotEmpty(t, se.Error())
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "the test's own deadline ended a Send: %v", err)
			if se.Code != 0 {
				assert.True(t, se.Code >= 100 && se.Code <= 999, "code %d", se.Code)
			}
			if se.Kind == mailing.Permanent {
				assert.True(t, se.Code >= 500 && se.Code < 600, "permanent without a 5xx: %v", err)
			}
			switch {
			case se.Kind == mailing.Unknown:
				unknown++
			case se.Code >= 400 && se.Code < 600:
				coded++
			}
		}
		require.NoError(t, m.Close())
		srv.stop(t, ln, accepting)

		srv.mu.Lock()
		ends, lines := srv.bodyEnds, srv.lastLines
		srv.mu.Unlock()
		assert.LessOrEqual(t, sent+unknown, ends, "sent or unknown, but the server got only %d whole messages (client's last lines %q)", ends, lines)
		assert.LessOrEqual(t, ends, sent+unknown+coded,
			"the server got %d whole messages, but only %d were reported sent, unknown or refused with a code: a retry would send one twice (client's last lines %q)", ends, sent+unknown+coded, lines)
	})
}

// stopping reports whether the iteration is over (and closes c then), or
// counts c as one of the iteration's connections.
func (s *scripted) stopping(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		_ = c.Close()
		return true
	}
	s.conns.Add(1)
	return false
}

// stop ends the accept loop (waking it with a connection of its own) and
// waits for the server's connections to end. It may be called twice.
func (s *scripted) stop(tb testing.TB, ln net.Listener, accepting <-chan struct{}) {
	s.mu.Lock()
	already := s.done
	s.done = true
	s.mu.Unlock()
	if already {
		return
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		_ = c.Close()
	}
	select {
	case <-accepting:
	case <-time.After(5 * time.Second):
		tb.Fatal("the scripted server's accept loop did not stop")
	}
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		tb.Fatal("the scripted server's connections did not end")
	}
}
