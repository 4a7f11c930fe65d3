package adminhost_test

import (
	"testing"

	"github.com/skychimp/skychimp/adminhost/internal/hosttest"
)

// TestScenarios runs the end-to-end scenarios on SQLite: registration to
// an empty panel, blocking, staff actions, GoAdmin's holes closed, forms.
func TestScenarios(t *testing.T) { hosttest.RunScenarios(t, env) }
