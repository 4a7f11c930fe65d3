package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

// Outbox writes messages to a directory. It is safe for concurrent use.
type Outbox struct {
	dir            string
	from, fromName string
}

var _ mailing.Mailer = (*Outbox)(nil)

// New returns an Outbox writing to dir (created if missing). from and
// fromName are the sender used when an Envelope has none.
func New(dir, from, fromName string) (*Outbox, error) {
	if dir == "" {
		return nil, errors.New("outbox: no directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{dir: dir, from: from, fromName: fromName}, nil
}

// Dir is the directory the files are written to.
func (o *Outbox) Dir() string { return o.dir }

// Server names this mailer for callers that key limits by server.
func (o *Outbox) Server() string { return "outbox" }

// Send renders e (see smtpmailer.Render) and writes it atomically (a
// temporary file renamed into place) as <UTC time>-<recipient>-<random>.eml.
// The reply is 250 "written to <file name>". An envelope that cannot be
// rendered is a permanent failure, a file-system error a temporary one.
func (o *Outbox) Send(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
	if err := ctx.Err(); err != nil {
		return mailing.Reply{}, &mailing.SendError{Kind: mailing.Temporary, Text: err.Error(), Err: err}
	}
	data, err := smtpmailer.Render(e, o.from, o.fromName)
	if err != nil {
		return mailing.Reply{}, &mailing.SendError{Kind: mailing.Permanent, Text: err.Error(), Err: err}
	}
	name := fileName(time.Now(), e.To)
	if err := o.write(ctx, name, data); err != nil {
		return mailing.Reply{}, &mailing.SendError{Kind: mailing.Temporary, Text: err.Error(), Err: err}
	}
	return mailing.Reply{Code: 250, Text: "written to " + name}, nil
}

func (o *Outbox) write(ctx context.Context, name string, data []byte) (err error) {
	f, err := os.CreateTemp(o.dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(o.dir, name)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

func fileName(now time.Time, rcpt string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405.000000000Z") + "-" + safe(rcpt) + "-" + hex.EncodeToString(b[:]) + ".eml"
}

// safe keeps a recipient readable in a file name and harmless as a path.
func safe(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '+', r == '-', r == '@':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '_'
	}, s)
	s = strings.Trim(s, ".")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "unknown"
	}
	return s
}
