package blogtest_test

import (
	"testing"

	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/blog/blogtest"
)

func TestMemStore(t *testing.T) {
	blogtest.TestStore(t, func(t *testing.T) blog.Store { return blogtest.NewMemStore() })
}
