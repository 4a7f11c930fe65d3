package accounts_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
)

// A visitor registers, confirms their address with the emailed link, and
// logs in. A wrong password and an unknown address look the same.
func ExampleService() {
	ctx := context.Background()
	mail := &accountstest.FakeNotifier{}
	svc := accounts.NewService(accountstest.NewMemStore(), mail,
		accounts.WithBaseURL("https://mail.example.com"),
		accounts.WithClock(accountstest.NewFakeClock(accountstest.T0)),
		accounts.WithPasswordHasher(accountstest.FastHasher()), // tests only: cheap argon2id
	)

	u, err := svc.Register(ctx, accounts.RegisterInput{Email: "Ann@Example.com", FullName: "Ann Archer", Password: "correct horse"})
	if err != nil {
		panic(err)
	}
	fmt.Println("registered:", u.Email, "verified:", u.Verified)

	_, err = svc.Authenticate(ctx, "ann@example.com", "correct horse")
	fmt.Println("before confirming:", accounts.Message(err))

	n, _ := mail.Last(accounts.NoticeVerify, "ann@example.com")
	if _, err := svc.Verify(ctx, accountstest.TokenFrom(n.Link)); err != nil {
		panic(err)
	}
	u, err = svc.Authenticate(ctx, "ANN@example.com", "correct horse")
	fmt.Println("logged in:", u.FullName, err)

	_, errWrong := svc.Authenticate(ctx, "ann@example.com", "wrong password")
	_, errUnknown := svc.Authenticate(ctx, "bob@example.com", "wrong password")
	fmt.Println(accounts.Message(errWrong), errors.Is(errUnknown, accounts.ErrInvalidLogin) && errWrong == errUnknown)
	// Output:
	// registered: Ann@example.com verified: false
	// before confirming: Confirm your email first: we sent you a link.
	// logged in: Ann Archer <nil>
	// The email or password is wrong. true
}
