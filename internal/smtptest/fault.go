package smtptest

import (
	"strings"
	"time"
)

// Stage is the point of an SMTP transaction where a Fault acts.
type Stage int

// The stages a Fault can act at.
const (
	// StageNone means no fault.
	StageNone Stage = iota
	// StageRcpt acts on the reply to RCPT TO.
	StageRcpt
	// StageData acts on the reply to the final "." of the message body,
	// after the whole body has been received.
	StageData
)

func (s Stage) String() string {
	switch s {
	case StageRcpt:
		return "rcpt"
	case StageData:
		return "data"
	}
	return "none"
}

// Fault is a misbehaviour of the server for one message.
//
// At its Stage the server first signals Signal (when set), then waits
// Delay, then either drops the connection without a reply (Drop), replies
// Code/Text (Code != 0), or carries on normally. A Code of 421 is written and
// the connection closed, as real servers do.
type Fault struct {
	Stage Stage
	Code  int    // reply code, e.g. 451 or 550; 0 for a normal reply
	Text  string // reply text
	// Delay is how long the server waits before it replies (or drops).
	// A delay ends early when the server stops.
	Delay time.Duration
	// Drop closes the connection instead of replying.
	Drop bool
	// Signal, when not nil, receives one value when the stage is reached,
	// before the delay (the send does not block if nobody listens).
	Signal chan<- struct{}
}

// IsZero reports whether f is no fault at all.
func (f Fault) IsZero() bool { return f.Stage == StageNone }

// Reject is a fault that replies code and text to RCPT TO.
func Reject(code int, text string) Fault {
	return Fault{Stage: StageRcpt, Code: code, Text: text}
}

// RejectData is a fault that replies code and text to the end of the body.
func RejectData(code int, text string) Fault {
	return Fault{Stage: StageData, Code: code, Text: text}
}

// SlowData is a fault that waits d after the body before replying (and then
// accepts the message).
func SlowData(d time.Duration) Fault {
	return Fault{Stage: StageData, Delay: d}
}

// DropAfterBody is a fault that reads the whole body and then closes the
// connection without replying.
func DropAfterBody() Fault {
	return Fault{Stage: StageData, Drop: true}
}

// FaultFunc chooses the fault for one recipient; n counts the RCPT TO
// commands the server has seen for that address, starting at 1. It must be
// safe for concurrent use. Return the zero Fault for normal behaviour.
type FaultFunc func(rcpt string, n int) Fault

// Rule is a simple entry of the server's fault list.
type Rule struct {
	// Rcpt is the recipient the rule applies to (case-insensitive); empty
	// means every recipient.
	Rcpt string
	// Tries limits the rule to the first Tries RCPT TO commands for a
	// recipient; 0 means every try.
	Tries int
	Fault Fault
}

func (r Rule) match(rcpt string, n int) bool {
	if r.Rcpt != "" && !strings.EqualFold(r.Rcpt, rcpt) {
		return false
	}
	return r.Tries <= 0 || n <= r.Tries
}
