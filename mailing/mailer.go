package mailing

import (
	"context"
	"errors"
	"fmt"
)

// Envelope is one message to one recipient, rendered and ready to send.
type Envelope struct {
	From     string // sender address
	FromName string
	To       string // recipient address
	ToName   string
	Subject  string
	HTML     string // the body as HTML
	Text     string // an optional plain-text alternative
	// ListUnsubscribe is the one-click unsubscribe URL (RFC 8058); when set
	// the message carries List-Unsubscribe and List-Unsubscribe-Post.
	ListUnsubscribe string
	// Headers are extra headers (for example X-Skychimp-Delivery).
	Headers map[string]string
}

// Reply is the server's answer to an accepted message.
type Reply struct {
	Code int    // 250 and the like
	Text string // the server's text, e.g. "2.0.0 Ok: queued as 1234"
}

// Mailer sends one envelope.
//
// Implementations must be safe for concurrent use, must return promptly when
// ctx ends (with an error wrapping ctx.Err()), and must report every failure
// as a *SendError (or an error wrapping one) that says whether it is
// temporary, permanent or unknown.
type Mailer interface {
	Send(ctx context.Context, e Envelope) (Reply, error)
}

// FailureKind classifies a failed send.
type FailureKind int

// The kinds of failure a Mailer reports.
const (
	// Temporary: 4xx, or a network error before the body was sent. Retry later.
	Temporary FailureKind = iota + 1
	// Permanent: 5xx, or an envelope the server can never take. Do not retry.
	Permanent
	// Unknown: the connection was lost after the body was sent; the server
	// may have accepted the message. Not retried by default.
	Unknown
)

func (k FailureKind) String() string {
	switch k {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("FailureKind(%d)", int(k))
}

// Outcome maps a failure kind to the attempt outcome it records.
func (k FailureKind) Outcome() Outcome {
	switch k {
	case Permanent:
		return OutcomePermanent
	case Unknown:
		return OutcomeUnknown
	}
	return OutcomeTemporary
}

// SendError is a failed send.
type SendError struct {
	Kind FailureKind
	Code int    // SMTP reply code; 0 when the server gave none
	Text string // the server's text, or a description of the failure
	Err  error  // the underlying error, if any
}

func (e *SendError) Error() string {
	switch {
	case e.Code != 0:
		return fmt.Sprintf("%s failure: %d %s", e.Kind, e.Code, e.Text)
	case e.Err != nil && e.Text == "":
		return fmt.Sprintf("%s failure: %v", e.Kind, e.Err)
	}
	return fmt.Sprintf("%s failure: %s", e.Kind, e.Text)
}

func (e *SendError) Unwrap() error { return e.Err }

// AsSendError returns the *SendError in err's chain. An error that carries
// none is treated as a temporary failure with its text, so that a careless
// Mailer can never make the engine drop a delivery.
func AsSendError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Kind: Temporary, Text: err.Error(), Err: err}
}
