package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a Server.
type Options struct {
	// Addr is the listen address; the default is "127.0.0.1:0".
	Addr string
	// Domain is the name in the greeting; the default is "smtptest.local".
	Domain string
	// Sink makes the server count messages and discard their bodies
	// instead of recording them (for benchmarks). While no fault function
	// or rule is installed, a sink keeps nothing per recipient either (Tries
	// reports 0), so its memory does not grow with the messages it takes.
	Sink bool
	// TLSConfig, when set, is offered through STARTTLS (or used from the
	// first byte when ImplicitTLS is set).
	TLSConfig   *tls.Config
	ImplicitTLS bool
	// Username and Password, when set, make AUTH PLAIN mandatory before
	// MAIL FROM. Without TLS the server allows AUTH in clear text.
	Username, Password string
	// Faults chooses per-recipient misbehaviour; Rules are consulted after
	// it. Both can be changed while the server runs.
	Faults FaultFunc
	Rules  []Rule
	// ReadTimeout ends an idle connection (the server replies 421); zero
	// means never.
	ReadTimeout time.Duration
	// OnAccept, when set, is called for every message accepted, with its
	// sender and recipients (also in Sink mode). It must be quick and safe
	// for concurrent use.
	OnAccept func(from string, to []string)
	// MaxMessageBytes limits the body size; zero means no limit.
	MaxMessageBytes int64
	// Logger receives the SMTP library's internal errors; nil discards them.
	Logger interface {
		Printf(format string, v ...any)
		Println(v ...any)
	}
}

// Option changes Options; used with Start.
type Option func(*Options)

// WithSink makes the server count messages without keeping them.
func WithSink() Option { return func(o *Options) { o.Sink = true } }

// WithStartTLS offers STARTTLS with cfg (see SelfSignedTLS).
func WithStartTLS(cfg *tls.Config) Option {
	return func(o *Options) { o.TLSConfig, o.ImplicitTLS = cfg, false }
}

// WithImplicitTLS makes the server speak TLS from the first byte.
func WithImplicitTLS(cfg *tls.Config) Option {
	return func(o *Options) { o.TLSConfig, o.ImplicitTLS = cfg, true }
}

// WithAuth requires AUTH PLAIN with these credentials.
func WithAuth(username, password string) Option {
	return func(o *Options) { o.Username, o.Password = username, password }
}

// WithFaults installs a fault function.
func WithFaults(fn FaultFunc) Option { return func(o *Options) { o.Faults = fn } }

// WithRules installs fault rules.
func WithRules(rules ...Rule) Option {
	return func(o *Options) { o.Rules = append(o.Rules, rules...) }
}

// WithReadTimeout sets the idle timeout per command.
func WithReadTimeout(d time.Duration) Option { return func(o *Options) { o.ReadTimeout = d } }

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte // the raw message as received (CRLF line ends, dots unstuffed)
}

// Server is an in-process SMTP server. All methods are safe for concurrent
// use.
type Server struct {
	opts Options
	addr string // fixed after the first listen, reused by Restart
	port int

	mu      sync.Mutex // guards srv, stop, running, closed
	srv     *smtp.Server
	ln      net.Listener
	stop    chan struct{}
	running bool
	closed  bool

	faultMu sync.RWMutex
	faultFn FaultFunc
	rules   []Rule

	triesMu sync.Mutex
	tries   map[string]int

	garbage     atomic.Bool
	connections atomic.Int64
	accepted    atomic.Int64

	msgMu sync.Mutex
	msgs  []Message
}

// ErrServerClosed is returned by Restart after Close.
var ErrServerClosed = errors.New("smtptest: server closed")

// Start starts a server on 127.0.0.1 and closes it when the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	s, err := New(o)
	if err != nil {
		tb.Fatalf("smtptest: start: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// New starts a server with o. The caller must Close it.
func New(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Domain == "" {
		o.Domain = "smtptest.local"
	}
	if o.ImplicitTLS && o.TLSConfig == nil {
		return nil, errors.New("smtptest: ImplicitTLS needs a TLSConfig")
	}
	s := &Server{
		opts:    o,
		faultFn: o.Faults,
		rules:   append([]Rule(nil), o.Rules...),
		tries:   make(map[string]int),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.listenLocked(o.Addr); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listenLocked(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("smtptest: listen: %w", err)
	}
	if s.addr == "" {
		s.addr = ln.Addr().String()
		s.port = ln.Addr().(*net.TCPAddr).Port
	}
	var l net.Listener = &listener{Listener: ln, s: s}
	if s.opts.ImplicitTLS {
		l = tls.NewListener(l, s.opts.TLSConfig)
	}
	stop := make(chan struct{})
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c, stop: stop}, nil
	}))
	srv.Domain = s.opts.Domain
	if !s.opts.ImplicitTLS {
		srv.TLSConfig = s.opts.TLSConfig
	}
	srv.AllowInsecureAuth = s.opts.TLSConfig == nil
	srv.ReadTimeout = s.opts.ReadTimeout
	srv.MaxMessageBytes = s.opts.MaxMessageBytes
	srv.ErrorLog = discardLogger{}
	if s.opts.Logger != nil {
		srv.ErrorLog = s.opts.Logger
	}
	s.srv, s.ln, s.stop, s.running = srv, ln, stop, true
	go func() { _ = srv.Serve(l) }()
	return nil
}

// Addr is the server's "host:port".
func (s *Server) Addr() string { return s.addr }

// Host is the server's IP address.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.addr)
	return h
}

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Stop closes the listener and every open connection, so that new
// connections are refused until Restart. Stop on a stopped server does
// nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	if !s.running {
		return nil
	}
	s.running = false
	close(s.stop)
	err := s.srv.Close()
	// Close the listener ourselves too: Serve may not have registered it yet.
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	return err
}

