package mailingtest_test

import (
	"testing"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

func TestMemStore(t *testing.T) {
	mailingtest.TestStore(t, func(t *testing.T) mailing.Store { return mailingtest.NewMemStore() })
}
