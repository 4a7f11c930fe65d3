package clientcsv_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/clientcsv"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/mailing/sqlstore"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		want []mailing.Client
	}{
		{"Headerless", "ann@example.com,Ann Archer,VIP\nbob@example.org,Bob\n cat@example.com , Cat \n",
			[]mailing.Client{{Email: "ann@example.com", Name: "Ann Archer", Comment: "VIP"}, {Email: "bob@example.org", Name: "Bob"}, {Email: "cat@example.com", Name: "Cat"}}},
		{"HeaderAnyOrderAndCase", "Comment,E-Mail,Full Name\nfriend,ann@example.com,Ann\n,bob@example.org,Bob\n",
			[]mailing.Client{{Email: "ann@example.com", Name: "Ann", Comment: "friend"}, {Email: "bob@example.org", Name: "Bob"}}},
		{"BOMSemicolonsCRLF", "\ufeffEMAIL;NAME\r\nann@example.com;Ann\r\n",
			[]mailing.Client{{Email: "ann@example.com", Name: "Ann"}}},
		{"Tabs", "email\tname\nann@example.com\tAnn\n", []mailing.Client{{Email: "ann@example.com", Name: "Ann"}}},
		{"QuotedAndMultiLine", "email,name,comment\nann@example.com,\"Archer, Ann\",\"line one\nline two with \"\"quotes\"\"\"\n",
			[]mailing.Client{{Email: "ann@example.com", Name: "Archer, Ann", Comment: "line one\nline two with \"quotes\""}}},
		{"BlankRowsAndStrayCommas", "email,name\n\n,,\nann@example.com,Ann,,\n", []mailing.Client{{Email: "ann@example.com", Name: "Ann"}}},
		{"Unicode", "Иван@пример.рф,Иван Петров\n", []mailing.Client{{Email: "Иван@пример.рф", Name: "Иван Петров"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := clientcsv.Parse(strings.NewReader(tc.file))
			require.Empty(t, errs)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("x", mailing.MaxNameLen+1)
	for _, tc := range []struct {
		name string
		file string
		want []clientcsv.RowError
	}{
		{"Rows", "email,name\n" + // line 1
			"ann@example.com,Ann\n" + // 2: good
			",No Email\n" + // 3
			"not-an-address,Bad\n" + // 4
			"\n" + // 5: blank, skipped
			"ANN@Example.com,Ann again\n" + // 6: repeats line 2
			"bob@example.org,Bob,extra\n" + // 7
			"cat@example.com," + long + "\n" + // 8
			"dan@example.com,\xcf\xf0\xe8\xe2\xe5\xf2\n" + // 9: Windows-1251
			"eve@example.com,\"Eve\n", // 10: unclosed quote
			[]clientcsv.RowError{
				{Line: 3, Field: "email", Reason: "missing email"},
				{Line: 4, Field: "email", Reason: `"not-an-address" is not a valid email address`},
				{Line: 6, Field: "email", Reason: `"ANN@Example.com" repeats line 2`},
				{Line: 7, Reason: "too many columns: 3 (the header has 2)"},
				{Line: 8, Field: "name", Reason: "must be at most 200 characters"},
				{Line: 9, Field: "name", Reason: "is not UTF-8 text: save the file as CSV UTF-8"},
				{Line: 10, Reason: `the row cannot be read: a quoted field is not closed, or a quote inside it is not doubled ("")`},
			}},
		{"TooManyColumnsHeaderless", "ann@example.com,Ann,note,more\n",
			[]clientcsv.RowError{{Line: 1, Reason: "too many columns: 4 (email,name[,comment])"}}},
		{"BareQuote", "ann@example.com,An\"n\nbob@example.org,Bob\n",
			[]clientcsv.RowError{{Line: 1, Reason: `the row cannot be read: a quote (") appears inside a field that is not quoted: quote the field and double the quote`}}},
		{"LineNumbersAfterMultiLineField", "email,comment,name\nann@example.com,\"a\nb\nc\",Ann\nbad,,Bad\n",
			[]clientcsv.RowError{{Line: 5, Field: "email", Reason: `"bad" is not a valid email address`}}},
		{"Empty", "", []clientcsv.RowError{{Reason: "the file is empty"}}},
		{"Blank", "\n \r\n,,\n", []clientcsv.RowError{{Reason: "the file is empty"}}},
		{"OnlyHeader", "email,name\n", []clientcsv.RowError{{Reason: "the file has a header but no clients"}}},
		{"UnknownColumn", "email,name,phone\nann@example.com,Ann,123\n",
			[]clientcsv.RowError{{Line: 1, Reason: `unknown column "phone": the columns are email, name and comment`}}},
		{"MissingName", "email,name\nann@example.com,Ann\nbob@example.org, \n,\n",
			[]clientcsv.RowError{{Line: 3, Field: "name", Reason: "missing name: every client needs a full name"}}},
		{"MissingNameHeaderless", "ann@example.com\n",
			[]clientcsv.RowError{{Line: 1, Field: "name", Reason: "missing name: every client needs a full name"}}},
		{"NoNameColumn", "email\nann@example.com\n", []clientcsv.RowError{
			{Line: 1, Reason: "the header has no name column: every client needs a full name"},
			{Line: 2, Field: "name", Reason: "missing name: every client needs a full name"},
		}},
		{"DuplicateColumn", "email,name,Full name\nann@example.com,A,B\n",
			[]clientcsv.RowError{{Line: 1, Reason: `column "name" appears twice (columns 2 and 3)`}}},
		{"NoEmailColumn", "name,comment\nAnn,hi\n", []clientcsv.RowError{
			{Line: 1, Reason: "the header has no email column"},
			{Line: 2, Field: "email", Reason: "missing email"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := clientcsv.Parse(strings.NewReader(tc.file))
			assert.Nil(t, got, "no clients when anything is wrong")
			assert.Equal(t, tc.want, errs)
		})
	}
	t.Run("TooBig", func(t *testing.T) {
		big := strings.Repeat("someone@example.com,Some One\n", clientcsv.MaxBytes/28+10)
		_, errs := clientcsv.Parse(strings.NewReader(big))
		assert.Equal(t, []clientcsv.RowError{{Reason: "the file is larger than 5 MiB: split it into smaller files"}}, errs)
	})
}

func TestRowError(t *testing.T) {
	assert.Equal(t, `line 3: email: missing email`, clientcsv.RowError{Line: 3, Field: "email", Reason: "missing email"}.Error())
	assert.Equal(t, `line 7: too many columns`, clientcsv.RowError{Line: 7, Reason: "too many columns"}.Error())
	assert.Equal(t, `the file is empty`, clientcsv.RowError{Reason: "the file is empty"}.Error())
}

var (
	user1   = accounts.User{ID: 1, Role: accounts.RoleUser}
	manager = accounts.User{ID: 9, Role: accounts.RoleManager}
)

func as(u accounts.User) context.Context { return accounts.WithUser(context.Background(), u) }

// eachStore runs f on a MemStore, SQLite and MySQL.
func eachStore(t *testing.T, f func(t *testing.T, s mailing.Store)) {
	t.Run("MemStore", func(t *testing.T) { f(t, mailingtest.NewMemStore()) })
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		s := sqlstore.New(sqldbtest.New(t, d), d)
		require.NoError(t, s.Migrate(t.Context()))
		f(t, s)
	})
}

func clients(tb testing.TB, svc *mailing.Service) []string {
	tb.Helper()
	list, _, err := svc.ListClients(as(user1), mailing.ClientFilter{})
	require.NoError(tb, err)
	var out []string
	for _, c := range list {
		out = append(out, c.Email)
	}
	return out
}

func TestImport(t *testing.T) {
	eachStore(t, func(t *testing.T, s mailing.Store) {
		svc := mailing.NewService(s, nil)
		t.Run("OK", func(t *testing.T) {
			n, errs, err := clientcsv.Import(as(user1), svc, strings.NewReader("email,name\nann@example.com,Ann\nbob@example.org,Bob\n"))
			require.NoError(t, err)
			assert.Empty(t, errs)
			assert.Equal(t, 2, n)
			assert.Equal(t, []string{"ann@example.com", "bob@example.org"}, clients(t, svc))
		})
		t.Run("ErrInvalidImportsNothing", func(t *testing.T) {
			n, errs, err := clientcsv.Import(as(user1), svc, strings.NewReader("cat@example.com,Cat\nnot-an-address,Nobody\ndan@example.com,Dan\n"))
			require.ErrorIs(t, err, mailing.ErrInvalid)
			assert.Zero(t, n)
			assert.Equal(t, []clientcsv.RowError{{Line: 2, Field: "email", Reason: `"not-an-address" is not a valid email address`}}, errs)
			assert.Equal(t, []string{"ann@example.com", "bob@example.org"}, clients(t, svc), "nothing half-imported")
		})
		t.Run("ErrExistingClients", func(t *testing.T) {
			n, errs, err := clientcsv.Import(as(user1), svc, strings.NewReader("email,name\ncat@example.com,Cat\nBOB@example.org,Bob\ndan@example.com,Dan\nann@example.com,Ann\n"))
			require.ErrorIs(t, err, mailing.ErrInvalid)
			assert.Zero(t, n)
			assert.Equal(t, []clientcsv.RowError{
				{Line: 3, Field: "email", Reason: `"BOB@example.org" is already one of your clients`},
				{Line: 5, Field: "email", Reason: `"ann@example.com" is already one of your clients`},
			}, errs)
			assert.Len(t, clients(t, svc), 2, "nothing half-imported")
		})
		t.Run("ErrForbidden", func(t *testing.T) {
			_, errs, err := clientcsv.Import(as(manager), svc, strings.NewReader("eve@example.com,Eve\n"))
			require.ErrorIs(t, err, mailing.ErrForbidden)
			assert.Empty(t, errs)
			_, _, err = clientcsv.Import(context.Background(), svc, strings.NewReader("eve@example.com,Eve\n"))
			require.ErrorIs(t, err, accounts.ErrUnauthenticated)
		})
		t.Run("OtherOwnersDoNotClash", func(t *testing.T) {
			other := accounts.User{ID: 2, Role: accounts.RoleUser}
			n, errs, err := clientcsv.Import(as(other), svc, strings.NewReader("ann@example.com,Ann\n"))
			require.NoError(t, err)
			assert.Empty(t, errs)
			assert.Equal(t, 1, n)
		})
	})
}
