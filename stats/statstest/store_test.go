package statstest_test

import (
	"testing"

	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/stats/statstest"
)

func TestStoreOnMemStore(t *testing.T) {
	statstest.TestStore(t, func(t *testing.T) statstest.Stores {
		m := mailingtest.NewMemStore()
		return statstest.Stores{Mailing: m, Stats: statstest.New(m)}
	})
}
