package sqlstore

import (
	"database/sql"
	"encoding/json"

	"github.com/skychimp/skychimp/internal/sqldb"
)

// dialect is the seam between the engines: the few pieces of SQL that
// differ. Everything else is written once, next to its method.
type dialect struct {
	name Dialect
	// insertIgnore starts an INSERT that skips rows clashing with a unique
	// key and counts only the rows it inserted.
	insertIgnore string
	// lockRows ends a SELECT whose rows the transaction will update: on
	// MySQL it locks them until commit. SQLite needs nothing: a read-write
	// transaction holds the database's write lock from BEGIN (IMMEDIATE,
	// see SQLiteDSN).
	lockRows string
	// claimIndex follows the table name in the claim's SELECT: use the claim
	// index, whatever the planner thinks (with one mailing due, both engines
	// may otherwise read all of its deliveries by mailing and sort them).
	claimIndex string
	// claimRows ends the claim's SELECT: lock the rows, skipping those
	// another transaction has locked, so concurrent claims never wait for
	// each other nor return the same row.
	claimRows string
	// results returns a derived table of the rows of FinishDeliveries (see
	// resultRows) and its arguments, with columns delivery_id, at,
	// duration_ns, outcome, code, response (the attempt), state,
	// next_attempt_at, last_error, updated_at (the delivery's new values)
	// and apply (1 for the first result of a delivery).
	results func(rows []resultRow) (string, []any)
	// txOptions are the options of read-write transactions. On MySQL,
	// READ COMMITTED takes no gap locks: concurrent claims, inserts of new
	// runs and updates do not block or deadlock each other over index gaps.
	txOptions *sql.TxOptions
}

var dialects = map[Dialect]dialect{
	SQLite: {
		name:         SQLite,
		insertIgnore: "INSERT OR IGNORE",
		claimIndex:   " INDEXED BY mailing_deliveries_claim",
		// A multi-row VALUES compiles several times faster than a UNION ALL
		// and reads faster than JSON.
		results: func(rows []resultRow) (string, []any) {
			args := make([]any, 0, len(rows)*len(resultRow{}))
			for _, r := range rows {
				args = append(args, r[:]...)
			}
			return `SELECT column1 AS delivery_id, column2 AS at, column3 AS duration_ns, column4 AS outcome,
					column5 AS code, column6 AS response, column7 AS state, column8 AS next_attempt_at,
					column9 AS last_error, column10 AS updated_at, column11 AS apply
				FROM (VALUES ` + sqldb.Values(len(rows), len(resultRow{})) + `)`, args
		},
	},
	MySQL: {
		name:         MySQL,
		insertIgnore: "INSERT IGNORE",
		lockRows:     " FOR UPDATE",
		claimIndex:   " FORCE INDEX (mailing_deliveries_claim)",
		claimRows:    " FOR UPDATE SKIP LOCKED",
		// One JSON argument: the statement stays short whatever the number
		// of rows.
		results: func(rows []resultRow) (string, []any) {
			b, err := json.Marshal(rows)
			if err != nil {
				panic(err) // only strings, numbers and nil
			}
			return `SELECT * FROM JSON_TABLE(?, '$[*]' COLUMNS (
					delivery_id BIGINT PATH '$[0]', at DATETIME(6) PATH '$[1]', duration_ns BIGINT PATH '$[2]',
					outcome VARCHAR(16) PATH '$[3]', code INT PATH '$[4]', response TEXT PATH '$[5]',
					state VARCHAR(16) PATH '$[6]', next_attempt_at DATETIME(6) PATH '$[7]', last_error TEXT PATH '$[8]',
					updated_at DATETIME(6) PATH '$[9]', apply INT PATH '$[10]')) AS j`, []any{string(b)}
		},
		txOptions: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	},
}
