package adminhost_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skychimp/skychimp/adminhost/internal/hosttest"
)

// TestAttackMatrix runs every table x route x role case against Bob's
// objects on SQLite: each gets exactly its expected answer and none leaks.
func TestAttackMatrix(t *testing.T) {
	res := hosttest.RunMatrix(t, env)
	assert.Zero(t, res.Leaks, "leaks")
	assert.Equal(t, len(hosttest.Tables)*len(hosttest.Ops)*len(hosttest.Roles), res.Cases)
}
