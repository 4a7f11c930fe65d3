package sqlstore

import (
	"database/sql"
	"encoding/json"
	"strings"
)

// dialect is the seam between the engines: the few pieces of SQL that
// differ. Everything else is written once, next to its method.
type dialect struct {
	name Dialect
	// insertIgnore starts an INSERT that skips rows clashing with a unique
	// key and counts only the rows it inserted.
	insertIgnore string
	// upsertRun records a run as being opened from its start (arguments:
	// mailing_id, run_at, created_at, updated_at), whether or not it exists.
	upsertRun string
	// upsertEngine records an engine's heartbeat (arguments: name,
	// started_at, expires_at).
	upsertEngine string
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
	// updateReturning says an UPDATE can return the rows it changed
	// (SQLite): StartDeliveries is then one statement, where MySQL needs a
	// locking read, a check of the mailings and an update.
	updateReturning bool
	// prepare makes the ledger's hot statements run prepared, from a cache
	// (see Store.hot).
	prepare bool
	// txOptions are the options of read-write transactions. On MySQL,
	// READ COMMITTED takes no gap locks: concurrent claims, inserts of new
	// runs and updates do not block or deadlock each other over index gaps.
	txOptions *sql.TxOptions
}

var dialects = map[Dialect]dialect{
	SQLite: {
		name:         SQLite,
		insertIgnore: "INSERT OR IGNORE",
		upsertRun: `INSERT INTO mailing_runs (mailing_id, run_at, opened_through, complete, created_at, updated_at)
			VALUES (?, ?, 0, 0, ?, ?)
			ON CONFLICT (mailing_id, run_at) DO UPDATE SET opened_through = 0, complete = 0, updated_at = excluded.updated_at`,
		upsertEngine: `INSERT INTO mailing_engines (name, started_at, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at`,
		claimIndex:      " INDEXED BY mailing_deliveries_claim",
		updateReturning: true,
		prepare:         true,
		// A VALUES list of bound parameters: no JSON to parse per row. Its
		// text depends only on the number of rows (at most batchSize), so
		// each size is compiled once (see Store.hot).
		results: func(rows []resultRow) (string, []any) {
			var b strings.Builder
			b.WriteString(`SELECT column1 AS delivery_id, column2 AS at, column3 AS duration_ns, column4 AS outcome,
					column5 AS code, column6 AS response, column7 AS state, column8 AS next_attempt_at,
					column9 AS last_error, column10 AS updated_at, column11 AS apply
				FROM (VALUES `)
			args := make([]any, 0, len(rows)*len(resultRow{}))
			for i, r := range rows {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
				args = append(args, r[:]...)
			}
			b.WriteByte(')')
			return b.String(), args
		},
	},
	MySQL: {
		name:         MySQL,
		insertIgnore: "INSERT IGNORE",
		upsertRun: `INSERT INTO mailing_runs (mailing_id, run_at, opened_through, complete, created_at, updated_at)
			VALUES (?, ?, 0, FALSE, ?, ?)
			ON DUPLICATE KEY UPDATE opened_through = 0, complete = FALSE, updated_at = VALUES(updated_at)`,
		upsertEngine: `INSERT INTO mailing_engines (name, started_at, expires_at) VALUES (?, ?, ?)
			ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at)`,
		lockRows:   " FOR UPDATE",
		claimIndex: " FORCE INDEX (mailing_deliveries_claim)",
		claimRows:  " FOR UPDATE SKIP LOCKED",
		// One JSON argument: the statement stays short whatever the number
		// of rows.
		results: func(rows []resultRow) (string, []any) {
			return `SELECT * FROM JSON_TABLE(?, '$[*]' COLUMNS (
					delivery_id BIGINT PATH '$[0]', at DATETIME(6) PATH '$[1]', duration_ns BIGINT PATH '$[2]',
					outcome VARCHAR(16) PATH '$[3]', code INT PATH '$[4]', response TEXT PATH '$[5]',
					state VARCHAR(16) PATH '$[6]', next_attempt_at DATETIME(6) PATH '$[7]', last_error TEXT PATH '$[8]',
					updated_at DATETIME(6) PATH '$[9]', apply INT PATH '$[10]')) AS j`, []any{jsonRows(rows)}
		},
		txOptions: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	},
}

// jsonRows is rows as one JSON array of arrays.
func jsonRows(rows []resultRow) string {
	b, err := json.Marshal(rows)
	if err != nil {
		panic(err) // only strings, numbers and nil
	}
	return string(b)
}
