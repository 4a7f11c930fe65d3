package clientcsv

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

// MaxBytes is the largest file accepted.
const MaxBytes = 5 << 20

// RowError is one problem with a file: its line (the file's own numbering,
// the header being line 1; 0 for the file as a whole), the column
// concerned ("email", "name", "comment"; "" for the whole row) and the
// reason, worded for the person who made the file.
type RowError struct {
	Line   int
	Field  string
	Reason string
}

func (e RowError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// The columns of a file, and the header names each is recognised by
// (compared case-insensitively, ignoring spaces, "-" and "_").
var columns = map[string]string{
	"email": "email", "emailaddress": "email", "mail": "email",
	"name": "name", "fullname": "name",
	"comment": "comment", "comments": "comment", "note": "comment", "notes": "comment",
}

func columnOf(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.NewReplacer(" ", "", "-", "", "_", "").Replace(h)
	return columns[h]
}

// row is a parsed data row and its line.
type row struct {
	line   int
	client mailing.Client
}

// Parse reads clients from a CSV file: comma-, semicolon- or
// tab-separated, UTF-8 (a byte-order mark is skipped), quoted as RFC 4180
// says. When the first row names columns (email, name, comment in any
// order and case; "e-mail", "full name", "notes" and the like too), it is
// the header; otherwise every row is email,name[,comment]. Blank rows
// are skipped.
//
// Every problem is reported with its line: a row that cannot be read,
// too many columns, text that is not UTF-8, a missing or invalid email, a
// missing name, a name or comment too long, an email repeated within the file (naming the
// line where it first appears); and for the file: empty, too big, a bad
// header. Clients are returned only when there is no problem at all.
func Parse(r io.Reader) ([]mailing.Client, []RowError) {
	rows, errs := parse(r)
	if len(errs) > 0 {
		return nil, errs
	}
	out := make([]mailing.Client, len(rows))
	for i, rw := range rows {
		out[i] = rw.client
	}
	return out, nil
}

func parse(r io.Reader) ([]row, []RowError) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	switch {
	case err != nil:
		return nil, []RowError{{Reason: "the file could not be read: " + err.Error()}}
	case len(data) > MaxBytes:
		return nil, []RowError{{Reason: fmt.Sprintf("the file is larger than %d MiB: split it into smaller files", MaxBytes>>20)}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, []RowError{{Reason: "the file is empty"}}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delimiter(data)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true

	var (
		rows   []row
		errs   []RowError
		header []string // the column of each field; nil: no header
		seen   = map[string]int{}
		first  = true
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, RowError{Line: pe.StartLine, Reason: "the row cannot be read: " + readable(pe.Err)})
				first = false
				continue
			}
			return nil, append(errs, RowError{Reason: "the file could not be read: " + err.Error()})
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if first {
			first = false
			if h, herrs, ok := parseHeader(rec, line); ok {
				header = h
				errs = append(errs, herrs...)
				continue
			}
		}
		rw, rerrs := parseRow(rec, line, header)
		if len(rerrs) > 0 {
			errs = append(errs, rerrs...)
			continue
		}
		key := mailing.NormalizeEmail(rw.client.Email)
		if at, dup := seen[key]; dup {
			errs = append(errs, RowError{Line: line, Field: "email", Reason: fmt.Sprintf("%q repeats line %d", rw.client.Email, at)})
			continue
		}
		seen[key] = line
		rows = append(rows, rw)
	}
	if len(rows) == 0 && len(errs) == 0 {
		if header != nil {
			return nil, []RowError{{Reason: "the file has a header but no clients"}}
		}
		return nil, []RowError{{Reason: "the file is empty"}}
	}
	return rows, errs
}

// delimiter picks the separator its first line uses most: ',', ';' or tab.
func delimiter(data []byte) rune {
	firstLine, _, _ := bytes.Cut(data, []byte("\n"))
	best, n := ',', bytes.Count(firstLine, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(firstLine, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func readable(err error) string {
	switch {
	case errors.Is(err, csv.ErrQuote):
		return `a quoted field is not closed, or a quote inside it is not doubled ("")`
	case errors.Is(err, csv.ErrBareQuote):
		return `a quote (") appears inside a field that is not quoted: quote the field and double the quote`
	}
	return err.Error()
}

// parseHeader reports whether rec is a header (it names at least one known
// column and holds no address), with the column of each field and its
// problems.
func parseHeader(rec []string, line int) ([]string, []RowError, bool) {
	known := false
	for _, f := range rec {
		if strings.Contains(f, "@") {
			return nil, nil, false
		}
		if columnOf(f) != "" {
			known = true
		}
	}
	if !known {
		return nil, nil, false
	}
	var errs []RowError
	cols := make([]string, len(rec))
	where := map[string]int{}
	for i, f := range rec {
		c := columnOf(f)
		switch {
		case c == "" && strings.TrimSpace(f) == "":
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf("column %d of the header has no name: the columns are email, name and comment", i+1)})
		case c == "":
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf("unknown column %q: the columns are email, name and comment", strings.TrimSpace(f))})
		case where[c] > 0:
			errs = append(errs, RowError{Line: line, Reason: fmt.Sprintf("column %q appears twice (columns %d and %d)", c, where[c], i+1)})
		default:
			where[c] = i + 1
		}
		cols[i] = c
	}
	if where["email"] == 0 {
		errs = append(errs, RowError{Line: line, Reason: "the header has no email column"})
	}
	if where["name"] == 0 {
		errs = append(errs, RowError{Line: line, Reason: "the header has no name column: every client needs a full name"})
	}
	return cols, errs, true
}

