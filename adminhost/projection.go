package adminhost

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/sqldb"
)

// GoAdmin keeps its own users, roles, permissions and menus. Here they are a
// projection of accounts (the source of truth) and of this package's code:
//
//   - goadmin_users.id is the accounts user id, username the lower-cased
//     email, and the password column stays empty (the host's login checks
//     passwords through accounts, never GoAdmin);
//   - goadmin_role_users links each user to the one role of their account;
//   - roles, permissions and menus are written from code at every start,
//     so that a code change always wins over what a database holds.

// roleIDs are the fixed GoAdmin role ids of the accounts roles.
var roleIDs = map[accounts.Role]int64{
	accounts.RoleUser:           1,
	accounts.RoleManager:        2,
	accounts.RoleContentManager: 3,
	accounts.RoleSuperuser:      4,
}

// projection writes the GoAdmin tables on the service's own pool, with
// plain SQL: it works before GoAdmin is initialised and never panics.
type projection struct {
	db  *sql.DB
	d   sqldb.Dialect
	log *slog.Logger
}

// AccountOptions returns the accounts.Service options that keep the admin
// panel in step with accounts: a change hook that writes the user's GoAdmin
// row and role, and a session ender that deletes a user's admin sessions at
// once (when they are blocked or their password is reset). db is the
// service's pool and d its dialect; log receives the hook's failures (nil:
// slog.Default()).
//
// The host works without them (it re-checks every request's user with
// accounts.Service.SessionUser and writes a user's row when they log in),
// but then a block ends a session only at its next request and role
// changes reach the menus only at the next login or start.
func AccountOptions(db *sql.DB, d sqldb.Dialect, log *slog.Logger) []accounts.Option {
	if log == nil {
		log = slog.Default()
	}
	p := &projection{db: db, d: d, log: log}
	return []accounts.Option{
		accounts.WithChangeHook(func(ctx context.Context, u accounts.User) {
			if err := p.syncUser(ctx, u); err != nil {
				p.log.ErrorContext(ctx, "adminhost: could not update the admin panel's copy of a user", "user_id", u.ID, "err", err)
			}
		}),
		accounts.WithSessionEnder(p.endSessions),
	}
}

// upsert returns an INSERT of cols into table that updates the update
// columns when the row's key (conflict, SQLite) or any unique key (MySQL)
// already exists.
func (p *projection) upsert(table string, cols []string, conflict string, update []string) string {
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + ph + ")"
	sets := make([]string, len(update))
	if p.d == sqldb.MySQL {
		for i, c := range update {
			sets[i] = c + " = VALUES(" + c + ")"
		}
		return q + " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ") + ", updated_at = CURRENT_TIMESTAMP"
	}
	for i, c := range update {
		sets[i] = c + " = excluded." + c
	}
	return q + " ON CONFLICT (" + conflict + ") DO UPDATE SET " + strings.Join(sets, ", ") + ", updated_at = CURRENT_TIMESTAMP"
}

// insertIgnore returns an INSERT of cols into table that does nothing when
// the row clashes with a unique key.
func (p *projection) insertIgnore(table string, cols []string) string {
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	if p.d == sqldb.MySQL {
		return "INSERT IGNORE INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + ph + ")"
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + ph + ") ON CONFLICT DO NOTHING"
}

// syncUser writes u's GoAdmin row and role link.
func (p *projection) syncUser(ctx context.Context, u accounts.User) error {
	return sqldb.InTx(ctx, p.db, func(tx *sql.Tx) error { return p.syncUserTx(ctx, tx, u) })
}

func (p *projection) syncUserTx(ctx context.Context, tx *sql.Tx, u accounts.User) error {
	if u.ID <= 0 {
		return fmt.Errorf("user without an id")
	}
	roleID, ok := roleIDs[u.Role]
	if !ok {
		return fmt.Errorf("user %d has an unknown role %q", u.ID, u.Role)
	}
	username := accounts.EmailKey(u.Email)
	// A stale row may hold the address (an account deleted and made again).
	if _, err := tx.ExecContext(ctx, "DELETE FROM goadmin_users WHERE username = ? AND id <> ?", username, u.ID); err != nil {
		return err
	}
	q := p.upsert("goadmin_users", []string{"id", "username", "password", "name"}, "id", []string{"username", "password", "name"})
	if _, err := tx.ExecContext(ctx, q, u.ID, username, "", u.FullName); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM goadmin_role_users WHERE user_id = ? AND role_id <> ?", u.ID, roleID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, p.insertIgnore("goadmin_role_users", []string{"role_id", "user_id"}), roleID, u.ID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM goadmin_user_permissions WHERE user_id = ?", u.ID)
	return err
}

