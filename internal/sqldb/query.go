package sqldb

import (
	"context"
	"database/sql"
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

// Args returns vs as query arguments, for an IN list or a multi-row
// insert.
func Args[T any](vs []T) []any {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return args
}
