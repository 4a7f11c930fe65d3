package smtpmailer_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/skychimp/skychimp/internal/newsletter"
	"github.com/skychimp/skychimp/internal/smtptest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

// BenchmarkSMTPMailer sends small messages to an in-process sink server over
// 8 pooled connections from 16 goroutines per CPU and reports msgs/s.
func BenchmarkSMTPMailer(b *testing.B) {
	for _, bc := range []struct {
		name         string
		conns        int
		noPipelining bool
	}{
		{"conns=8", 8, false},
		{"conns=1", 1, false},
		{"conns=8/no-pipelining", 8, true},
	} {
		conns := bc.conns
		b.Run(bc.name, func(b *testing.B) {
			srv := smtptest.Start(b, smtptest.WithSink())
			m := newMailer(b, srv, func(c *smtpmailer.Config) {
				c.Connections, c.NoPipelining, c.SendTimeout = conns, bc.noPipelining, 30*time.Second
			})
			e := mailing.Envelope{
				To: "ann@example.org", ToName: "Ann", Subject: "Weekly news",
				HTML:            "<p>Hello Ann,</p><p>This week: <a href=\"https://example.com/a\">a story</a>.</p>",
				ListUnsubscribe: "https://example.com/u/123",
			}
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.Send(b.Context(), e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			if c := srv.Connections(); c > int64(conns) {
				b.Errorf("server saw %d connections, pool size %d", c, conns)
			}
		})
	}
}

// BenchmarkRender is the per-message render path of a send: the
// newsletter (about 5 KB of personalised HTML) executed for one recipient,
// its text alternative and the whole MIME message, as the engine and the
// mailer produce them for every delivery.
func BenchmarkRender(b *testing.B) {
	const unsubscribe = "https://example.com/unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tmpl, err := mailing.ParseTemplate(mailing.Message{Subject: newsletter.Subject, Body: newsletter.HTML})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var size int
	i := 0
	for b.Loop() {
		i++
		n := strconv.Itoa(i)
		c, err := tmpl.Render(mailing.Recipient{Name: "Client " + n, Email: "client" + n + "@example.org", UnsubscribeURL: unsubscribe})
		if err != nil {
			b.Fatal(err)
		}
		raw, err := smtpmailer.Render(mailing.Envelope{
			To: "client" + n + "@example.org", ToName: "Client " + n, Subject: c.Subject, HTML: c.HTML, Text: c.Text,
			ListUnsubscribe: unsubscribe,
			Headers:         map[string]string{"X-Skychimp-Delivery": n},
		}, "news@example.com", "Example Co.")
		if err != nil {
			b.Fatal(err)
		}
		size = len(raw)
	}
	b.ReportMetric(float64(size), "bytes/msg")
}
