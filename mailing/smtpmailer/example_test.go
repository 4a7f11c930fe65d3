package smtpmailer_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/skychimp/skychimp/internal/smtptest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

func ExampleParseURL() {
	cfg, err := smtpmailer.ParseURL("smtp://news:secret@mail.example.com:587?tls=starttls&connections=8&timeout=20s")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Server(), cfg.TLS, cfg.Connections, cfg.SendTimeout)

	_, err = smtpmailer.ParseURL("smtp://mail.example.com?tls=yes")
	fmt.Println(err)
	// Output:
	// mail.example.com:587 starttls 8 20s
	// smtpmailer: bad configuration: tls="yes": want none, starttls or tls
}

func ExampleMailer_Send() {
	// A local test server that rejects one recipient.
	srv, err := smtptest.New(smtptest.Options{Rules: []smtptest.Rule{
		{Rcpt: "gone@example.org", Fault: smtptest.Reject(550, "5.1.1 no such user")},
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	m, err := smtpmailer.New(smtpmailer.Config{Host: srv.Host(), Port: srv.Port(), From: "news@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	ctx := context.Background()
	reply, err := m.Send(ctx, mailing.Envelope{To: "ann@example.org", Subject: "Hello", HTML: "<p>Hi Ann</p>"})
	fmt.Println(reply.Code, err)

	_, err = m.Send(ctx, mailing.Envelope{To: "gone@example.org", Subject: "Hello", HTML: "<p>Hi</p>"})
	var se *mailing.SendError
	if errors.As(err, &se) {
		fmt.Println(se.Kind, se.Code, se.Text)
	}
	// Output:
	// 250 <nil>
	// permanent 550 5.1.1 no such user
}
