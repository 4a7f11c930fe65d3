package smtpmailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/skychimp/skychimp/mailing"
)

// ErrClosed is wrapped by the error of a Send after Close.
var ErrClosed = errors.New("smtpmailer: mailer closed")

// ErrNoStartTLS is wrapped when TLSStartTLS is configured and the server
// does not offer STARTTLS.
var ErrNoStartTLS = errors.New("smtpmailer: server does not offer STARTTLS")

// Mailer sends mail over a bounded pool of reused SMTP connections. It
// implements mailing.Mailer and is safe for concurrent use.
type Mailer struct {
	cfg    Config
	addr   string
	helo   string
	tlsCfg *tls.Config
	dialer net.Dialer

	// sem holds one token per allowed connection; a Send holds a token
	// while it uses (or dials) a session. idle holds the sessions not in
	// use, at most one per token, so there are never more than Connections.
	sem       chan struct{}
	idle      chan *conn
	closed    atomic.Bool
	done      chan struct{}
	closeOnce sync.Once
}

var _ mailing.Mailer = (*Mailer)(nil)

// New checks cfg, fills its defaults and returns a Mailer. It does not
// connect: connections are dialled on demand.
func New(cfg Config) (*Mailer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	helo := cfg.HELO
	if helo == "" {
		if helo, err = os.Hostname(); err != nil || helo == "" || strings.ContainsAny(helo, " \r\n") {
			helo = "localhost"
		}
	}
	m := &Mailer{
		cfg:  cfg,
		addr: cfg.Server(),
		helo: helo,
		tlsCfg: &tls.Config{
			ServerName:         cfg.Host,
			InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // opt-in, documented as tests only
			MinVersion:         tls.VersionTLS12,
		},
		sem:  make(chan struct{}, cfg.Connections),
		idle: make(chan *conn, cfg.Connections),
		done: make(chan struct{}),
	}
	return m, nil
}

// Server is "host:port", the key under which callers track this server
// (circuit breakers, rate limits).
func (m *Mailer) Server() string { return m.addr }

// Config returns the configuration in use, defaults filled.
func (m *Mailer) Config() Config { return m.cfg }

// Send delivers one envelope; see mailing.Mailer. It waits for a free
// connection (or ctx), dials if the slot has none, and runs one transaction
// within SendTimeout. Ending ctx interrupts the exchange at once. Failures
// are *mailing.SendError values:
//
//   - an envelope that cannot be rendered: Permanent (wraps ErrInvalidEnvelope)
//   - a 4xx reply: Temporary; a 5xx reply: Permanent (Code and Text set)
//   - no connection, a bad greeting, failed EHLO/STARTTLS/AUTH: Temporary
//   - a network error or timeout before the body was fully sent: Temporary
//   - a lost connection or timeout while waiting for the reply to the
//     body: Unknown (the server may have accepted the message)
//   - ctx ended: wraps ctx.Err(); Temporary before the body, Unknown after
//
// A reused connection that turns out to be dead at MAIL FROM is replaced
// and the message tried once more on a fresh connection.
func (m *Mailer) Send(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
	if err := ctx.Err(); err != nil {
		return mailing.Reply{}, ctxError(ctx, phaseConnect, err)
	}
	buf := bodies.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxPooledBody {
			bodies.Put(buf)
		}
	}()
	body, err := appendMessage((*buf)[:0], e, m.cfg.From, m.cfg.FromName)
	if err != nil {
		return mailing.Reply{}, &mailing.SendError{Kind: mailing.Permanent, Text: err.Error(), Err: err}
	}
	*buf = body
	from := m.cfg.From
	if e.From != "" {
		from = e.From
	}
	from = smtpPath(from) // both checked by Render
	to := smtpPath(e.To)

	pc, err := m.acquire(ctx)
	if err != nil {
		return mailing.Reply{}, err
	}
	for again := true; ; again = false {
		fresh := pc == nil
		if fresh {
			if pc, err = m.dial(ctx); err != nil {
				m.release(nil)
				return mailing.Reply{}, err
			}
		}
		reply, res := m.transact(ctx, pc, from, to, body)
		if res.err != nil && res.stale && !fresh && again && ctx.Err() == nil {
			pc.drop()
			pc = nil
			continue
		}
		if !res.keep {
			pc.drop()
			pc = nil
		}
		m.release(pc)
		if res.err != nil {
			return mailing.Reply{}, res.err
		}
		return reply, nil
	}
}

// bodies holds message buffers for reuse: a send writes its message into
// one and gives it back when the transaction is over.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBody is the largest buffer kept for reuse.
const maxPooledBody = 1 << 20

// Close ends idle connections and waits for sends in progress (each bounded
// by SendTimeout) to finish. Later Sends fail with ErrClosed.
func (m *Mailer) Close() error {
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		close(m.done)
		for range m.cfg.Connections {
			m.sem <- struct{}{}
		}
		for {
			select {
			case pc := <-m.idle:
				pc.quit()
			default:
				return
			}
		}
	})
	return nil
}

// acquire takes a connection token and an idle session if there is one
// (nil means: dial).
func (m *Mailer) acquire(ctx context.Context) (*conn, error) {
	select {
	case m.sem <- struct{}{}:
	case <-m.done:
		return nil, closedError()
	case <-ctx.Done():
		return nil, ctxError(ctx, phaseConnect, ctx.Err())
	}
	if m.closed.Load() {
		<-m.sem
		return nil, closedError()
	}
	select {
	case pc := <-m.idle:
		return pc, nil
	default:
		return nil, nil
	}
}