// parseRow reads one data row in the header's columns, or as
// email,name[,comment] without a header, and validates it.
func parseRow(rec []string, line int, header []string) (row, []RowError) {
	cols := header
	if cols == nil {
		cols = []string{"email", "name", "comment"}
	}
	if len(rec) > len(cols) {
		// Trailing empty fields (a spreadsheet's stray commas) are harmless.
		extra := rec[len(cols):]
		if !blank(extra) {
			want := "email,name[,comment]"
			if header != nil {
				want = fmt.Sprintf("the header has %d", len(header))
			}
			return row{}, []RowError{{Line: line, Reason: fmt.Sprintf("too many columns: %d (%s)", len(rec), want)}}
		}
	}
	var c mailing.Client
	var errs []RowError
	for i, f := range rec {
		if i >= len(cols) {
			break
		}
		if !utf8.ValidString(f) {
			errs = append(errs, RowError{Line: line, Field: cols[i], Reason: "is not UTF-8 text: save the file as CSV UTF-8"})
			continue
		}
		switch cols[i] {
		case "email":
			c.Email = f
		case "name":
			c.Name = f
		case "comment":
			c.Comment = f
		}
	}
	if len(errs) > 0 {
		return row{}, errs
	}
	if strings.TrimSpace(c.Email) == "" {
		errs = append(errs, RowError{Line: line, Field: "email", Reason: "missing email"})
	}
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, RowError{Line: line, Field: "name", Reason: "missing name: every client needs a full name"})
	}
	if len(errs) > 0 {
		return row{}, errs
	}
	if err := c.Validate(); err != nil {
		var ve *mailing.ValidationError
		if !errors.As(err, &ve) {
			return row{}, []RowError{{Line: line, Reason: err.Error()}}
		}
		for _, fe := range ve.Fields {
			errs = append(errs, RowError{Line: line, Field: fe.Field, Reason: fe.Message})
		}
		return row{}, errs
	}
	return row{line: line, client: c}, nil
}

// Import parses the file (see Parse) and, when every row is good, stores
// all its clients as the acting user's with svc.ImportClients, in one
// transaction. It returns how many it stored.
//
// Nothing is stored when anything is wrong: then errs lists every problem
// with its line (an address that is already one of the user's clients
// included) and err wraps mailing.ErrInvalid. Other errors (no access,
// the database) come back as err alone.
func Import(ctx context.Context, svc *mailing.Service, r io.Reader) (n int, errs []RowError, err error) {
	rows, errs := parse(r)
	if len(errs) > 0 {
		return 0, errs, invalid(errs)
	}
	if errs, err = existing(ctx, svc, rows); err != nil || len(errs) > 0 {
		if len(errs) > 0 {
			err = invalid(errs)
		}
		return 0, errs, err
	}
	clients := make([]mailing.Client, len(rows))
	for i, rw := range rows {
		clients[i] = rw.client
	}
	stored, err := svc.ImportClients(ctx, clients)
	if err != nil {
		var ve *mailing.ValidationError
		if errors.As(err, &ve) {
			errs = fromService(ve, rows)
			return 0, errs, invalid(errs)
		}
		if errors.Is(err, mailing.ErrConflict) {
			// Another import or form added one of the addresses meanwhile.
			errs = []RowError{{Field: "email", Reason: "an address in the file was added as a client while the file was imported: import it again to see which"}}
			return 0, errs, fmt.Errorf("%w: %w", mailing.ErrInvalid, err)
		}
		return 0, nil, err
	}
	return len(stored), nil, nil
}

func invalid(errs []RowError) error {
	if len(errs) == 1 {
		return fmt.Errorf("%w: %s", mailing.ErrInvalid, errs[0].Error())
	}
	return fmt.Errorf("%w: %d problems in the file, the first: %s", mailing.ErrInvalid, len(errs), errs[0].Error())
}

// existing reports the rows whose address is already one of the acting
// user's clients.
func existing(ctx context.Context, svc *mailing.Service, rows []row) ([]RowError, error) {
	u, err := accounts.MustUserFrom(ctx)
	if err != nil {
		return nil, err
	}
	have, _, err := svc.ListClients(ctx, mailing.ClientFilter{OwnerID: u.ID})
	if err != nil {
		return nil, err
	}
	taken := make(map[string]bool, len(have))
	for _, c := range have {
		taken[mailing.NormalizeEmail(c.Email)] = true
	}
	var errs []RowError
	for _, rw := range rows {
		if taken[mailing.NormalizeEmail(rw.client.Email)] {
			errs = append(errs, RowError{Line: rw.line, Field: "email", Reason: fmt.Sprintf("%q is already one of your clients", rw.client.Email)})
		}
	}
	return errs, nil
}

// fromService maps ImportClients' "row N: field" errors to the file's
// lines.
func fromService(ve *mailing.ValidationError, rows []row) []RowError {
	var out []RowError
	for _, f := range ve.Fields {
		e := RowError{Field: f.Field, Reason: f.Message}
		if prefix, field, ok := strings.Cut(f.Field, ": "); ok {
			if i, err := strconv.Atoi(strings.TrimPrefix(prefix, "row ")); err == nil && i >= 1 && i <= len(rows) {
				e.Line, e.Field = rows[i-1].line, field
			}
		}
		out = append(out, e)
	}
	return out
}
