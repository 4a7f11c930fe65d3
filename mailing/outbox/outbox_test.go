package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"mime"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/outbox"
)

func newOutbox(tb testing.TB) *outbox.Outbox {
	tb.Helper()
	ob, err := outbox.New(filepath.Join(tb.TempDir(), "nested", "outbox"), "news@example.com", "Skychimp News")
	require.NoError(tb, err)
	return ob
}

func emlFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(tb, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSend(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		ob := newOutbox(t)
		e := mailing.Envelope{
			To: "Ann@Example.org", ToName: "Ånn", Subject: "Grüße", HTML: "<p>Hi</p>",
			ListUnsubscribe: "https://skychimp.example/u/1",
			Headers:         map[string]string{"X-Skychimp-Delivery": "7"},
		}
		reply, err := ob.Send(t.Context(), e)
		require.NoError(t, err)
		assert.Equal(t, 250, reply.Code)

		names := emlFiles(t, ob.Dir())
		require.Len(t, names, 1)
		assert.Equal(t, "written to "+names[0], reply.Text)
		assert.Regexp(t, `^\d{8}T\d{6}\.\d{9}Z-ann@example\.org-[0-9a-f]{8}\.eml$`, names[0])

		data, err := os.ReadFile(filepath.Join(ob.Dir(), names[0]))
		require.NoError(t, err)
		msg, err := netmail.ReadMessage(bytes.NewReader(data))
		require.NoError(t, err)
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		require.NoError(t, err)
		assert.Equal(t, "Grüße", subject)
		from, err := netmail.ParseAddress(msg.Header.Get("From"))
		require.NoError(t, err)
		assert.Equal(t, "Skychimp News", from.Name)
		assert.Equal(t, "news@example.com", from.Address)
		assert.NotEmpty(t, msg.Header.Get("Message-ID"))
		assert.NotEmpty(t, msg.Header.Get("Date"))
		assert.Equal(t, "<https://skychimp.example/u/1>", msg.Header.Get("List-Unsubscribe"))
		assert.Equal(t, "List-Unsubscribe=One-Click", msg.Header.Get("List-Unsubscribe-Post"))
		assert.Equal(t, "7", msg.Header.Get("X-Skychimp-Delivery"))
		assert.True(t, strings.HasPrefix(msg.Header.Get("Content-Type"), "multipart/alternative"))
	})
	t.Run("Concurrent", func(t *testing.T) {
		ob := newOutbox(t)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				_, err := ob.Send(t.Context(), mailing.Envelope{To: fmt.Sprintf("u%d@example.org", i%4), Subject: "x", Text: "y"})
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		names := emlFiles(t, ob.Dir())
		assert.Len(t, names, 16)
		for _, n := range names {
			assert.True(t, strings.HasSuffix(n, ".eml") && !strings.HasPrefix(n, "."), n)
		}
	})
	t.Run("CancelledWritesNothing", func(t *testing.T) {
		ob := newOutbox(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := ob.Send(ctx, mailing.Envelope{To: "a@example.org"})
		var se *mailing.SendError
		require.True(t, errors.As(err, &se))
		assert.Equal(t, mailing.Temporary, se.Kind)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, emlFiles(t, ob.Dir()))
	})
	t.Run("InvalidIsPermanent", func(t *testing.T) {
		ob := newOutbox(t)
		_, err := ob.Send(t.Context(), mailing.Envelope{To: "../../etc/passwd"})
		var se *mailing.SendError
		require.True(t, errors.As(err, &se))
		assert.Equal(t, mailing.Permanent, se.Kind)
		assert.Empty(t, emlFiles(t, ob.Dir()))
	})
	t.Run("OddRecipientStaysInDir", func(t *testing.T) {
		ob := newOutbox(t)
		_, err := ob.Send(t.Context(), mailing.Envelope{To: `"../x y"@example.org`, Text: "hi"})
		require.NoError(t, err)
		names := emlFiles(t, ob.Dir())
		require.Len(t, names, 1)
		assert.NotContains(t, names[0], "/")
	})
}

func TestNew(t *testing.T) {
	_, err := outbox.New("", "a@example.org", "")
	assert.Error(t, err)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = outbox.New(filepath.Join(file, "sub"), "a@example.org", "")
	assert.Error(t, err)
}

func Example() {
	dir, err := os.MkdirTemp("", "outbox-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ob, err := outbox.New(dir, "news@example.com", "News")
	if err != nil {
		log.Fatal(err)
	}
	reply, err := ob.Send(context.Background(), mailing.Envelope{To: "ann@example.org", Subject: "Hello", Text: "Hi Ann"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.Code, strings.HasPrefix(reply.Text, "written to "), strings.HasSuffix(reply.Text, ".eml"))
	// Output: 250 true true
}