// release returns the token, keeping pc (when not nil) for the next Send.
func (m *Mailer) release(pc *conn) {
	if pc != nil {
		if m.closed.Load() {
			pc.quit()
		} else {
			m.idle <- pc // never blocks: at most one idle session per token
		}
	}
	<-m.sem
}

func closedError() error {
	return &mailing.SendError{Kind: mailing.Temporary, Text: ErrClosed.Error(), Err: ErrClosed}
}

// dial connects and runs the greeting, EHLO, STARTTLS and AUTH within
// DialTimeout; ctx cancels at once.
func (m *Mailer) dial(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, m.cfg.DialTimeout)
	defer cancel()
	nc, err := m.dialer.DialContext(dctx, "tcp", m.addr)
	if err != nil {
		return nil, m.connectError(ctx, err)
	}
	raw := &trackConn{Conn: nc}
	raw.arm(time.Now().Add(m.cfg.DialTimeout))
	stop := context.AfterFunc(ctx, raw.kill)
	pc, err := m.handshake(raw)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = raw.Close()
		return nil, m.connectError(ctx, err)
	}
	return pc, nil
}

func (m *Mailer) handshake(raw *trackConn) (*conn, error) {
	var nc net.Conn = raw
	if m.cfg.TLS == TLSImplicit {
		nc = tls.Client(raw, m.tlsCfg)
	}
	c, err := smtp.NewClient(nc, m.cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if err := c.Hello(m.helo); err != nil {
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	if m.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return nil, ErrNoStartTLS
		}
		if err := c.StartTLS(m.tlsCfg); err != nil {
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(&autoAuth{user: m.cfg.Username, pass: m.cfg.Password, host: m.cfg.Host}); err != nil {
			return nil, fmt.Errorf("AUTH: %w", err)
		}
	}
	pipelining, _ := c.Extension("PIPELINING")
	return &conn{raw: raw, c: c, pipelining: pipelining && !m.cfg.NoPipelining}, nil
}

// connectError: every failure to open a session is temporary for the
// message; the server's code and text are kept when there was a reply.
func (m *Mailer) connectError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxError(ctx, phaseConnect, err)
	}
	se := &mailing.SendError{Kind: mailing.Temporary, Err: err}
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		se.Code, se.Text = tpe.Code, tpe.Msg
	} else {
		se.Text = fmt.Sprintf("connect to %s: %v", m.addr, err)
	}
	return se
}

type result struct {
	err   *mailing.SendError
	keep  bool // the session can serve the next message
	stale bool // a reused session that was dead before the message started
}

// transact runs one transaction on pc within SendTimeout, interrupted at
// once when ctx ends, and classifies the outcome.
func (m *Mailer) transact(ctx context.Context, pc *conn, from, to string, body []byte) (mailing.Reply, result) {
	pc.raw.arm(time.Now().Add(m.cfg.SendTimeout))
	stop := context.AfterFunc(ctx, pc.raw.kill)
	reply, ph, err := pc.exchange(from, to, body)
	interrupted := !stop()
	if err == nil {
		return reply, result{keep: !interrupted}
	}
	if ph == phaseReply && pc.raw.writeFailed.Load() {
		// The end of the body never left: the server cannot have it.
		ph = phaseBody
	}
	if ctx.Err() != nil {
		return mailing.Reply{}, result{err: ctxError(ctx, ph, err)}
	}
	se := classify(ph, err)
	res := result{err: se}
	switch {
	case se.Code == 0 || se.Code == 421:
		// The session is gone (or going): never reuse it.
		res.stale = ph == phaseMail
	case ph == phaseBody:
	default:
		// The server replied coherently: reset and keep the session.
		res.keep = !interrupted && pc.c.Reset() == nil
	}
	return mailing.Reply{}, res
}

// classify maps a failed step to a SendError.
func classify(ph phase, err error) *mailing.SendError {
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		se := &mailing.SendError{Code: tpe.Code, Text: tpe.Msg, Err: err}
		switch {
		case tpe.Code >= 400 && tpe.Code < 500:
			se.Kind = mailing.Temporary
		case tpe.Code >= 500 && tpe.Code < 600:
			se.Kind = mailing.Permanent
		case ph == phaseReply:
			se.Kind = mailing.Unknown
		default:
			se.Kind = mailing.Temporary
		}
		return se
	}
	se := &mailing.SendError{Kind: mailing.Temporary, Err: err}
	if ph == phaseReply {
		se.Kind = mailing.Unknown
		se.Text = fmt.Sprintf("no reply after the message body, the server may have accepted it: %v", err)
		return se
	}
	se.Text = fmt.Sprintf("%s: %v", ph, err)
	return se
}

// ctxError reports a send cut short by ctx: Temporary before the whole
// body was sent, Unknown after.
func ctxError(ctx context.Context, ph phase, err error) *mailing.SendError {
	ctxErr := ctx.Err()
	kind := mailing.Temporary
	if ph == phaseReply {
		kind = mailing.Unknown
	}
	wrapped := ctxErr
	if err != nil && !errors.Is(err, ctxErr) {
		wrapped = fmt.Errorf("%w (%s: %v)", ctxErr, ph, err)
	}
	return &mailing.SendError{Kind: kind, Text: fmt.Sprintf("%s: %v", ph, ctxErr), Err: wrapped}
}

// smtpPath turns a checked address into "<local@domain>", quoting the local
// part where needed.
func smtpPath(addr string) string {
	a, _ := parseAddr(addr)
	return (&netmail.Address{Address: a}).String()
}
