package stats_test

import (
	"context"
	"fmt"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/stats"
	"github.com/skychimp/skychimp/stats/statstest"
)

func ExampleService_Home() {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := mailingtest.NewFakeClock(now)
	store := mailingtest.NewMemStore()
	mailings := mailing.NewService(store, clock)
	svc := stats.NewService(statstest.New(store), mailings, clock)

	user := accounts.WithUser(context.Background(), accounts.User{ID: 1, Role: accounts.RoleUser})
	msg, _ := mailings.CreateMessage(user, mailing.Message{Subject: "Hello", Body: "Hi {{.Name}}"})
	ann, _ := mailings.CreateClient(user, mailing.Client{Email: "ann@example.com", Name: "Ann"})
	ann2, _ := mailings.CreateClient(accounts.WithUser(context.Background(), accounts.User{ID: 2, Role: accounts.RoleUser}),
		mailing.Client{Email: "ANN@example.com", Name: "Ann"})
	_, _ = mailings.CreateMailing(user, mailing.Mailing{
		MessageID: msg.ID, ClientIDs: []int64{ann.ID}, Period: mailing.Weekly,
		Start: now.Add(-time.Hour), End: now.Add(30 * 24 * time.Hour),
	})
	_ = ann2 // in no mailing: not counted

	home, _ := svc.Home(context.Background())
	fmt.Printf("mailings %d, active %d, unique clients %d\n", home.Mailings, home.Active, home.UniqueClients)
	// Output:
	// mailings 1, active 1, unique clients 1
}
