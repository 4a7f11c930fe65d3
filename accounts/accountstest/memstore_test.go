package accountstest_test

import (
	"testing"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
)

func TestMemStore(t *testing.T) {
	accountstest.TestStore(t, func(t *testing.T) accounts.Store { return accountstest.NewMemStore() })
}
