package sqlstore

import (
	"context"
	"database/sql"

	"github.com/skychimp/skychimp/internal/sqldb"
)

// hot returns what runs the ledger's hot statements in tx. On SQLite,
// whose statements are compiled in the process (compiling a small
// statement costs more than running it), that is a cache of statements
// prepared once per connection; on MySQL, whose driver interpolates the
// arguments into the text (one round trip per statement), tx itself.
//
// Only statements of fixed text may go through it: the cache keeps every
// text it sees.
func (s *Store) hot(tx *sql.Tx) sqldb.Querier {
	if s.d.prepare {
		return preparedTx{s: s, tx: tx}
	}
	return tx
}

// preparedTx runs statements in tx from the store's prepared statements.
type preparedTx struct {
	s  *Store
	tx *sql.Tx
}

// stmt returns query prepared for the transaction's connection.
func (p preparedTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, ok := p.s.stmts.Load(query)
	if !ok {
		prep, err := p.s.db.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		var loaded bool
		if st, loaded = p.s.stmts.LoadOrStore(query, prep); loaded {
			_ = prep.Close()
		}
	}
	// A statement of the pool is prepared again on the transaction's
	// connection the first time, then kept there.
	return p.tx.StmtContext(ctx, st.(*sql.Stmt)), nil
}

func (p preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.tx.QueryRowContext(ctx, query, args...) // fails the same way
	}
	return st.QueryRowContext(ctx, args...)
}
