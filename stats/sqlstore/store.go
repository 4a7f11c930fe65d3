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
		var c stats.DeliveryCounts
		for rows.Next() {
			var state mailing.DeliveryState
			var n int
			if err := rows.Scan(&state, &n); err != nil {
				return err
			}
			c.Add(state, n)
		}
		f.Sent, f.Failed, f.Unknown, f.Pending = c.Sent, c.Failed, c.Unknown, c.Pending
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
	by, err := scanHours(rows, false)
	if err != nil {
		return nil, wrap("hourly sends", err)
	}
	return by[0], nil
}

// scanHours reads rows of (hour, outcome, count), with the owner first
// when owners is set, in (owner and) hour order, into counts per hour by
// owner (all under 0 when owners is not set), and closes rows.
func scanHours(rows *sql.Rows, owners bool) (map[int64][]stats.SendCount, error) {
	defer rows.Close()
	out := map[int64][]stats.SendCount{}
	for rows.Next() {
		var owner int64
		var hour string
		var o mailing.Outcome
		var n int
		dst := []any{&hour, &o, &n}
		if owners {
			dst = append([]any{&owner}, dst...)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		start, err := time.ParseInLocation("2006-01-02 15", hour, time.UTC)
		if err != nil {
			return nil, err
		}
		hs := out[owner]
		if len(hs) == 0 || !hs[len(hs)-1].Start.Equal(start) {
			hs = append(hs, stats.SendCount{Start: start})
		}
		hs[len(hs)-1].Add(o, n)
		out[owner] = hs
	}
	return out, rows.Err()
}

// Catalog reads every mailing's window and every owner's client counts.
// Nothing here reads the ledger: it costs a pass over the mailings and
// the clients.
func (s *Store) Catalog(ctx context.Context) (stats.Catalog, error) {
	c := stats.Catalog{Owners: map[int64]stats.ClientCounts{}}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		c.Mailings, err = sqldb.Query(ctx, tx, func(sc sqldb.Scanner) (stats.MailingWindow, error) {
			var w stats.MailingWindow
			err := sc.Scan(&w.OwnerID, &w.Enabled, sqldb.ScanTime(&w.Start), sqldb.ScanTime(&w.End))
			return w, err
		}, `SELECT owner_id, enabled, start_at, end_at FROM mailings`)
		if err != nil {
			return err
		}
		if err := countBy(ctx, tx, `SELECT owner_id, COUNT(*) FROM mailing_clients GROUP BY owner_id`, func(owner int64, n int) {
			cc := c.Owners[owner]
			cc.Clients = n
			c.Owners[owner] = cc
		}); err != nil {
			return err
		}
		if err := countBy(ctx, tx, `SELECT c.owner_id, COUNT(DISTINCT c.email_norm) FROM mailing_clients c
			WHERE EXISTS (SELECT 1 FROM mailing_recipients r WHERE r.client_id = c.id) GROUP BY c.owner_id`, func(owner int64, n int) {
			cc := c.Owners[owner]
			cc.UniqueClients = n
			c.Owners[owner] = cc
		}); err != nil {
			return err
		}
		c.UniqueClients, err = uniqueClients(ctx, tx, 0)
		return err
	})
	if err != nil {
		return stats.Catalog{}, wrap("catalog", err)
	}
	return c, nil
}

// countBy runs a query of (owner, count) rows and hands each to add.
func countBy(ctx context.Context, tx *sql.Tx, query string, add func(owner int64, n int)) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var owner int64
		var n int
		if err := rows.Scan(&owner, &n); err != nil {
			return err
		}
		add(owner, n)
	}
	return rows.Err()
}

// Ledger counts every owner's deliveries by state and attempts per hour
// from since. Both are one pass over their table (neither has an index
// that would answer them): this is the expensive read a ReadModel keeps
// off the request path.
func (s *Store) Ledger(ctx context.Context, since time.Time) (stats.Ledger, error) {
	l := stats.Ledger{Deliveries: map[int64]stats.DeliveryCounts{}}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT owner_id, state, COUNT(*) FROM mailing_deliveries GROUP BY owner_id, state`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var owner int64
			var st mailing.DeliveryState
			var n int
			if err := rows.Scan(&owner, &st, &n); err != nil {
				return err
			}
			c := l.Deliveries[owner]
			c.Add(st, n)
			l.Deliveries[owner] = c
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT owner_id, `+s.d.hour+` AS h, outcome, COUNT(*) FROM mailing_attempts
			WHERE at >= ? GROUP BY owner_id, h, outcome ORDER BY owner_id, h`, sqldb.TimeArg(since))
		if err != nil {
			return err
		}
		l.Hours, err = scanHours(rows, true)
		return err
	})
	if err != nil {
		return stats.Ledger{}, wrap("ledger", err)
	}
	return l, nil
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
