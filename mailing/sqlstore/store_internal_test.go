package sqlstore

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestMySQLVersionOK(t *testing.T) {
	for v, want := range map[string]bool{
		"10.11.19-MariaDB-0+deb12u1": true,
		"10.6.4-MariaDB":             true,
		"11.4.2-MariaDB-log":         true,
		"10.5.23-MariaDB":            false,
		"8.0.36":                     true,
		"8.4.0-commercial":           true,
		"5.7.44-log":                 false,
		"something else":             true,
	} {
		assert.Equal(t, want, mysqlVersionOK(v), v)
	}
}

func TestClip(t *testing.T) {
	assert.Equal(t, "short", clip("short"))
	long := strings.Repeat("ж", maxText) // two bytes each
	got := clip(long)
	assert.LessOrEqual(t, len(got), maxText)
	assert.True(t, utf8.ValidString(got))
	assert.Equal(t, maxText/2, utf8.RuneCountInString(got))
	odd := "x" + long
	got = clip(odd)
	assert.True(t, utf8.ValidString(got))
	assert.Equal(t, maxText-1, len(got), "cut before a split character")
}
