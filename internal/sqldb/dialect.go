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

// JSONIDs returns a subquery that yields, as column "id", the integers of
// a JSON array bound to its one placeholder (see JSONInts). It takes a set
// of ids of any size as a single argument, where an IN list would need one
// placeholder per id and has a bound:
//
//	"SELECT ... WHERE id IN (" + d.JSONIDs() + ")", sqldb.JSONInts(ids)
//
// In a SELECT, or an INSERT ... SELECT, both engines turn it into a
// semi-join; MariaDB before 11.1 does not for a single-table UPDATE or
// DELETE, where it would scan the table: use In there.
func (d Dialect) JSONIDs() string {
	if d == MySQL {
		return "SELECT ids.id FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) AS ids"
	}
	return "SELECT ids.value AS id FROM json_each(?) AS ids"
}

// IDList returns the inside of an IN list of ids, and its arguments, in
// the form each engine plans best: MySQL gets one placeholder per id (a
// constant list, at most 65,535), SQLite one JSON argument (any number).
//
//	list, args := d.IDList(ids)
//	"... WHERE mailing_id IN (" + list + ")", args...
func (d Dialect) IDList(ids []int64) (string, []any) {
	if d == MySQL && len(ids) > 0 {
		return In(len(ids)), Args(ids)
	}
	return "SELECT value FROM json_each(?)", []any{JSONInts(ids)}
}
