package clientcsv

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skychimp/skychimp/mailing"
)

func TestFromService(t *testing.T) {
	rows := []row{{line: 2}, {line: 5}, {line: 9}}
	ve := &mailing.ValidationError{Fields: []mailing.FieldError{
		{Field: "row 2: email", Message: `"x" is not a valid email address`},
		{Field: "row 3: name", Message: "must be at most 200 characters"},
		{Field: "row 7: email", Message: "out of range"},
		{Field: "email", Message: "no row"},
	}}
	assert.Equal(t, []RowError{
		{Line: 5, Field: "email", Reason: `"x" is not a valid email address`},
		{Line: 9, Field: "name", Reason: "must be at most 200 characters"},
		{Field: "row 7: email", Reason: "out of range"},
		{Field: "email", Reason: "no row"},
	}, fromService(ve, rows))
}
