package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
)

const messageCols = "id, owner_id, subject, body, created_at"

func scanMessage(sc sqldb.Scanner) (mailing.Message, error) {
	var m mailing.Message
	err := sc.Scan(&m.ID, &m.OwnerID, &m.Subject, &m.Body, sqldb.ScanTime(&m.CreatedAt))
	return m, err
}

// CreateMessage stores m, setting m.ID and m.CreatedAt.
func (s *Store) CreateMessage(ctx context.Context, m *mailing.Message) error {
	const op = "create message"
	now := s.now()
	res, err := s.exec(ctx, `
		INSERT INTO mailing_messages (owner_id, subject, body, created_at) VALUES (?, ?, ?, ?)`,
		m.OwnerID, m.Subject, m.Body, sqldb.TimeArg(now))
	if err != nil {
		return wrap(op, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return wrap(op, err)
	}
	m.ID, m.CreatedAt = id, now
	return nil
}

// GetMessage returns the message with id, or ErrNotFound.
func (s *Store) GetMessage(ctx context.Context, id int64) (mailing.Message, error) {
	m, err := scanMessage(s.db.QueryRowContext(ctx, `SELECT `+messageCols+` FROM mailing_messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return mailing.Message{}, notFound("get message", "message", id)
	}
	return m, wrap("get message", err)
}

// UpdateMessage saves subject and body of m.ID.
func (s *Store) UpdateMessage(ctx context.Context, m mailing.Message) error {
	const op = "update message"
	res, err := s.exec(ctx, `UPDATE mailing_messages SET subject = ?, body = ? WHERE id = ?`, m.Subject, m.Body, m.ID)
	return s.checkChanged(ctx, op, "mailing_messages", "message", m.ID, res, err)
}

// DeleteMessage removes a message; ErrConflict while a mailing uses it
// (the foreign key of mailings refuses the delete).
func (s *Store) DeleteMessage(ctx context.Context, id int64) error {
	const op = "delete message"
	res, err := s.exec(ctx, `DELETE FROM mailing_messages WHERE id = ?`, id)
	if sqldb.IsForeignKeyViolation(err) {
		return fmt.Errorf("sqlstore: %s: message %d is used by a mailing: %w", op, id, mailing.ErrConflict)
	}
	if err != nil {
		return wrap(op, err)
	}
	if n, err := affected(res); err != nil || n == 0 {
		return cmpErr(wrap(op, err), notFound(op, "message", id))
	}
	return nil
}

// ListMessages returns the messages matching f ordered by id, and how many
// match without paging.
func (s *Store) ListMessages(ctx context.Context, f mailing.MessageFilter) ([]mailing.Message, int, error) {
	const op = "list messages"
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
	var out []mailing.Message
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if total, err = count(ctx, tx, `SELECT COUNT(*) FROM mailing_messages`+w.SQL(), w.Args()...); err != nil || total == 0 {
			return err
		}
		out, err = sqldb.Query(ctx, tx, scanMessage,
			`SELECT `+messageCols+` FROM mailing_messages`+w.SQL()+` ORDER BY id LIMIT ? OFFSET ?`,
			w.Args(sqldb.PageArgs(f.Limit, f.Offset)...)...)
		return err
	})
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	return out, total, nil
}
