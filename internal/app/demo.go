package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

// DemoLogin is one account the demo seeding created.
type DemoLogin struct {
	Email string
	Role  accounts.Role
}

// DemoSeed describes what SeedDemo did.
type DemoSeed struct {
	Seeded   bool   // false: the database already had users; nothing was changed
	Password string // the password of every demo account
	Logins   []DemoLogin
}

// DemoAccounts are the demo users, in the order they are printed.
var DemoAccounts = []struct {
	Email, Name string
	Role        accounts.Role
}{
	{"admin@demo.local", "Ada Admin", accounts.RoleSuperuser},
	{"manager@demo.local", "Max Manager", accounts.RoleManager},
	{"content@demo.local", "Carla Content", accounts.RoleContentManager},
	{"alice@demo.local", "Alice Anders", accounts.RoleUser},
	{"bob@demo.local", "Bob Brown", accounts.RoleUser},
}

// SeedDemo fills an empty database with demo accounts and data: alice and
// bob get a few clients, a message, one mailing running now (so the
// scheduler sends it at once) and one starting in the future. password may
// be empty: one is generated. A database that already has users is left
// alone (Seeded false), so restarting with --demo is harmless.
func (a *App) SeedDemo(ctx context.Context, password string) (DemoSeed, error) {
	_, total, err := a.AccountsStore.ListUsers(ctx, accounts.UserFilter{ListOptions: accounts.ListOptions{Limit: 1}})
	if err != nil {
		return DemoSeed{}, err
	}
	out := DemoSeed{Password: password}
	for _, d := range DemoAccounts {
		out.Logins = append(out.Logins, DemoLogin{d.Email, d.Role})
	}
	if total > 0 {
		return out, nil
	}
	if out.Password == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		out.Password = base64.RawURLEncoding.EncodeToString(b[:])
	}
	users := map[string]accounts.User{}
	for _, d := range DemoAccounts {
		u, err := a.Accounts.AddUser(ctx, accounts.AddInput{Email: d.Email, FullName: d.Name, Password: out.Password, Role: d.Role, Verified: true})
		if err != nil {
			return out, fmt.Errorf("demo user %s: %w", d.Email, err)
		}
		users[d.Email] = u
	}
	now := time.Now().UTC().Truncate(time.Minute)
	for _, owner := range []string{"alice@demo.local", "bob@demo.local"} {
		if err := a.seedMailings(ctx, users[owner], now); err != nil {
			return out, fmt.Errorf("demo data of %s: %w", owner, err)
		}
	}
	out.Seeded = true
	return out, nil
}

func (a *App) seedMailings(ctx context.Context, u accounts.User, now time.Time) error {
	ctx = accounts.WithUser(ctx, u)
	name := u.FullName
	var ids []int64
	for i, c := range []mailing.Client{
		{Name: "Ann Archer", Comment: "Met at the spring fair"},
		{Name: "Ben Baker", Comment: "Prefers email over phone"},
		{Name: "Chloé Dubois", Comment: "Ordered twice in March"},
	} {
		c.Email = fmt.Sprintf("client%d.of.%s@example.com", i+1, u.Email[:len(u.Email)-len("@demo.local")])
		created, err := a.Mailings.CreateClient(ctx, c)
		if err != nil {
			return err
		}
		ids = append(ids, created.ID)
	}
	msg, err := a.Mailings.CreateMessage(ctx, mailing.Message{
		Subject: "Hello {{.Name}}, news from " + name,
		Body:    "<p>Dear {{.Name}},</p><p>Thank you for staying with us. Here is what is new this week.</p><p>— " + name + "</p>",
	})
	if err != nil {
		return err
	}
	if _, err := a.Mailings.CreateMailing(ctx, mailing.Mailing{
		Name: "Weekly news", MessageID: msg.ID, ClientIDs: ids,
		Start: now.Add(-time.Minute), End: now.AddDate(0, 3, 0), Period: mailing.Weekly, TimeZone: "Europe/Berlin",
	}); err != nil {
		return err
	}
	_, err = a.Mailings.CreateMailing(ctx, mailing.Mailing{
		Name: "Monthly digest", MessageID: msg.ID, ClientIDs: ids[:2],
		Start: now.AddDate(0, 0, 3), End: now.AddDate(1, 0, 0), Period: mailing.Monthly, TimeZone: "America/New_York",
	})
	return err
}
