package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
)

const mailingCols = "id, owner_id, name, message_id, start_at, end_at, period, time_zone, enabled, next_run, created_at, updated_at"

func scanMailing(sc sqldb.Scanner) (mailing.Mailing, error) {
	var m mailing.Mailing
	err := sc.Scan(&m.ID, &m.OwnerID, &m.Name, &m.MessageID,
		sqldb.ScanTime(&m.Start), sqldb.ScanTime(&m.End), &m.Period, &m.TimeZone, &m.Enabled,
		sqldb.ScanTime(&m.NextRun), sqldb.ScanTime(&m.CreatedAt), sqldb.ScanTime(&m.UpdatedAt))
	return m, err
}

// CreateMailing stores m with its client set in one transaction, setting
// m.ID, m.CreatedAt and m.UpdatedAt.
func (s *Store) CreateMailing(ctx context.Context, m *mailing.Mailing) error {
	const op = "create mailing"
	now := s.now()
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := checkMessage(ctx, tx, op, m.MessageID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO mailings (owner_id, name, message_id, start_at, end_at, period, time_zone, enabled, next_run, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.OwnerID, m.Name, m.MessageID, sqldb.TimeArg(m.Start), sqldb.TimeArg(m.End), m.Period, m.TimeZone,
			m.Enabled, sqldb.TimeArg(m.NextRun), sqldb.TimeArg(now), sqldb.TimeArg(now))
		if err != nil {
			return wrap(op, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return wrap(op, err)
		}
		return s.addRecipients(ctx, tx, op, id, m.ClientIDs)
	})
	if err != nil {
		return err
	}
	m.ID, m.CreatedAt, m.UpdatedAt = id, now, now
	return nil
}

func checkMessage(ctx context.Context, tx *sql.Tx, op string, id int64) error {
	ok, err := exists(ctx, tx, "mailing_messages", id)
	if err != nil {
		return wrap(op, err)
	}
	if !ok {
		return notFound(op, "message", id)
	}
	return nil
}

// addRecipients adds clients to the client set of mailing id: all of them
// exist, or ErrNotFound names the first missing one.
func (s *Store) addRecipients(ctx context.Context, tx *sql.Tx, op string, id int64, clients []int64) error {
	ids := uniqueIDs(clients)
	if len(ids) == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO mailing_recipients (mailing_id, client_id)
		SELECT ?, c.id FROM mailing_clients c WHERE c.id IN (`+s.d.name.JSONIDs()+`)`,
		id, sqldb.JSONInts(ids))
	if sqldb.IsForeignKeyViolation(err) { // a client deleted meanwhile
		return notFound(op, "client", ids[0])
	}
	if err != nil {
		return wrap(op, err)
	}
	n, err := affected(res)
	if err != nil {
		return wrap(op, err)
	}
	if int(n) == len(ids) {
		return nil
	}
	found, err := sqldb.Query(ctx, tx, sqldb.ScanInt64, `SELECT id FROM mailing_clients WHERE id IN (`+s.d.name.JSONIDs()+`)`, sqldb.JSONInts(ids))
	if err != nil {
		return wrap(op, err)
	}
	have := make(map[int64]bool, len(found))
	for _, f := range found {
		have[f] = true
	}
	for _, c := range ids {
		if !have[c] {
			return notFound(op, "client", c)
		}
	}
	return notFound(op, "client", ids[0])
}

// GetMailing returns the mailing with its sorted ClientIDs, or ErrNotFound.
func (s *Store) GetMailing(ctx context.Context, id int64) (mailing.Mailing, error) {
	const op = "get mailing"
	var m mailing.Mailing
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = scanMailing(tx.QueryRowContext(ctx, `SELECT `+mailingCols+` FROM mailings WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "mailing", id)
		}
		if err != nil {
			return wrap(op, err)
		}
		ms := []mailing.Mailing{m}
		if err := s.loadRecipients(ctx, tx, ms); err != nil {
			return wrap(op, err)
		}
		m = ms[0]
		return nil
	})
	return m, err
}

