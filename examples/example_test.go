package examples_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

// A mailing created inside its window is sent at once by the next pass,
// personalised for each client; a second pass sends nothing twice.
func Example() {
	ctx := context.Background()
	clock := mailingtest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store := mailingtest.NewMemStore()
	mailer := mailingtest.NewFakeMailer()
	engine := mailing.NewEngine(store, mailer, clock, mailing.EngineConfig{From: "news@example.com"})
	svc := mailing.NewService(store, clock)

	alice := accounts.WithUser(ctx, accounts.User{ID: 1, Role: accounts.RoleUser})
	ann, _ := svc.CreateClient(alice, mailing.Client{Email: "ann@example.com", Name: "Ann"})
	bob, _ := svc.CreateClient(alice, mailing.Client{Email: "bob@example.com", Name: "Bob"})
	msg, _ := svc.CreateMessage(alice, mailing.Message{Subject: "Hello {{.Name}}", Body: "<p>Hi {{.Name}}</p>"})
	_, err := svc.CreateMailing(alice, mailing.Mailing{
		MessageID: msg.ID, ClientIDs: []int64{ann.ID, bob.ID},
		Start: clock.Now().Add(-time.Minute), End: clock.Now().AddDate(0, 1, 0), Period: mailing.Weekly,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	sum, _ := engine.RunDue(ctx)
	fmt.Println(sum)
	for _, e := range mailer.Sent() {
		fmt.Println(e.To, "|", e.Subject)
	}
	again, _ := engine.RunDue(ctx)
	fmt.Println(again)
	// Unordered output:
	// sent 2, failed 0, retried later 0, unknown 0
	// ann@example.com | Hello Ann
	// bob@example.com | Hello Bob
	// sent 0, failed 0, retried later 0, unknown 0
}

// A temporary refusal (4xx) is retried after the backoff; a permanent one
// (5xx) is recorded once and never retried.
func Example_retries() {
	ctx := context.Background()
	clock := mailingtest.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store := mailingtest.NewMemStore()
	mailer := mailingtest.NewFakeMailer()
	mailer.FailRecipient("ann@example.com", mailingtest.TempError(451, "4.7.1 Greylisted, try again"), 1)
	mailer.FailRecipient("bob@example.com", mailingtest.PermError(550, "5.1.1 No such user"), -1)
	engine := mailing.NewEngine(store, mailer, clock, mailing.EngineConfig{From: "news@example.com", Workers: 1, RetryInitial: time.Minute})
	svc := mailing.NewService(store, clock)

	alice := accounts.WithUser(ctx, accounts.User{ID: 1, Role: accounts.RoleUser})
	ann, _ := svc.CreateClient(alice, mailing.Client{Email: "ann@example.com", Name: "Ann"})
	bob, _ := svc.CreateClient(alice, mailing.Client{Email: "bob@example.com", Name: "Bob"})
	msg, _ := svc.CreateMessage(alice, mailing.Message{Subject: "News", Body: "<p>News</p>"})
	m, _ := svc.CreateMailing(alice, mailing.Mailing{
		MessageID: msg.ID, ClientIDs: []int64{ann.ID, bob.ID},
		Start: clock.Now(), End: clock.Now().AddDate(0, 0, 1), Period: mailing.Daily,
	})

	first, _ := engine.RunDue(ctx)
	fmt.Println("first pass:", first)
	clock.Advance(2 * time.Minute)
	second, _ := engine.RunDue(ctx)
	fmt.Println("after the backoff:", second)

	attempts, _, _ := svc.ListAttempts(alice, mailing.AttemptFilter{MailingID: m.ID})
	for _, a := range attempts {
		c, _ := svc.GetClient(alice, a.ClientID)
		fmt.Println(c.Email, a.Outcome, a.Code)
	}
	// Output:
	// first pass: sent 0, failed 1, retried later 1, unknown 0
	// after the backoff: sent 1, failed 0, retried later 0, unknown 0
	// ann@example.com temporary 451
	// bob@example.com permanent 550
	// ann@example.com sent 250
}

// Another user's objects do not exist for you, whatever id you ask for.
func Example_ownership() {
	ctx := context.Background()
	svc := mailing.NewService(mailingtest.NewMemStore(), nil)
	alice := accounts.WithUser(ctx, accounts.User{ID: 1, Role: accounts.RoleUser})
	bob := accounts.WithUser(ctx, accounts.User{ID: 2, Role: accounts.RoleUser})
	manager := accounts.WithUser(ctx, accounts.User{ID: 3, Role: accounts.RoleManager})

	c, _ := svc.CreateClient(alice, mailing.Client{Email: "ann@example.com", Name: "Ann"})
	_, err := svc.GetClient(bob, c.ID)
	fmt.Println("bob:", err, errors.Is(err, mailing.ErrNotFound))
	seen, _ := svc.GetClient(manager, c.ID)
	fmt.Println("manager reads:", seen.Email)
	_, err = svc.UpdateClient(manager, seen)
	fmt.Println("manager edits:", errors.Is(err, mailing.ErrForbidden))
	// Output:
	// bob: client 1: mailing: not found true
	// manager reads: ann@example.com
	// manager edits: true
}
