package sqldb

import (
	"context"
	"database/sql"
	"math"
	"strconv"
	"strings"
)

// Querier is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// In returns n comma-separated placeholders for an IN list: In(3) is
// "?,?,?". n must be at least 1.
func In(n int) string {
	if n <= 0 {
		panic("sqldb: In needs at least one placeholder")
	}
	return strings.Repeat("?,", n-1) + "?"
}

// Values returns the placeholders of a multi-row VALUES list of rows rows
// of cols columns: Values(2, 3) is "(?,?,?),(?,?,?)". Both must be at
// least 1.
func Values(rows, cols int) string {
	row := "(" + In(cols) + ")"
	if rows <= 0 {
		panic("sqldb: Values needs at least one row")
	}
	return strings.Repeat(row+",", rows-1) + row
}

// SelectRows returns a SELECT of rows rows of placeholders with the given
// column names, joined by UNION ALL: a derived table of arguments that
// both SQLite and MySQL accept (SQLite allows at most 500 rows):
//
//	SelectRows(2, "id", "state") == "SELECT ? AS id, ? AS state UNION ALL SELECT ?, ?"
func SelectRows(rows int, cols ...string) string {
	if rows <= 0 || len(cols) == 0 {
		panic("sqldb: SelectRows needs at least one row and one column")
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("? AS ")
		b.WriteString(c)
	}
	next := " UNION ALL SELECT " + strings.Repeat("?, ", len(cols)-1) + "?"
	b.WriteString(strings.Repeat(next, rows-1))
	return b.String()
}

// Args returns vs as query arguments, for an IN list or a multi-row
// insert.
func Args[T any](vs []T) []any {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return args
}

// Where collects the conditions of an optional-filter WHERE clause and
// their arguments, in order.
type Where struct {
	conds []string
	args  []any
}

// And adds cond, whose placeholders take args.
func (w *Where) And(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// SQL returns " WHERE c1 AND c2 ..." or "" when there is no condition.
func (w *Where) SQL() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Args returns the arguments of the conditions, followed by extra.
func (w *Where) Args(extra ...any) []any {
	return append(append([]any(nil), w.args...), extra...)
}

// PageArgs returns the arguments of " LIMIT ? OFFSET ?" for a list page:
// a limit of 0 means no limit.
func PageArgs(limit, offset int) []any {
	return []any{Limit(limit), int64(max(offset, 0))}
}

// Limit returns the argument of "LIMIT ?" for at most n rows, where 0 (or
// less) means no limit.
func Limit(n int) int64 {
	if n <= 0 {
		return math.MaxInt64
	}
	return int64(n)
}

// JSONInts returns ids as a JSON array, the argument of Dialect.JSONIDs.
func JSONInts(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// Scanner is a row to scan: *sql.Row or *sql.Rows.
type Scanner interface {
	Scan(dest ...any) error
}

// Query runs query and returns scan's value for each row, in order.
func Query[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// ScanInt64 scans a row of one integer column, for Query.
func ScanInt64(sc Scanner) (int64, error) {
	var v int64
	err := sc.Scan(&v)
	return v, err
}
