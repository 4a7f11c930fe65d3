// Command embed is a whole program that embeds the mailing engine: SQLite
// for the ledger, an SMTP server (SMTP_URL) or an outbox directory of .eml
// files, and the scheduler. It creates one mailing that runs daily for a
// week and sends until interrupted.
//
//	go run ./examples/embed                                   # writes ./outbox/*.eml
//	SMTP_URL=smtp://127.0.0.1:1025 go run ./examples/embed    # a local SMTP server
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/outbox"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
	"github.com/skychimp/skychimp/mailing/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	db, dialect, err := sqlstore.Open(ctx, "sqlite:example.db")
	check(err)
	store := sqlstore.New(db, dialect)
	check(store.Migrate(ctx))

	var mailer mailing.Mailer
	if url := os.Getenv("SMTP_URL"); url != "" {
		cfg, err := smtpmailer.ParseURL(url)
		check(err)
		mailer, err = smtpmailer.New(cfg)
		check(err)
	} else {
		mailer, err = outbox.New("outbox", "news@example.com", "Example News")
		check(err)
	}
	engine := mailing.NewEngine(store, mailer, nil, mailing.EngineConfig{From: "news@example.com", FromName: "Example News"})
	sched, err := mailing.NewScheduler(engine, mailing.SchedulerConfig{Interval: 30 * time.Second})
	check(err)
	svc := mailing.NewService(store, nil, mailing.WithChangeHook(sched.KickHook))

	// The service acts for a person: here user 1 of your own user system.
	me := accounts.WithUser(ctx, accounts.User{ID: 1, Role: accounts.RoleUser})
	client, err := svc.CreateClient(me, mailing.Client{Email: "ann@example.com", Name: "Ann"})
	if err != nil { // already there from an earlier run
		clients, _, lerr := svc.ListClients(me, mailing.ClientFilter{Search: "ann@example.com"})
		check(lerr)
		client = clients[0]
	}
	msg, err := svc.CreateMessage(me, mailing.Message{Subject: "Hello {{.Name}}", Body: "<p>Welcome aboard, {{.Name}}!</p>"})
	check(err)
	_, err = svc.CreateMailing(me, mailing.Mailing{MessageID: msg.ID, ClientIDs: []int64{client.ID},
		Start: time.Now(), End: time.Now().AddDate(0, 0, 7), Period: mailing.Daily})
	check(err)

	log.Print("sending; press Ctrl-C to stop")
	check(sched.Run(ctx)) // returns when interrupted, after sends in flight are recorded
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
