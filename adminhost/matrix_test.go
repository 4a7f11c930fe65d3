package adminhost_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skychimp/skychimp/adminhost/internal/hosttest"
)

// TestAttackMatrix runs every table x route x role case and every page x
// role case against Bob's objects (and the content manager's draft post)
// on SQLite: each gets exactly its expected answer and none leaks.
func TestAttackMatrix(t *testing.T) {
	res := hosttest.RunMatrix(t, env)
	assert.Zero(t, res.Leaks, "leaks")
	assert.Equal(t, len(hosttest.Tables)*len(hosttest.Ops)*len(hosttest.Roles)+len(hosttest.Pages)*len(hosttest.Roles), res.Cases)
}