// Restart listens again on the same address after Stop.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrServerClosed
	}
	if s.running {
		return nil
	}
	return s.listenLocked(s.addr)
}

// Close stops the server for good.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.stopLocked()
}

// SetFaults replaces the fault function (nil removes it).
func (s *Server) SetFaults(fn FaultFunc) {
	s.faultMu.Lock()
	s.faultFn = fn
	s.faultMu.Unlock()
}

// AddRule appends a fault rule; the first matching rule wins.
func (s *Server) AddRule(r Rule) {
	s.faultMu.Lock()
	s.rules = append(s.rules, r)
	s.faultMu.Unlock()
}

// ClearFaults removes the fault function and every rule.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	s.faultFn, s.rules = nil, nil
	s.faultMu.Unlock()
}

// SetGarbageGreeting makes the server answer new connections with bytes
// that are not SMTP, then close them (on = true), or greet normally.
func (s *Server) SetGarbageGreeting(on bool) { s.garbage.Store(on) }

// Connections counts the TCP connections accepted so far.
func (s *Server) Connections() int64 { return s.connections.Load() }

// Accepted counts the messages accepted (replied 250 to) so far.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Tries counts the RCPT TO commands seen for rcpt (case-insensitive).
func (s *Server) Tries(rcpt string) int {
	s.triesMu.Lock()
	defer s.triesMu.Unlock()
	return s.tries[strings.ToLower(rcpt)]
}

// Messages returns a copy of the accepted messages, oldest first (empty in
// sink mode).
func (s *Server) Messages() []Message {
	s.msgMu.Lock()
	defer s.msgMu.Unlock()
	out := make([]Message, len(s.msgs))
	copy(out, s.msgs)
	return out
}

func (s *Server) nextTry(rcpt string) int {
	if s.opts.Sink && !s.hasFaults() {
		return 0
	}
	key := strings.ToLower(rcpt)
	s.triesMu.Lock()
	defer s.triesMu.Unlock()
	s.tries[key]++
	return s.tries[key]
}

func (s *Server) hasFaults() bool {
	s.faultMu.RLock()
	defer s.faultMu.RUnlock()
	return s.faultFn != nil || len(s.rules) > 0
}

func (s *Server) faultFor(rcpt string, n int) Fault {
	s.faultMu.RLock()
	defer s.faultMu.RUnlock()
	if s.faultFn != nil {
		if f := s.faultFn(rcpt, n); !f.IsZero() {
			return f
		}
	}
	for _, r := range s.rules {
		if r.match(rcpt, n) {
			return r.Fault
		}
	}
	return Fault{}
}

type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.connections.Add(1)
		if !l.s.garbage.Load() {
			return c, nil
		}
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write([]byte("\x00\x01garbage, not SMTP\r\n"))
		_ = c.Close()
	}
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

var errDropped = errors.New("smtptest: connection dropped by fault")

type session struct {
	s      *Server
	conn   *smtp.Conn
	stop   <-chan struct{}
	authed bool

	from  string
	to    []string
	fault Fault
}

func (ss *session) Reset() {
	ss.from, ss.to, ss.fault = "", nil, Fault{}
}

func (ss *session) Logout() error { return nil }

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.opts.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	n := ss.s.nextTry(to)
	f := ss.s.faultFor(to, n)
	if f.Stage == StageRcpt {
		if err := ss.apply(f); err != nil {
			return err
		}
	} else if !f.IsZero() && ss.fault.IsZero() {
		ss.fault = f
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var data []byte
	var err error
	if ss.s.opts.Sink {
		_, err = io.Copy(io.Discard, r)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return err
	}
	if err := ss.apply(ss.fault); err != nil {
		return err
	}
	ss.s.accepted.Add(1)
	if ss.s.opts.OnAccept != nil {
		ss.s.opts.OnAccept(ss.from, ss.to)
	}
	if !ss.s.opts.Sink {
		ss.s.msgMu.Lock()
		ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: append([]string(nil), ss.to...), Data: data})
		ss.s.msgMu.Unlock()
	}
	return nil
}

// apply carries out f at its stage; a non-nil error is the reply (or the
// reason there is none).
func (ss *session) apply(f Fault) error {
	if f.IsZero() {
		return nil
	}
	if f.Signal != nil {
		select {
		case f.Signal <- struct{}{}:
		default:
		}
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-ss.stop:
			t.Stop()
			_ = ss.conn.Conn().Close()
			return errDropped
		}
	}
	switch {
	case f.Drop:
		_ = ss.conn.Conn().Close()
		return errDropped
	case f.Code == 421:
		// Real servers close the connection after 421.
		c := ss.conn.Conn()
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(c, "421 4.3.2 "+textOr(f.Text, "closing connection")+"\r\n")
		_ = c.Close()
		return errDropped
	case f.Code != 0:
		ec, text := splitEnhanced(textOr(f.Text, "fault "+strconv.Itoa(f.Code)))
		return &smtp.SMTPError{Code: f.Code, EnhancedCode: ec, Message: text}
	}
	return nil
}

func textOr(text, def string) string {
	if text == "" {
		return def
	}
	return text
}

// splitEnhanced takes a leading enhanced status code ("5.1.1 text") off
// text, so that the reply does not carry two.
func splitEnhanced(text string) (smtp.EnhancedCode, string) {
	code, rest, ok := strings.Cut(text, " ")
	parts := strings.Split(code, ".")
	if !ok || len(parts) != 3 {
		return smtp.EnhancedCodeNotSet, text
	}
	var ec smtp.EnhancedCode
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 {
			return smtp.EnhancedCodeNotSet, text
		}
		ec[i] = n
	}
	return ec, rest
}