// loadRecipients fills the ClientIDs of ms, sorted.
func (s *Store) loadRecipients(ctx context.Context, q sqldb.Querier, ms []mailing.Mailing) error {
	if len(ms) == 0 {
		return nil
	}
	index := make(map[int64]int, len(ms))
	ids := make([]int64, len(ms))
	for i, m := range ms {
		index[m.ID], ids[i] = i, m.ID
	}
	// Straight into each mailing's ClientIDs: a client set can be large.
	rows, err := q.QueryContext(ctx, `
		SELECT mailing_id, client_id FROM mailing_recipients
		WHERE mailing_id IN (`+s.d.name.JSONIDs()+`) ORDER BY mailing_id, client_id`,
		sqldb.JSONInts(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	var mailingID, clientID int64
	for rows.Next() {
		if err := rows.Scan(&mailingID, &clientID); err != nil {
			return err
		}
		m := &ms[index[mailingID]]
		m.ClientIDs = append(m.ClientIDs, clientID)
	}
	return rows.Err()
}

// UpdateMailing saves every field of m.ID but OwnerID and CreatedAt,
// replacing the client set, in one transaction, and sets m.UpdatedAt.
func (s *Store) UpdateMailing(ctx context.Context, m *mailing.Mailing) error {
	const op = "update mailing"
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		ok, err := exists(ctx, tx, "mailings", m.ID)
		if err != nil {
			return wrap(op, err)
		}
		if !ok {
			return notFound(op, "mailing", m.ID)
		}
		if err := checkMessage(ctx, tx, op, m.MessageID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE mailings SET name = ?, message_id = ?, start_at = ?, end_at = ?, period = ?, time_zone = ?,
				enabled = ?, next_run = ?, updated_at = ?
			WHERE id = ?`,
			m.Name, m.MessageID, sqldb.TimeArg(m.Start), sqldb.TimeArg(m.End), m.Period, m.TimeZone,
			m.Enabled, sqldb.TimeArg(m.NextRun), sqldb.TimeArg(now), m.ID); err != nil {
			return wrap(op, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mailing_recipients WHERE mailing_id = ?`, m.ID); err != nil {
			return wrap(op, err)
		}
		return s.addRecipients(ctx, tx, op, m.ID, m.ClientIDs)
	})
	if err != nil {
		return err
	}
	m.UpdatedAt = now
	return nil
}

// SetMailingEnabled switches a mailing on or off and sets its NextRun
// (zero clears it) and UpdatedAt (now).
func (s *Store) SetMailingEnabled(ctx context.Context, id int64, enabled bool, nextRun time.Time, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE mailings SET enabled = ?, next_run = ?, updated_at = ? WHERE id = ?`,
		enabled, sqldb.TimeArg(nextRun), sqldb.TimeArg(now), id)
	return s.checkChanged(ctx, "set mailing enabled", "mailings", "mailing", id, res, err)
}

// DeleteMailing removes a mailing; its client set, ledger and attempts go
// with it (foreign keys ON DELETE CASCADE).
func (s *Store) DeleteMailing(ctx context.Context, id int64) error {
	const op = "delete mailing"
	res, err := s.exec(ctx, `DELETE FROM mailings WHERE id = ?`, id)
	if err != nil {
		return wrap(op, err)
	}
	if n, err := affected(res); err != nil || n == 0 {
		return cmpErr(wrap(op, err), notFound(op, "mailing", id))
	}
	return nil
}

// ListMailings returns the mailings matching f ordered by id with their
// ClientIDs, and how many match without paging.
func (s *Store) ListMailings(ctx context.Context, f mailing.MailingFilter) ([]mailing.Mailing, int, error) {
	const op = "list mailings"
	if f.IDs != nil && len(f.IDs) == 0 {
		return nil, 0, nil
	}
	var w sqldb.Where
	if f.OwnerID != 0 {
		w.And("owner_id = ?", f.OwnerID)
	}
	if f.IDs != nil {
		w.And("id IN ("+s.d.name.JSONIDs()+")", sqldb.JSONInts(f.IDs))
	}
	if f.MessageID != 0 {
		w.And("message_id = ?", f.MessageID)
	}
	if f.ClientID != 0 {
		w.And("id IN (SELECT mailing_id FROM mailing_recipients WHERE client_id = ?)", f.ClientID)
	}
	var out []mailing.Mailing
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if total, err = count(ctx, tx, `SELECT COUNT(*) FROM mailings`+w.SQL(), w.Args()...); err != nil || total == 0 {
			return err
		}
		if out, err = s.queryMailings(ctx, tx, `SELECT `+mailingCols+` FROM mailings`+w.SQL()+` ORDER BY id LIMIT ? OFFSET ?`,
			w.Args(sqldb.PageArgs(f.Limit, f.Offset)...)...); err != nil {
			return err
		}
		return s.loadRecipients(ctx, tx, out)
	})
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	return out, total, nil
}

func (s *Store) queryMailings(ctx context.Context, q sqldb.Querier, query string, args ...any) ([]mailing.Mailing, error) {
	return sqldb.Query(ctx, q, scanMailing, query, args...)
}
