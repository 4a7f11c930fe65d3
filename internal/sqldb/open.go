package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// SQLiteBusyTimeout is how long a SQLite statement waits for another
// connection's (or process's) write lock before it fails with SQLITE_BUSY.
const SQLiteBusyTimeout = 10 * time.Second

// SQLiteDSN returns the modernc.org/sqlite DSN the stores expect for the
// database file at path:
//
//   - busy_timeout: wait for a lock held by another connection or process
//     instead of failing at once;
//   - journal_mode(WAL): readers never block the writer nor the writer them;
//   - synchronous(NORMAL): durable across application crashes, and with WAL
//     a power loss may only lose the last transactions, never corrupt;
//   - foreign_keys(1): the schema's cascades and references are enforced;
//   - _txlock=immediate: every read-write transaction takes the write lock
//     at BEGIN, so two writers never both read and then both try to upgrade
//     (which SQLite resolves by failing one with SQLITE_BUSY, busy timeout
//     or not). Read-only transactions (sql.TxOptions{ReadOnly: true}) stay
//     deferred.
//
// Hosts that register the driver under another name (GoAdmin wants
// "sqlite3") should open the same file with this DSN.
func SQLiteDSN(path string) string {
	return path + "?_pragma=busy_timeout(" + fmt.Sprint(SQLiteBusyTimeout.Milliseconds()) + ")" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
}

// OpenURL opens and pings the database named by s, which is either
// "sqlite:PATH" (a database file, created when missing) or "mysql:DSN" (a
// github.com/go-sql-driver/mysql DSN such as
// "user:pass@tcp(127.0.0.1:3306)/skychimp"). It returns the pool and its
// dialect.
//
// For MySQL the DSN is adjusted so the stores work whatever it said:
// parseTime=true, loc=UTC, clientFoundRows=true (an UPDATE reports the rows it
// matched, as SQLite does) and interpolateParams=true (one round trip per
// statement instead of three). Errors read well on one line and never show
// the password.
func OpenURL(ctx context.Context, s string) (*sql.DB, Dialect, error) {
	d, path, cfg, err := parseURL(s)
	if err != nil {
		return nil, d, err
	}
	if d == SQLite {
		db, err := openSQLite(ctx, path)
		return db, SQLite, err
	}
	db, err := openMySQL(ctx, cfg)
	return db, MySQL, err
}

// parseURL reads a database URL (see OpenURL) without opening anything:
// its dialect, and the SQLite file's path or the MySQL configuration as
// adjusted for the stores.
func parseURL(s string) (d Dialect, path string, cfg *mysql.Config, err error) {
	scheme, rest, _ := strings.Cut(s, ":")
	switch {
	case scheme == string(SQLite) && rest != "":
		if strings.ContainsAny(rest, "?#") || rest == ":memory:" || strings.HasPrefix(rest, "file:") {
			return SQLite, "", nil, fmt.Errorf("database %q: want sqlite:PATH with a plain file path", "sqlite:"+rest)
		}
		return SQLite, rest, nil, nil
	case scheme == string(MySQL) && rest != "":
		cfg, err := mysqlConfig(rest)
		return MySQL, "", cfg, err
	}
	return "", "", nil, fmt.Errorf("database %q: want sqlite:PATH or mysql:DSN", redact(s))
}

func openSQLite(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("cannot open SQLite database %q: %w", path, err)
	}
	// Pool: SQLite serialises writers anyway (the write lock is taken at
	// BEGIN and waited for under busy_timeout); with WAL any number of
	// readers run beside the writer. A few connections let reads proceed
	// while a write transaction is open, and keeping them all idle keeps
	// their page caches and prepared statements warm (a new connection also
	// re-runs the pragmas). Connections never expire: a SQLite connection
	// holds no server resource.
	n := max(4, runtime.NumCPU())
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot open SQLite database %q: %w", path, err)
	}
	return db, nil
}

// mysqlConfig reads a go-sql-driver DSN and adjusts it (see OpenURL).
func mysqlConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("database %q: %w", "mysql:"+redactDSN(dsn), err)
	}
	if cfg.DBName == "" {
		return nil, fmt.Errorf("database %q: the DSN names no database (user:password@tcp(host:port)/DATABASE)", "mysql:"+redactDSN(dsn))
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.ClientFoundRows = true
	cfg.InterpolateParams = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	return cfg, nil
}

func openMySQL(ctx context.Context, cfg *mysql.Config) (*sql.DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot use MySQL at %s: %w", cfg.Addr, err)
	}
	db := sql.OpenDB(conn)
	// Pool: bounded so several instances stay well under the server's
	// max_connections; connections are recycled before a typical wait_timeout
	// or a proxy's idle cut-off drops them under us.
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &reachError{addr: cfg.Addr, err: err}
	}
	return db, nil
}

// reachError keeps the driver's error for errors.Is/As while its message
// gives only the innermost reason ("connection refused", "Access denied ...").
type reachError struct {
	addr string
	err  error
}

func (e *reachError) Error() string {
	return fmt.Sprintf("cannot reach MySQL at %s: %s", e.addr, reason(e.err))
}

func (e *reachError) Unwrap() error { return e.err }

// reason strips the network wrapping (dial tcp 1.2.3.4:5: connect: ...) off
// err, keeping its last, most specific part.
func reason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
		var sys *os.SyscallError
		if errors.As(err, &sys) && sys.Err != nil {
			err = sys.Err
		}
	}
	return err.Error()
}

// redact hides credentials in a database string of unknown shape: when
// the part before its last "@" holds a colon, that whole part goes.
func redact(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 || !strings.Contains(s[:at], ":") {
		return s
	}
	return "xxxxx" + s[at:]
}

// redactDSN hides the password of a go-sql-driver DSN
// ("user:password@net(addr)/db...").
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(dsn[:at], ":")
	if !hasPass {
		return dsn
	}
	return user + ":xxxxx" + dsn[at:]
}
