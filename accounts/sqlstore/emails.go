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

// RecordEmail implements accounts.Store. The user's row is locked first
// (MySQL: SELECT ... FOR UPDATE; SQLite: the transaction holds the write
// lock from its start), so concurrent calls for one user count and insert
// one after another.
func (s *Store) RecordEmail(ctx context.Context, e accounts.EmailRecord, q accounts.EmailQuota) (bool, error) {
	lock := `SELECT id FROM accounts_users WHERE id = ?`
	if s.dialect == sqldb.MySQL {
		lock += ` FOR UPDATE`
	}
	var ok bool
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		ok = false
		var id int64
		err := tx.QueryRowContext(ctx, lock, e.UserID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", e.UserID, accounts.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("accounts/sqlstore: record email: %w", err)
		}
		if h := q.Horizon(); !h.IsZero() {
			if _, err := tx.ExecContext(ctx, `DELETE FROM accounts_emails WHERE user_id = ? AND sent_at < ?`,
				e.UserID, sqldb.TimeArg(h)); err != nil {
				return fmt.Errorf("accounts/sqlstore: record email: %w", err)
			}
		}
		var same, all int
		err = tx.QueryRowContext(ctx, `
			SELECT
				COALESCE(SUM(CASE WHEN kind = ? AND sent_at >= ? THEN 1 ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN sent_at >= ? THEN 1 ELSE 0 END), 0)
			FROM accounts_emails WHERE user_id = ?`,
			string(e.Kind), sqldb.FormatTime(orEpoch(q.KindSince)), sqldb.FormatTime(orEpoch(q.Since)), e.UserID).Scan(&same, &all)
		if err != nil {
			return fmt.Errorf("accounts/sqlstore: record email: %w", err)
		}
		if (!q.KindSince.IsZero() && same > 0) || (q.Max > 0 && all >= q.Max) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts_emails (user_id, kind, sent_at) VALUES (?, ?, ?)`,
			e.UserID, string(e.Kind), sqldb.TimeArg(e.At)); err != nil {
			return fmt.Errorf("accounts/sqlstore: record email: %w", err)
		}
		ok = true
		return nil
	})
	return ok, err
}

// DeleteEmail implements accounts.Store.
func (s *Store) DeleteEmail(ctx context.Context, e accounts.EmailRecord) error {
	// One row: two identical records (same microsecond) stand for two emails.
	q := `DELETE FROM accounts_emails WHERE id = (SELECT id FROM accounts_emails WHERE user_id = ? AND kind = ? AND sent_at = ? LIMIT 1)`
	if s.dialect == sqldb.MySQL {
		// MySQL cannot select from the table a DELETE changes.
		q = `DELETE FROM accounts_emails WHERE user_id = ? AND kind = ? AND sent_at = ? LIMIT 1`
	}
	if _, err := s.db.ExecContext(ctx, q, e.UserID, string(e.Kind), sqldb.TimeArg(e.At)); err != nil {
		return fmt.Errorf("accounts/sqlstore: delete email: %w", err)
	}
	return nil
}

// orEpoch is t, or 1970 for the zero time (which MySQL's DATETIME cannot
// hold): "since the beginning".
func orEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0)
	}
	return t
}
