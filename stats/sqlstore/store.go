package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/stats"
)

// Store is a stats.Store that reads the tables of mailing/sqlstore (it
// has no schema of its own: migrate the mailing store). It is safe for
// concurrent use.
type Store struct {
	db *sql.DB
	d  dialect
}

var _ stats.Store = (*Store)(nil)

// dialect is the SQL that differs between the engines.
type dialect struct {
	// hour is the expression of an attempt's UTC hour as text
	// "YYYY-MM-DD HH".
	hour string
}

var dialects = map[sqldb.Dialect]dialect{
	sqldb.SQLite: {hour: "substr(at, 1, 13)"},
	sqldb.MySQL:  {hour: "DATE_FORMAT(at, '%Y-%m-%d %H')"},
}

// New returns a store on db, a pool of dialect d holding the mailing
// tables.
func New(db *sql.DB, d sqldb.Dialect) (*Store, error) {
	dl, ok := dialects[d]
	if !ok {
		return nil, fmt.Errorf("stats/sqlstore: %w", d.Check())
	}
	if db == nil {
		return nil, errors.New("stats/sqlstore: no database")
	}
	return &Store{db: db, d: dl}, nil
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("stats/sqlstore: %s: %w", op, err)
}

// read runs fn in a read-only transaction: the figures of one call come
// from one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return sqldb.InTxWith(ctx, s.db, &sql.TxOptions{ReadOnly: true}, fn)
}

// owner filters a table (alias a) by owner: nothing for owner 0.
func owner(alias string, id int64) (string, []any) {
	if id == 0 {
		return "", nil
	}
	return " AND " + alias + ".owner_id = ?", []any{id}
}

// HomeFigures computes the home page's figures at now.
func (s *Store) HomeFigures(ctx context.Context, now time.Time) (stats.HomeFigures, error) {
	var f stats.HomeFigures
	t := sqldb.TimeArg(now)
	err := s.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM mailings),
			(SELECT COUNT(*) FROM mailings WHERE enabled = 1 AND start_at <= ? AND end_at >= ?),
			(SELECT MIN(t) FROM (
				SELECT MIN(start_at) AS t FROM mailings WHERE enabled = 1 AND start_at > ?
				UNION ALL
				SELECT MIN(end_at) FROM mailings WHERE enabled = 1 AND end_at >= ?) AS n)`,
			t, t, t, t).Scan(&f.Mailings, &f.Active, sqldb.ScanTime(&f.NextChange))
		if err != nil {
			return err
		}
		f.UniqueClients, err = uniqueClients(ctx, tx, 0)
		return err
	})
	return f, wrap("home figures", err)
}

// uniqueClients counts the distinct normalised emails of clients in at
// least one mailing (of owner, when not 0). A client's mailings are its
// owner's, so the client's owner filters both.
func uniqueClients(ctx context.Context, tx *sql.Tx, ownerID int64) (int, error) {
	cond, args := owner("c", ownerID)
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT c.email_norm) FROM mailing_clients c
		WHERE EXISTS (SELECT 1 FROM mailing_recipients r WHERE r.client_id = c.id)`+cond, args...).Scan(&n)
	return n, err
}

// UserFigures computes an owner's figures at now.
func (s *Store) UserFigures(ctx context.Context, ownerID int64, now time.Time) (stats.UserFigures, error) {
	var f stats.UserFigures
	t := sqldb.TimeArg(now)
	mc, margs := owner("m", ownerID)
	cc, cargs := owner("c", ownerID)
	dc, dargs := owner("d", ownerID)
	err := s.read(ctx, func(tx *sql.Tx) error {
		args := append([]any{t, t}, margs...)
		args = append(append(args, margs...), cargs...)
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM mailings m WHERE enabled = 1 AND start_at <= ? AND end_at >= ?`+mc+`),
			(SELECT COUNT(*) FROM mailings m WHERE 1 = 1`+mc+`),
			(SELECT COUNT(*) FROM mailing_clients c WHERE 1 = 1`+cc+`)`,
			args...).Scan(&f.Active, &f.Mailings, &f.Clients)
		if err != nil {
			return err
		}
		if f.UniqueClients, err = uniqueClients(ctx, tx, ownerID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.state, COUNT(*) FROM mailing_deliveries d WHERE 1 = 1`+dc+` GROUP BY d.state`, dargs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var state mailing.DeliveryState
			var n int
			if err := rows.Scan(&state, &n); err != nil {
				return err
			}
			switch state {
			case mailing.DeliverySent:
				f.Sent += n
			case mailing.DeliveryFailed:
				f.Failed += n
			case mailing.DeliveryUnknown:
				f.Unknown += n
			default:
				f.Pending += n
			}
		}
		return rows.Err()
	})
	return f, wrap("user figures", err)
}

