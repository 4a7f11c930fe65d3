package smtpmailer

import (
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendQP(t *testing.T) {
	for name, in := range map[string]string{
		"Empty":          "",
		"Short":          "Hello, world",
		"Equals":         "a=b == c",
		"LongLine":       strings.Repeat("abcdefghij", 30),
		"LongWords":      strings.Repeat("word ", 100),
		"TrailingSpace":  "line one  \nline two\t\nend ",
		"CRLF":           "one\r\ntwo\r\n\r\nthree",
		"UTF8":           strings.Repeat("Привет, мир! Zoë Åström € ", 20),
		"Controls":       "bell\x07 nul\x00 del\x7f",
		"ExactlyAtLimit": strings.Repeat("x", qpLine) + "\n" + strings.Repeat("y", qpLine+1),
		"EncodedAtLimit": strings.Repeat("x", qpLine-2) + "é",
	} {
		t.Run(name, func(t *testing.T) {
			enc := string(appendQP(nil, in))
			for _, l := range strings.Split(enc, "\r\n") {
				assert.LessOrEqual(t, len(l), 76, "line %q", l)
				assert.False(t, strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t"), "white space at the end of %q", l)
				for i := 0; i < len(l); i++ {
					assert.True(t, l[i] == '\t' || (l[i] >= ' ' && l[i] <= '~'), "byte %#x in %q", l[i], l)
				}
			}
			assert.NotContains(t, strings.ReplaceAll(enc, "\r\n", ""), "\n")
			dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(enc)))
			require.NoError(t, err)
			assert.Equal(t, strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\n", "\r\n"), string(dec))
		})
	}
}

func TestAppendUnstructured(t *testing.T) {
	dec := new(mime.WordDecoder)
	for name, in := range map[string]string{
		"Empty":     "",
		"ASCII":     "Weekly news",
		"LongASCII": strings.Repeat("weekly news ", 20),
		"UTF8":      strings.Repeat("Новости недели для Анны ", 8),
		"Injection": "hi\r\nBcc: evil@example.net",
	} {
		t.Run(name, func(t *testing.T) {
			h := string(appendUnstructured(nil, "Subject", in))
			require.True(t, strings.HasSuffix(h, "\r\n"))
			lines := strings.Split(strings.TrimSuffix(h, "\r\n"), "\r\n")
			for i, l := range lines {
				assert.LessOrEqual(t, len(l), 78, "line %q", l)
				if i > 0 {
					assert.True(t, strings.HasPrefix(l, " "), "continuation %q", l)
				}
			}
			unfolded := strings.TrimPrefix(strings.Join(lines, ""), "Subject: ")
			got, err := dec.DecodeHeader(unfolded)
			require.NoError(t, err)
			assert.Equal(t, in, got)
		})
	}
}
