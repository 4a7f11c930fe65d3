package sqldb

import (
	"errors"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// MySQL server error numbers the helpers classify.
const (
	mysqlDupEntry        = 1062 // ER_DUP_ENTRY
	mysqlRowIsReferenced = 1451 // ER_ROW_IS_REFERENCED_2: a child row still points at it
	mysqlNoReferencedRow = 1452 // ER_NO_REFERENCED_ROW_2: the parent does not exist
	mysqlLockDeadlock    = 1213 // ER_LOCK_DEADLOCK
)

// IsUniqueViolation reports whether err is a duplicate key on a primary
// or unique key, in either dialect.
func IsUniqueViolation(err error) bool {
	if code, ok := sqliteCode(err); ok {
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return mysqlNumber(err) == mysqlDupEntry
}

// IsForeignKeyViolation reports whether err is a foreign key violation in
// either direction: a reference to a missing row, or the removal of a row
// that is still referenced.
func IsForeignKeyViolation(err error) bool {
	if code, ok := sqliteCode(err); ok {
		return code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	n := mysqlNumber(err)
	return n == mysqlRowIsReferenced || n == mysqlNoReferencedRow
}

// IsRetryable reports whether err ended a transaction that can simply be
// run again: a MySQL deadlock, where the server rolled back the victim.
// SQLite's lock waits are handled by busy_timeout instead.
func IsRetryable(err error) bool {
	return mysqlNumber(err) == mysqlLockDeadlock
}

func sqliteCode(err error) (int, bool) {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

func mysqlNumber(err error) uint16 {
	var e *mysql.MySQLError
	if errors.As(err, &e) {
		return e.Number
	}
	return 0
}