// HourlySends counts the attempts matching f per UTC hour.
func (s *Store) HourlySends(ctx context.Context, f stats.SendsFilter) ([]stats.SendCount, error) {
	var w sqldb.Where
	w.And("at >= ?", sqldb.TimeArg(f.From))
	w.And("at < ?", sqldb.TimeArg(f.To))
	if f.OwnerID != 0 {
		w.And("owner_id = ?", f.OwnerID)
	}
	if f.MailingID != 0 {
		w.And("mailing_id = ?", f.MailingID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+s.d.hour+` AS h, outcome, COUNT(*) FROM mailing_attempts`+w.SQL()+
		` GROUP BY h, outcome ORDER BY h`, w.Args()...)
	if err != nil {
		return nil, wrap("hourly sends", err)
	}
	defer rows.Close()
	var out []stats.SendCount
	for rows.Next() {
		var hour string
		var o mailing.Outcome
		var n int
		if err := rows.Scan(&hour, &o, &n); err != nil {
			return nil, wrap("hourly sends", err)
		}
		start, err := time.ParseInLocation("2006-01-02 15", hour, time.UTC)
		if err != nil {
			return nil, wrap("hourly sends", err)
		}
		if len(out) == 0 || !out[len(out)-1].Start.Equal(start) {
			out = append(out, stats.SendCount{Start: start})
		}
		c := &out[len(out)-1]
		switch o {
		case mailing.OutcomeSent:
			c.Sent += n
		case mailing.OutcomePermanent:
			c.Failed += n
		case mailing.OutcomeTemporary:
			c.Retried += n
		case mailing.OutcomeUnknown:
			c.Unknown += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("hourly sends", err)
	}
	return out, nil
}

// ClientStatuses returns the status of every client of the mailing's
// ledger: its latest delivery (by run) and its last attempt (by time, then
// id), each picked with ROW_NUMBER over the mailing's rows.
func (s *Store) ClientStatuses(ctx context.Context, mailingID int64, o mailing.ListOptions) ([]stats.ClientStatus, int, error) {
	var out []stats.ClientStatus
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT client_id) FROM mailing_deliveries WHERE mailing_id = ?`, mailingID).Scan(&total); err != nil {
			return err
		}
		var err error
		out, err = sqldb.Query(ctx, tx, scanStatus, `
			WITH d AS (
				SELECT client_id, email, name, run_at, state, attempts,
					ROW_NUMBER() OVER (PARTITION BY client_id ORDER BY run_at DESC, id DESC) AS rn
				FROM mailing_deliveries WHERE mailing_id = ?),
			a AS (
				SELECT client_id, at, run_at, outcome, code, response,
					ROW_NUMBER() OVER (PARTITION BY client_id ORDER BY at DESC, id DESC) AS rn
				FROM mailing_attempts WHERE mailing_id = ?)
			SELECT d.client_id, d.email, d.name, d.run_at, d.state, d.attempts,
				a.at, a.run_at, COALESCE(a.outcome, ''), COALESCE(a.code, 0), COALESCE(a.response, '')
			FROM d LEFT JOIN a ON a.client_id = d.client_id AND a.rn = 1
			WHERE d.rn = 1
			ORDER BY d.client_id LIMIT ? OFFSET ?`,
			append([]any{mailingID, mailingID}, sqldb.PageArgs(o.Limit, o.Offset)...)...)
		return err
	})
	if err != nil {
		return nil, 0, wrap("client statuses", err)
	}
	return out, total, nil
}

func scanStatus(sc sqldb.Scanner) (stats.ClientStatus, error) {
	var c stats.ClientStatus
	err := sc.Scan(&c.ClientID, &c.Email, &c.Name, sqldb.ScanTime(&c.RunAt), &c.State, &c.Attempts,
		sqldb.ScanTime(&c.LastAt), sqldb.ScanTime(&c.LastRun), &c.Outcome, &c.Code, &c.Response)
	return c, err
}
