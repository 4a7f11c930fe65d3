package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
)

const clientCols = "id, owner_id, email, name, comment, created_at"

func scanClient(sc sqldb.Scanner) (mailing.Client, error) {
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
		for i := 0; i < len(cs); i += clientsPerInsert {
			chunk := cs[i:min(i+clientsPerInsert, len(cs))]
			if err := insertClients(ctx, tx, op, chunk, ids[i:i+len(chunk)], now); err != nil {
				return err
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

// clientsPerInsert bounds the rows of one multi-row insert of clients.
const clientsPerInsert = 200

// insertClients stores cs with one multi-row insert and reads their ids
// back by their unique key (owner, normalised email): a multi-row insert
// reports one id, and auto-increment steps need not be 1. When the insert
// clashes with a unique key, the rows are inserted one by one to name the
// first clashing email.
func insertClients(ctx context.Context, tx *sql.Tx, op string, cs []*mailing.Client, ids []int64, now time.Time) error {
	args := make([]any, 0, len(cs)*7)
	for _, c := range cs {
		args = append(args, c.OwnerID, c.Email, mailing.NormalizeEmail(c.Email), c.Name, strings.ToLower(c.Name), c.Comment, sqldb.TimeArg(now))
	}
	const insert = `INSERT INTO mailing_clients (owner_id, email, email_norm, name, name_norm, comment, created_at) VALUES `
	_, err := tx.ExecContext(ctx, insert+sqldb.Values(len(cs), 7), args...)
	if sqldb.IsUniqueViolation(err) {
		// The failed statement changed nothing; find the clash row by row.
		for i, c := range cs {
			_, err := tx.ExecContext(ctx, insert+sqldb.Values(1, 7), args[i*7:i*7+7]...)
			if sqldb.IsUniqueViolation(err) {
				return emailConflict(op, c.Email)
			}
			if err != nil {
				return wrap(op, err)
			}
		}
		return wrap(op, err) // unreachable unless the clash was with a concurrent insert
	}
	if err != nil {
		return wrap(op, err)
	}

	byOwner := map[int64][]string{}
	for _, c := range cs {
		byOwner[c.OwnerID] = append(byOwner[c.OwnerID], mailing.NormalizeEmail(c.Email))
	}
	type key struct {
		owner int64
		email string
	}
	idOf := make(map[key]int64, len(cs))
	for owner, emails := range byOwner {
		type row struct {
			id    int64
			email string
		}
		rows, err := sqldb.Query(ctx, tx, func(sc sqldb.Scanner) (r row, err error) {
			return r, sc.Scan(&r.id, &r.email)
		}, `
			SELECT id, email_norm FROM mailing_clients
			WHERE owner_id = ? AND email_norm IN (`+sqldb.In(len(emails))+`)`,
			append([]any{owner}, sqldb.Args(emails)...)...)
		if err != nil {
			return wrap(op, err)
		}
		for _, r := range rows {
			idOf[key{owner, r.email}] = r.id
		}
	}
	for i, c := range cs {
		if ids[i] = idOf[key{c.OwnerID, mailing.NormalizeEmail(c.Email)}]; ids[i] == 0 {
			return wrap(op, fmt.Errorf("client %q was not stored", c.Email))
		}
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
		out, err = sqldb.Query(ctx, tx, scanClient,
			`SELECT `+clientCols+` FROM mailing_clients`+w.SQL()+` ORDER BY id LIMIT ? OFFSET ?`,
			w.Args(sqldb.PageArgs(f.Limit, f.Offset)...)...)
		return err
	})
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	return out, total, nil
}
