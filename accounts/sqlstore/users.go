package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/sqldb"
)

const userColumns = `id, email, full_name, password_hash, role, verified, blocked, created_at`

func scanUser(row interface{ Scan(...any) error }) (accounts.User, error) {
	var (
		u    accounts.User
		role string
	)
	err := row.Scan(&u.ID, &u.Email, &u.FullName, &u.PasswordHash, &role, &u.Verified, &u.Blocked, sqldb.ScanTime(&u.CreatedAt))
	u.Role = accounts.Role(role)
	return u, err
}

// nameKey is the lower-cased full name the search compares with.
func nameKey(name string) string { return strings.ToLower(name) }

// CreateUser implements accounts.Store.
func (s *Store) CreateUser(ctx context.Context, u *accounts.User) error {
	c := *u
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	c.CreatedAt = sqldb.Micro(c.CreatedAt)
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO accounts_users
			(email, email_key, full_name, name_key, password_hash, role, verified, blocked, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Email, accounts.EmailKey(c.Email), c.FullName, nameKey(c.FullName), c.PasswordHash, string(c.Role),
		c.Verified, c.Blocked, sqldb.TimeArg(c.CreatedAt), sqldb.TimeArg(c.CreatedAt))
	if sqldb.IsUniqueViolation(err) {
		return fmt.Errorf("email %s: %w", c.Email, accounts.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("accounts/sqlstore: create user: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("accounts/sqlstore: create user: %w", err)
	}
	*u = c
	return nil
}

// GetUser implements accounts.Store.
func (s *Store) GetUser(ctx context.Context, id int64) (accounts.User, error) {
	return getUser(ctx, s.db, id)
}

func getUser(ctx context.Context, q sqldb.Querier, id int64) (accounts.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM accounts_users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %d: %w", id, accounts.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("accounts/sqlstore: get user %d: %w", id, err)
	}
	return u, nil
}

// GetUserByEmail implements accounts.Store.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (accounts.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM accounts_users WHERE email_key = ?`, accounts.EmailKey(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %s: %w", email, accounts.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("accounts/sqlstore: get user by email: %w", err)
	}
	return u, nil
}

// arg returns *p as a query argument, or SQL NULL for a nil p.
func arg[T any](p *T, conv func(T) any) any {
	if p == nil {
		return nil
	}
	return conv(*p)
}

func same[T any](v T) any { return v }

// UpdateUser implements accounts.Store. One UPDATE sets the fields given
// (COALESCE keeps the others), so concurrent updates of different fields
// never undo each other.
func (s *Store) UpdateUser(ctx context.Context, id int64, up accounts.UserUpdate) (accounts.User, error) {
	var u accounts.User
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			UPDATE accounts_users SET
				email         = COALESCE(?, email),
				email_key     = COALESCE(?, email_key),
				full_name     = COALESCE(?, full_name),
				name_key      = COALESCE(?, name_key),
				password_hash = COALESCE(?, password_hash),
				role          = COALESCE(?, role),
				verified      = COALESCE(?, verified),
				blocked       = COALESCE(?, blocked),
				updated_at    = ?
			WHERE id = ?`,
			arg(up.Email, same), arg(up.Email, func(e string) any { return accounts.EmailKey(e) }),
			arg(up.FullName, same), arg(up.FullName, func(n string) any { return nameKey(n) }),
			arg(up.PasswordHash, same), arg(up.Role, func(r accounts.Role) any { return string(r) }),
			arg(up.Verified, same), arg(up.Blocked, same),
			sqldb.TimeArg(time.Now()), id)
		if sqldb.IsUniqueViolation(err) {
			return fmt.Errorf("email %s: %w", *up.Email, accounts.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("accounts/sqlstore: update user %d: %w", id, err)
		}
		u, err = getUser(ctx, tx, id)
		return err
	})
	return u, err
}

// likeEscape is the LIKE escape character: '!' reads the same in both
// dialects (a backslash would need escaping in MySQL string literals).
const likeEscape = "!"

// containsPattern returns a LIKE pattern matching s anywhere, literally.
func containsPattern(s string) string {
	r := strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_")
	return "%" + r.Replace(s) + "%"
}

// ListUsers implements accounts.Store.
func (s *Store) ListUsers(ctx context.Context, f accounts.UserFilter) ([]accounts.User, int, error) {
	const where = `
		WHERE (? = '' OR role = ?)
		  AND (? = '' OR email_key LIKE ? ESCAPE '!' OR name_key LIKE ? ESCAPE '!')`
	search := strings.ToLower(f.Search)
	pattern := containsPattern(search)
	args := []any{string(f.Role), string(f.Role), search, pattern, pattern}

	limit := int64(math.MaxInt64)
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	offset := int64(max(f.Offset, 0))

	var (
		us    []accounts.User
		total int
	)
	err := sqldb.InTxWith(ctx, s.db, &sql.TxOptions{ReadOnly: true}, func(tx *sql.Tx) error {
		us, total = nil, 0
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts_users`+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM accounts_users`+where+`
			ORDER BY id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			us = append(us, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("accounts/sqlstore: list users: %w", err)
	}
	return us, total, nil
}
