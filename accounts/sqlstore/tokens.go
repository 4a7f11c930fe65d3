package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/sqldb"
)

// CreateToken implements accounts.Store. The row is inserted only if its
// user exists, so a missing user is ErrNotFound whether or not the
// connection enforces foreign keys.
func (s *Store) CreateToken(ctx context.Context, t accounts.Token) error {
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO accounts_tokens (hash, kind, user_id, created_at, expires_at)
		SELECT ?, ?, id, ?, ? FROM accounts_users WHERE id = ?`,
		t.Hash, string(t.Kind), sqldb.TimeArg(t.CreatedAt), sqldb.TimeArg(t.ExpiresAt), t.UserID)
	switch {
	case sqldb.IsUniqueViolation(err):
		return fmt.Errorf("token: %w", accounts.ErrConflict)
	case sqldb.IsForeignKeyViolation(err):
		return fmt.Errorf("token for user %d: %w", t.UserID, accounts.ErrNotFound)
	case err != nil:
		return fmt.Errorf("accounts/sqlstore: create token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("accounts/sqlstore: create token: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("token for user %d: %w", t.UserID, accounts.ErrNotFound)
	}
	return nil
}

const validToken = `FROM accounts_tokens WHERE hash = ? AND kind = ? AND expires_at > ?`

func checkToken(ctx context.Context, q sqldb.Querier, kind accounts.TokenKind, hash string, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT user_id `+validToken, hash, string(kind), sqldb.TimeArg(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, accounts.ErrTokenInvalid
	}
	if err != nil {
		return 0, fmt.Errorf("accounts/sqlstore: check token: %w", err)
	}
	return id, nil
}

// CheckToken implements accounts.Store.
func (s *Store) CheckToken(ctx context.Context, kind accounts.TokenKind, hash string, now time.Time) (int64, error) {
	return checkToken(ctx, s.db, kind, hash, now)
}

// ConsumeToken implements accounts.Store. Of concurrent callers, only the
// one whose DELETE removes the row wins: the others' DELETE waits for the
// winner's row lock (MySQL) or write lock (SQLite) and then finds nothing.
func (s *Store) ConsumeToken(ctx context.Context, kind accounts.TokenKind, hash string, now time.Time) (int64, error) {
	var id int64
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		if id, err = checkToken(ctx, tx, kind, hash, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE `+validToken, hash, string(kind), sqldb.TimeArg(now))
		if err != nil {
			return fmt.Errorf("accounts/sqlstore: consume token: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("accounts/sqlstore: consume token: %w", err)
		}
		if n != 1 {
			return accounts.ErrTokenInvalid
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// CountTokens implements accounts.Store.
func (s *Store) CountTokens(ctx context.Context, userID int64, kind accounts.TokenKind, since time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM accounts_tokens WHERE user_id = ? AND kind = ? AND created_at >= ?`,
		userID, string(kind), sqldb.TimeArg(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("accounts/sqlstore: count tokens: %w", err)
	}
	return n, nil
}

// DeleteTokens implements accounts.Store.
func (s *Store) DeleteTokens(ctx context.Context, userID int64, kind accounts.TokenKind) error {
	_, err := s.db.ExecContext(ctx, `
		DELETE FROM accounts_tokens WHERE user_id = ? AND (? = '' OR kind = ?)`,
		userID, string(kind), string(kind))
	if err != nil {
		return fmt.Errorf("accounts/sqlstore: delete tokens: %w", err)
	}
	return nil
}

// DeleteExpiredTokens implements accounts.Store.
func (s *Store) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM accounts_tokens WHERE expires_at <= ?`, sqldb.TimeArg(now))
	if err != nil {
		return 0, fmt.Errorf("accounts/sqlstore: delete expired tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("accounts/sqlstore: delete expired tokens: %w", err)
	}
	return n, nil
}
