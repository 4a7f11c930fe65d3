package sqldb

import "fmt"

// Dialect names a SQL engine the stores support.
type Dialect string

// The supported dialects.
const (
	// SQLite is modernc.org/sqlite, registered as driver "sqlite".
	SQLite Dialect = "sqlite"
	// MySQL is MySQL or MariaDB through github.com/go-sql-driver/mysql.
	MySQL Dialect = "mysql"
)

// Valid reports whether d is a supported dialect.
func (d Dialect) Valid() bool { return d == SQLite || d == MySQL }

// Check returns an error unless d is a supported dialect.
func (d Dialect) Check() error {
	if d.Valid() {
		return nil
	}
	return fmt.Errorf("sqldb: unknown dialect %q: want %q or %q", string(d), string(SQLite), string(MySQL))
}
