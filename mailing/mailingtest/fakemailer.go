package mailingtest

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/skychimp/skychimp/mailing"
)

// FakeMailer is a mailing.Mailer that sends nothing: it records every
// envelope and can be scripted to fail or to hold sends until released. The
// zero value is ready to use and it is safe for concurrent use.
//
// For each Send, in order: an ended ctx fails at once; a Block holds the send
// until released (or ctx ends); the next FailNext error is returned; else a
// FailRecipient error for e.To; else the handler set by SetHandler decides;
// else the send succeeds with 250.
type FakeMailer struct {
	mu       sync.Mutex
	sent     []mailing.Envelope
	attempts []FakeAttempt
	failNext []error
	failRcpt map[string]*rcptFailure
	handler  func(context.Context, mailing.Envelope) (mailing.Reply, error)
	queued   int

	gate    chan struct{} // non-nil while Block is in force
	waiting int           // sends held by the gate
	changed chan struct{} // closed and replaced when waiting grows
}

type rcptFailure struct {
	err   error
	times int // < 0: always
}

// FakeAttempt is one call of FakeMailer.Send and its outcome.
type FakeAttempt struct {
	Envelope mailing.Envelope
	Reply    mailing.Reply
	Err      error
}

var _ mailing.Mailer = (*FakeMailer)(nil)

// NewFakeMailer returns a FakeMailer that accepts everything.
func NewFakeMailer() *FakeMailer { return &FakeMailer{} }

// TempError is a temporary failure with an SMTP code and text, as a server's
// 4xx reply would give.
func TempError(code int, text string) *mailing.SendError {
	return &mailing.SendError{Kind: mailing.Temporary, Code: code, Text: text}
}

// PermError is a permanent failure with an SMTP code and text (5xx).
func PermError(code int, text string) *mailing.SendError {
	return &mailing.SendError{Kind: mailing.Permanent, Code: code, Text: text}
}

// UnknownError is a failure of unknown outcome: the connection was lost
// after the body was sent.
func UnknownError(text string) *mailing.SendError {
	return &mailing.SendError{Kind: mailing.Unknown, Text: text}
}

// FailNext makes the next n sends fail with err (a temporary 451 when err is
// nil). Calls queue up: FailNext(1, a); FailNext(1, b) fails with a, then b.
func (f *FakeMailer) FailNext(n int, err error) {
	if err == nil {
		err = TempError(451, "4.3.0 fake temporary failure")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failNext = append(f.failNext, err)
	}
}

// FailRecipient makes sends to email (case-insensitive) fail with err, the
// next times sends, or always when times < 0. times == 0 removes the rule.
func (f *FakeMailer) FailRecipient(email string, err error, times int) {
	if err == nil {
		err = PermError(550, "5.1.1 fake: no such user")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.ToLower(email)
	if times == 0 {
		delete(f.failRcpt, key)
		return
	}
	if f.failRcpt == nil {
		f.failRcpt = make(map[string]*rcptFailure)
	}
	f.failRcpt[key] = &rcptFailure{err: err, times: times}
}

// SetHandler installs h to decide the outcome of sends that no FailNext or
// FailRecipient rule fails (nil restores plain success). h runs outside the
// mailer's lock and may block; it should honour ctx.
func (f *FakeMailer) SetHandler(h func(context.Context, mailing.Envelope) (mailing.Reply, error)) {
	f.mu.Lock()
	f.handler = h
	f.mu.Unlock()
}

// Block holds every Send (new ones and those already waiting) until the
// returned release is called or the send's ctx ends. Release is idempotent.
func (f *FakeMailer) Block() (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gate == nil {
		f.gate = make(chan struct{})
	}
	gate := f.gate
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			if f.gate == gate {
				f.gate = nil
			}
			f.mu.Unlock()
			close(gate)
		})
	}
}

// Waiting is the number of sends currently held by Block.
func (f *FakeMailer) Waiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting
}

// BlockUntil waits until at least n sends are held by Block, or ctx ends.
func (f *FakeMailer) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		if f.waiting >= n {
			f.mu.Unlock()
			return nil
		}
		if f.changed == nil {
			f.changed = make(chan struct{})
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Send records e and returns the scripted outcome (see FakeMailer).
func (f *FakeMailer) Send(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
	e = cloneEnvelope(e)
	if err := ctx.Err(); err != nil {
		return f.record(e, mailing.Reply{}, ctxError(err))
	}
	if err := f.wait(ctx); err != nil {
		return f.record(e, mailing.Reply{}, ctxError(err))
	}

	f.mu.Lock()
	var err error
	if len(f.failNext) > 0 {
		err, f.failNext = f.failNext[0], f.failNext[1:]
	} else if rf := f.failRcpt[strings.ToLower(e.To)]; rf != nil {
		err = rf.err
		if rf.times > 0 {
			if rf.times--; rf.times == 0 {
				delete(f.failRcpt, strings.ToLower(e.To))
			}
		}
	}
	h := f.handler
	f.mu.Unlock()

	if err != nil {
		return f.record(e, mailing.Reply{}, err)
	}
	if h != nil {
		reply, err := h(ctx, e)
		return f.record(e, reply, err)
	}
	f.mu.Lock()
	f.queued++
	reply := mailing.Reply{Code: 250, Text: fmt.Sprintf("2.0.0 Ok: queued as fake-%d", f.queued)}
	f.mu.Unlock()
	return f.record(e, reply, nil)
}

// wait holds the send while a Block is in force.
func (f *FakeMailer) wait(ctx context.Context) error {
	f.mu.Lock()
	gate := f.gate
	if gate == nil {
		f.mu.Unlock()
		return nil
	}
	f.waiting++
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
	f.mu.Unlock()

	defer func() {
		f.mu.Lock()
		f.waiting--
		f.mu.Unlock()
	}()
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *FakeMailer) record(e mailing.Envelope, reply mailing.Reply, err error) (mailing.Reply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, FakeAttempt{Envelope: e, Reply: reply, Err: err})
	if err == nil {
		f.sent = append(f.sent, e)
	}
	return reply, err
}

func ctxError(err error) error {
	return &mailing.SendError{Kind: mailing.Temporary, Text: err.Error(), Err: err}
}

func cloneEnvelope(e mailing.Envelope) mailing.Envelope {
	if e.Headers != nil {
		e.Headers = maps.Clone(e.Headers)
	}
	return e
}

// Sent returns the envelopes sent successfully, in order.
func (f *FakeMailer) Sent() []mailing.Envelope {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]mailing.Envelope, len(f.sent))
	for i, e := range f.sent {
		out[i] = cloneEnvelope(e)
	}
	return out
}

// SentTo returns the envelopes sent successfully to email
// (case-insensitive), in order.
func (f *FakeMailer) SentTo(email string) []mailing.Envelope {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []mailing.Envelope
	for _, e := range f.sent {
		if strings.EqualFold(e.To, email) {
			out = append(out, cloneEnvelope(e))
		}
	}
	return out
}

// Count is the number of envelopes sent successfully.
func (f *FakeMailer) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// Attempts returns every call of Send, failed ones included, in order.
func (f *FakeMailer) Attempts() []FakeAttempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FakeAttempt, len(f.attempts))
	for i, a := range f.attempts {
		a.Envelope = cloneEnvelope(a.Envelope)
		out[i] = a
	}
	return out
}

// Reset forgets what was sent and every FailNext and FailRecipient rule.
// The handler and any Block stay in force.
func (f *FakeMailer) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent, f.attempts, f.failNext, f.failRcpt = nil, nil, nil, nil
}