// syncAllUsers writes every account's GoAdmin row and removes the rows of
// accounts that no longer exist.
func (p *projection) syncAllUsers(ctx context.Context, store accounts.Store) (int, error) {
	const page = 500
	keep := make(map[int64]bool)
	for off := 0; ; off += page {
		us, _, err := store.ListUsers(ctx, accounts.UserFilter{ListOptions: accounts.ListOptions{Limit: page, Offset: off}})
		if err != nil {
			return len(keep), fmt.Errorf("list accounts: %w", err)
		}
		err = sqldb.InTx(ctx, p.db, func(tx *sql.Tx) error {
			for _, u := range us {
				if err := p.syncUserTx(ctx, tx, u); err != nil {
					return fmt.Errorf("user %d: %w", u.ID, err)
				}
			}
			return nil
		})
		if err != nil {
			return len(keep), err
		}
		for _, u := range us {
			keep[u.ID] = true
		}
		if len(us) < page {
			break
		}
	}
	ids, err := sqldb.Query(ctx, p.db, func(s sqldb.Scanner) (int64, error) {
		var id int64
		return id, s.Scan(&id)
	}, "SELECT id FROM goadmin_users")
	if err != nil {
		return len(keep), err
	}
	for _, id := range ids {
		if keep[id] {
			continue
		}
		err := sqldb.InTx(ctx, p.db, func(tx *sql.Tx) error {
			for _, q := range []string{
				"DELETE FROM goadmin_role_users WHERE user_id = ?",
				"DELETE FROM goadmin_user_permissions WHERE user_id = ?",
				"DELETE FROM goadmin_users WHERE id = ?",
			} {
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return len(keep), err
		}
		if err := p.endSessions(ctx, id); err != nil {
			return len(keep), err
		}
	}
	return len(keep), nil
}

// sessionValues is how GoAdmin stores a logged-in session: the JSON of
// {"user_id": id}.
func sessionValues(userID int64) string {
	b, _ := json.Marshal(map[string]int64{"user_id": userID})
	return string(b)
}

// endSessions deletes every admin session of user userID.
func (p *projection) endSessions(ctx context.Context, userID int64) error {
	_, err := p.db.ExecContext(ctx, "DELETE FROM goadmin_session WHERE `values` = ?", sessionValues(userID))
	if err != nil {
		return fmt.Errorf("adminhost: end the admin sessions of user %d: %w", userID, err)
	}
	return nil
}

// deleteSession deletes the session with id sid.
func (p *projection) deleteSession(ctx context.Context, sid string) error {
	_, err := p.db.ExecContext(ctx, "DELETE FROM goadmin_session WHERE sid = ?", sid)
	return err
}

// errNoSession: the cookie names no live session.
var errNoSession = errors.New("adminhost: no live session")

// sessionUserID returns the user id of the live session sid: one created
// less than lifetime ago (GoAdmin itself never checks a session's age).
func (p *projection) sessionUserID(ctx context.Context, sid string, lifetime time.Duration) (int64, error) {
	if sid == "" || len(sid) > 64 {
		return 0, errNoSession
	}
	secs := int64(lifetime / time.Second)
	q := "SELECT `values` FROM goadmin_session WHERE sid = ? AND created_at > datetime('now', ?) ORDER BY id DESC LIMIT 1"
	args := []any{sid, fmt.Sprintf("-%d seconds", secs)}
	if p.d == sqldb.MySQL {
		q = "SELECT `values` FROM goadmin_session WHERE sid = ? AND created_at > NOW() - INTERVAL ? SECOND ORDER BY id DESC LIMIT 1"
		args = []any{sid, secs}
	}
	var raw string
	err := p.db.QueryRowContext(ctx, q, args...).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoSession
	}
	if err != nil {
		return 0, err
	}
	var v struct {
		UserID *float64 `json:"user_id"`
	}
	if json.Unmarshal([]byte(raw), &v) != nil || v.UserID == nil || *v.UserID <= 0 {
		return 0, errNoSession
	}
	return int64(*v.UserID), nil
}

// clearSite empties goadmin_site, GoAdmin's copy of its configuration,
// which it would otherwise prefer to the configuration in code on every
// start after the first. It leaves an empty, switched-off "databases" row:
// GoAdmin adds only missing keys, so the database settings (a MySQL DSN
// holds a password) are never written.
func (p *projection) clearSite(ctx context.Context) error {
	return sqldb.InTx(ctx, p.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM goadmin_site"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO goadmin_site (`key`, value, state) VALUES ('databases', '', 0)")
		return err
	})
}

// scrubSite removes the database settings GoAdmin copies into goadmin_site
// (the MySQL DSN holds a password).
func (p *projection) scrubSite(ctx context.Context) error {
	_, err := p.db.ExecContext(ctx, "DELETE FROM goadmin_site WHERE `key` = 'databases'")
	return err
}
