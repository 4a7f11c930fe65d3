package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
)

const clientCols = "id, owner_id, email, name, comment, created_at"

func scanClient(sc interface{ Scan(...any) error }) (mailing.Client, error) {
	var c mailing.Client
	err := sc.Scan(&c.ID, &c.OwnerID, &c.Email, &c.Name, &c.Comment, sqldb.ScanTime(&c.CreatedAt))
	return c, err
}

func emailConflict(op, email string) error {
	return fmt.Errorf("sqlstore: %s: client email %q is already used: %w", op, email, mailing.ErrConflict)
}

// CreateClient stores c, setting c.ID and c.CreatedAt.
func (s *Store) CreateClient(ctx context.Context, c *mailing.Client) error {
	return s.createClients(ctx, "create client", []*mailing.Client{c})
}

// CreateClients stores all of cs in one transaction, or none of them.
func (s *Store) CreateClients(ctx context.Context, cs []*mailing.Client) error {
	return s.createClients(ctx, "create clients", cs)
}

func (s *Store) createClients(ctx context.Context, op string, cs []*mailing.Client) error {
	if len(cs) == 0 {
		return nil
	}
	now := s.now()
	ids := make([]int64, len(cs))
	err := s.write(ctx, func(tx *sql.Tx) error {
		// One row per statement: each gets its own id, and a clash names its email.
		stmt, err := tx.PrepareContext(ctx, `
			INSERT INTO mailing_clients (owner_id, email, email_norm, name, name_norm, comment, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return wrap(op, err)
		}
		defer stmt.Close()
		for i, c := range cs {
			res, err := stmt.ExecContext(ctx, c.OwnerID, c.Email, mailing.NormalizeEmail(c.Email),
				c.Name, strings.ToLower(c.Name), c.Comment, sqldb.TimeArg(now))
			if sqldb.IsUniqueViolation(err) {
				return emailConflict(op, c.Email)
			}
			if err != nil {
				return wrap(op, err)
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, c := range cs {
		c.ID, c.CreatedAt = ids[i], now
	}
	return nil
}

// GetClient returns the client with id, or ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id int64) (mailing.Client, error) {
	c, err := scanClient(s.db.QueryRowContext(ctx, `SELECT `+clientCols+` FROM mailing_clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return mailing.Client{}, notFound("get client", "client", id)
	}
	return c, wrap("get client", err)
}

// UpdateClient saves email, name and comment of c.ID.
func (s *Store) UpdateClient(ctx context.Context, c mailing.Client) error {
	const op = "update client"
	res, err := s.exec(ctx, `
		UPDATE mailing_clients SET email = ?, email_norm = ?, name = ?, name_norm = ?, comment = ?
		WHERE id = ?`,
		c.Email, mailing.NormalizeEmail(c.Email), c.Name, strings.ToLower(c.Name), c.Comment, c.ID)
	if sqldb.IsUniqueViolation(err) {
		return emailConflict(op, c.Email)
	}
	return s.checkChanged(ctx, op, "mailing_clients", "client", c.ID, res, err)
}

// checkChanged turns an UPDATE or DELETE of row id that changed nothing
// into ErrNotFound, unless the row exists (an UPDATE that matched but
// changed no value reports 0 rows on MySQL without clientFoundRows).
func (s *Store) checkChanged(ctx context.Context, op, table, what string, id int64, res sql.Result, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	n, err := affected(res)
	if err != nil {
		return wrap(op, err)
	}
	if n > 0 {
		return nil
	}
	ok, err := exists(ctx, s.db, table, id)
	if err != nil {
		return wrap(op, err)
	}
	if !ok {
		return notFound(op, what, id)
	}
	return nil
}

// DeleteClient removes the client and, by cascade, its place in every
// mailing's client set. Ledger rows keep their copy of its email.
func (s *Store) DeleteClient(ctx context.Context, id int64) error {
	const op = "delete client"
	res, err := s.exec(ctx, `DELETE FROM mailing_clients WHERE id = ?`, id)
	if err != nil {
		return wrap(op, err)
	}
	if n, err := affected(res); err != nil || n == 0 {
		return cmpErr(wrap(op, err), notFound(op, "client", id))
	}
	return nil
}

// cmpErr returns err if set, else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// ListClients returns the clients matching f ordered by id, and how many
// match without paging.
func (s *Store) ListClients(ctx context.Context, f mailing.ClientFilter) ([]mailing.Client, int, error) {
	const op = "list clients"
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
	if f.Search != "" {
		// INSTR on the lower-cased copies: case-insensitive for any script,
		// and "%" or "_" in the search are plain characters.
		q := strings.ToLower(f.Search)
		w.And("(INSTR(email_norm, ?) > 0 OR INSTR(name_norm, ?) > 0)", q, q)
	}
	var out []mailing.Client
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if total, err = count(ctx, tx, `SELECT COUNT(*) FROM mailing_clients`+w.SQL(), w.Args()...); err != nil || total == 0 {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+clientCols+` FROM mailing_clients`+w.SQL()+` ORDER BY id LIMIT ? OFFSET ?`,
			w.Args(sqldb.PageArgs(f.Limit, f.Offset)...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanClient(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	return out, total, nil
}
