package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/skychimp/skychimp/internal/sqldb"
)

// RequeueFailed moves the failed deliveries of one run back to pending; see
// mailing.Ledger.
func (s *Store) RequeueFailed(ctx context.Context, mailingID int64, runAt, now time.Time) (int, error) {
	const op = "requeue failed"
	at := sqldb.Micro(now)
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE mailing_deliveries
			SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_owner = '', lease_until = NULL, updated_at = ?
			WHERE mailing_id = ? AND run_at = ? AND state = 'failed'`,
			sqldb.TimeArg(at), sqldb.TimeArg(at), mailingID, sqldb.TimeArg(sqldb.Micro(runAt)))
		if err != nil {
			return err
		}
		n, err = affected(res)
		return err
	})
	return int(n), wrap(op, err)
}
