package clientcsv_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/clientcsv"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

// FuzzParse feeds any file to the CSV import. Seeds are in
// testdata/fuzz/FuzzParse too (files people really make: spreadsheet
// exports with semicolons, BOMs, CRLF, quoted line breaks). Run it for
// longer with: go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 1m ./mailing/clientcsv/
//
// Properties: either clients or problems, never both; every problem names a
// line of the file and a known column; every client is valid as it is and
// its address appears once; writing the clients back as CSV and parsing
// that gives the same clients; importing them stores exactly them, and a
// second import of the same file is refused row by row.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"ann@example.com,Ann Archer,VIP\nbob@example.org\n",
		"Comment,E-Mail,Full Name\nfriend,ann@example.com,Ann\n,bob@example.org,\n",
		"\ufeffEMAIL;NAME\r\nann@example.com;Ann\r\n",
		"email\tname\nann@example.com\tAnn\n",
		"email,name,comment\nann@example.com,\"Archer, Ann\",\"line one\nline two with \"\"quotes\"\"\"\n",
		"email,name\n\n,,\nann@example.com,Ann,,\n",
		"Иван@пример.рф,Иван Петров\n",
		"email,email\nann@example.com,ann@example.com\n",
		"name\nAnn\n",
		"ann@example.com\nANN@example.com \n",
		"\"unclosed,ann@example.com\n",
		"a\"b@example.com\n",
		"ann@example.com,\xff\n",
		"ann@example.com,a,b,c\n",
		"",
		"\n\n",
		"email\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		clients, errs := clientcsv.Parse(bytes.NewReader(file))
		lines := bytes.Count(file, []byte("\n")) + 1
		if len(errs) > 0 {
			assert.Nil(t, clients, "clients returned beside problems")
			for _, e := range errs {
				assert.NotEmpty(t, e.Reason)
				assert.NotEmpty(t, e.Error())
				assert.GreaterOrEqual(t, e.Line, 0)
				assert.LessOrEqual(t, e.Line, lines, "problem %q names a line past the end", e)
				assert.Contains(t, []string{"", "email", "name", "comment"}, e.Field, "problem %q", e)
			}
			return
		}
		require.NotEmpty(t, clients, "neither clients nor problems")

		seen := map[string]bool{}
		for _, c := range clients {
			v := c
			require.NoError(t, v.Validate(), "Parse returned an invalid client %+v", c)
			assert.Equal(t, c, v, "Parse returned a client Validate still changes")
			key := mailing.NormalizeEmail(c.Email)
			assert.False(t, seen[key], "address %q twice", c.Email)
			seen[key] = true
		}

		// Written back with a header, the file reads the same.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		require.NoError(t, w.Write([]string{"email", "name", "comment"}))
		for _, c := range clients {
			require.NoError(t, w.Write([]string{c.Email, c.Name, c.Comment}))
		}
		w.Flush()
		again, errs := clientcsv.Parse(bytes.NewReader(buf.Bytes()))
		require.Empty(t, errs, "the clients written back do not parse: %q", buf.String())
		assert.Equal(t, clients, again, "written back: %q", buf.String())

		// Imported: stored exactly; a second time: refused row by row.
		svc := mailing.NewService(mailingtest.NewMemStore(), nil)
		ctx := accounts.WithUser(t.Context(), accounts.User{ID: 1, Email: "owner@example.com", Role: accounts.RoleUser, Verified: true})
		n, errs, err := clientcsv.Import(ctx, svc, bytes.NewReader(file))
		require.NoError(t, err)
		require.Empty(t, errs)
		assert.Equal(t, len(clients), n)
		stored, total, err := svc.ListClients(ctx, mailing.ClientFilter{OwnerID: 1})
		require.NoError(t, err)
		assert.Equal(t, len(clients), total)
		for _, c := range stored {
			assert.True(t, seen[mailing.NormalizeEmail(c.Email)], "stored %q, not in the file", c.Email)
		}
		n, errs, err = clientcsv.Import(ctx, svc, bytes.NewReader(file))
		assert.ErrorIs(t, err, mailing.ErrInvalid)
		assert.Zero(t, n)
		assert.Len(t, errs, len(clients), "a second import: %v", errs)
		for _, e := range errs {
			assert.Equal(t, "email", e.Field)
			assert.True(t, strings.Contains(e.Reason, "already one of your clients"), "%q", e.Reason)
		}
	})
}
