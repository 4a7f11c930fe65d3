package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
)

// ExpireResponse is the Response of the attempt ExpireSending records.
const ExpireResponse = mailing.ExpireResponse

const deliveryCols = "id, mailing_id, owner_id, run_at, client_id, email, name, state, attempts, " +
	"next_attempt_at, lease_owner, lease_until, last_error, created_at, updated_at"

func scanDelivery(sc sqldb.Scanner) (mailing.Delivery, error) {
	var d mailing.Delivery
	err := sc.Scan(&d.ID, &d.MailingID, &d.OwnerID, sqldb.ScanTime(&d.RunAt), &d.ClientID, &d.Email, &d.Name,
		&d.State, &d.Attempts, sqldb.ScanTime(&d.NextAttemptAt), &d.LeaseOwner, sqldb.ScanTime(&d.LeaseUntil),
		&d.LastError, sqldb.ScanTime(&d.CreatedAt), sqldb.ScanTime(&d.UpdatedAt))
	return d, err
}

func queryDeliveries(ctx context.Context, q sqldb.Querier, query string, args ...any) ([]mailing.Delivery, error) {
	return sqldb.Query(ctx, q, scanDelivery, query, args...)
}

// DueMailings returns enabled mailings whose NextRun is set and not after
// now, oldest NextRun first (then by id), at most limit (0: all), without
// their ClientIDs.
func (s *Store) DueMailings(ctx context.Context, now time.Time, limit int) ([]mailing.Mailing, error) {
	out, err := s.queryMailings(ctx, s.db, `
		SELECT `+mailingCols+` FROM mailings
		WHERE enabled = 1 AND next_run IS NOT NULL AND next_run <= ?
		ORDER BY next_run, id LIMIT ? OFFSET ?`,
		append([]any{sqldb.TimeArg(now)}, sqldb.PageArgs(limit, 0)...)...)
	return out, wrap("due mailings", err)
}

// OpenRun moves the mailing's NextRun from p.Expect to p.Next, records the
// run as being opened (from the start again if it exists) and creates the
// deliveries of the first p.Limit clients of its set (0: all), in one
// transaction. Deliveries start due at RunAt; existing ones are kept.
func (s *Store) OpenRun(ctx context.Context, p mailing.RunPlan) (int, error) {
	const op = "open run"
	var created int
	err := s.write(ctx, func(tx *sql.Tx) error {
		expect := sqldb.TimeArg(p.Expect)
		res, err := tx.ExecContext(ctx, `
			UPDATE mailings SET next_run = ?
			WHERE id = ? AND (next_run = ? OR (next_run IS NULL AND ? IS NULL))`,
			sqldb.TimeArg(p.Next), p.MailingID, expect, expect)
		if err != nil {
			return wrap(op, err)
		}
		n, err := affected(res)
		if err != nil {
			return wrap(op, err)
		}
		if n == 0 {
			if err := checkNextRun(ctx, tx, op, p); err != nil {
				return err
			}
		}
		created = 0
		if p.RunAt.IsZero() {
			return nil
		}
		runAt, now := sqldb.TimeArg(p.RunAt), sqldb.TimeArg(p.Now)
		if _, err := tx.ExecContext(ctx, s.d.upsertRun, p.MailingID, runAt, now, now); err != nil {
			return wrap(op, err)
		}
		created, _, err = s.extend(ctx, tx, mailing.RunRef{MailingID: p.MailingID, RunAt: p.RunAt}, 0, p.Limit, p.Now)
		return wrap(op, err)
	})
	return created, err
}

// ExtendRun creates the deliveries of up to limit (0: all) more clients of
// run r's mailing, after the last one opened, in one transaction, and
// says whether the run is now wholly open.
func (s *Store) ExtendRun(ctx context.Context, r mailing.RunRef, limit int, now time.Time) (int, bool, error) {
	var created int
	var done bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		var through int64
		var complete bool
		err := tx.QueryRowContext(ctx, `
			SELECT opened_through, complete FROM mailing_runs
			WHERE mailing_id = ? AND run_at = ?`+s.d.lockRows,
			r.MailingID, sqldb.TimeArg(r.RunAt)).Scan(&through, &complete)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && complete) {
			created, done = 0, true
			return nil
		}
		if err != nil {
			return err
		}
		created, done, err = s.extend(ctx, tx, r, through, limit, now)
		return err
	})
	if err != nil {
		return 0, false, wrap("extend run", err)
	}
	return created, done, nil
}

// extend creates the deliveries of run r for up to limit (0: all) clients
// of its mailing's set with ids above through, and moves the run's
// opened_through past them (complete when none is left).
func (s *Store) extend(ctx context.Context, tx *sql.Tx, r mailing.RunRef, through int64, limit int, now time.Time) (int, bool, error) {
	// The last client of this chunk, by the set's primary key; none means
	// the rest of the set fits in it.
	last, done := int64(math.MaxInt64), true
	if limit > 0 {
		err := tx.QueryRowContext(ctx, `
			SELECT client_id FROM mailing_recipients
			WHERE mailing_id = ? AND client_id > ?
			ORDER BY client_id LIMIT 1 OFFSET ?`,
			r.MailingID, through, limit-1).Scan(&last)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return 0, false, err
		default:
			done = false
		}
	}
	runAt, at := sqldb.TimeArg(r.RunAt), sqldb.TimeArg(now)
	res, err := tx.ExecContext(ctx, s.d.insertIgnore+` INTO mailing_deliveries
			(mailing_id, owner_id, run_at, client_id, email, name, state, attempts, next_attempt_at,
			 lease_owner, last_error, created_at, updated_at)
		SELECT m.id, m.owner_id, ?, c.id, c.email, c.name, 'pending', 0, ?, '', '', ?, ?
		FROM mailings m
		JOIN mailing_recipients r ON r.mailing_id = m.id
		JOIN mailing_clients c ON c.id = r.client_id
		WHERE m.id = ? AND r.client_id > ? AND r.client_id <= ?`,
		runAt, runAt, at, at, r.MailingID, through, last)
	if err != nil {
		return 0, false, err
	}
	created, err := affected(res)
	if err != nil {
		return 0, false, err
	}
	if done {
		last = through
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE mailing_runs SET opened_through = ?, complete = ?, updated_at = ?
		WHERE mailing_id = ? AND run_at = ?`,
		last, done, at, r.MailingID, runAt); err != nil {
		return 0, false, err
	}
	return int(created), done, nil
}

// OpeningRuns returns the runs not wholly open of enabled mailings (only
// mailingID's when not 0), oldest first.
func (s *Store) OpeningRuns(ctx context.Context, mailingID int64) ([]mailing.RunRef, error) {
	out, err := sqldb.Query(ctx, s.db, func(sc sqldb.Scanner) (r mailing.RunRef, err error) {
		return r, sc.Scan(&r.MailingID, sqldb.ScanTime(&r.RunAt))
	}, `
		SELECT r.mailing_id, r.run_at FROM mailing_runs r
		JOIN mailings m ON m.id = r.mailing_id
		WHERE r.complete = 0 AND m.enabled = 1 AND (? = 0 OR r.mailing_id = ?)
		ORDER BY r.run_at, r.mailing_id`, mailingID, mailingID)
	return out, wrap("opening runs", err)
}

// checkNextRun explains an OpenRun whose conditional update matched no
// row: the mailing is missing (ErrNotFound) or its NextRun moved on
// (ErrConflict). A NextRun equal to Expect means the row matched but did
// not change (MySQL without clientFoundRows counts changed rows only).
func checkNextRun(ctx context.Context, tx *sql.Tx, op string, p mailing.RunPlan) error {
	var cur time.Time
	err := tx.QueryRowContext(ctx, `SELECT next_run FROM mailings WHERE id = ?`, p.MailingID).Scan(sqldb.ScanTime(&cur))
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op, "mailing", p.MailingID)
	}
	if err != nil {
		return wrap(op, err)
	}
	if !cur.Equal(sqldb.Micro(p.Expect)) {
		return fmt.Errorf("sqlstore: %s: mailing %d: next run is %s, not %s: %w",
			op, p.MailingID, fmtTime(cur), fmtTime(sqldb.Micro(p.Expect)), mailing.ErrConflict)
	}
	return nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "unset"
	}
	return t.Format(time.RFC3339Nano)
}

// ClaimDeliveries leases up to r.Limit (0: all) due pending deliveries
// that nobody holds, of enabled mailings not ended at r.Now, the earliest
// due first (then by id).
func (s *Store) ClaimDeliveries(ctx context.Context, r mailing.ClaimRequest) ([]mailing.Delivery, error) {
	const op = "claim deliveries"
	if r.Owner == "" {
		return nil, fmt.Errorf("sqlstore: %s: the claim needs an owner", op)
	}
	now := sqldb.TimeArg(r.Now)
	until := sqldb.Micro(r.Now.Add(r.Lease))
	var out []mailing.Delivery
	err := s.write(ctx, func(tx *sql.Tx) error {
		// The mailings that may send are read first, without locks, and
		// passed as a list: as a subquery, MySQL would join mailings into the
		// locking read (locking its rows, and SKIP LOCKED would then skip
		// every delivery of a mailing another claim looks at) and may plan the
		// read by mailing instead of by the claim index.
		sending, err := sendingMailings(ctx, tx, r.Now, r.MailingID)
		if err != nil || len(sending) == 0 {
			return err
		}
		// On SQLite the statements keep one text (the lists are JSON), so
		// they run prepared (see Store.hot).
		list, listArgs := s.d.name.IDList(sending)
		claim := `
			FROM mailing_deliveries` + s.d.claimIndex + `
			WHERE state = 'pending' AND next_attempt_at <= ?
				AND (lease_until IS NULL OR lease_until <= ? OR EXISTS (SELECT 1 FROM mailing_engines e
					WHERE e.name = mailing_deliveries.lease_owner AND e.expires_at < ?))
				AND mailing_id IN (` + list + `)
			ORDER BY next_attempt_at, id
			LIMIT ?`
		claimArgs := append(append([]any{now, now, now}, listArgs...), sqldb.Limit(r.Limit))
		if s.d.updateReturning {
			// One statement: lease the rows the claim selects and return them.
			ds, err := queryDeliveries(ctx, s.hot(tx), `
				UPDATE mailing_deliveries SET lease_owner = ?, lease_until = ?
				WHERE id IN (SELECT id`+claim+`)
				RETURNING `+deliveryCols,
				append([]any{r.Owner, sqldb.TimeArg(until)}, claimArgs...)...)
			slices.SortFunc(ds, func(a, b mailing.Delivery) int {
				return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
			})
			out = ds
			return err
		}
		ds, err := queryDeliveries(ctx, s.hot(tx), `SELECT `+deliveryCols+claim+s.d.claimRows, claimArgs...)
		if err != nil {
			return err
		}
		for chunk := range slices.Chunk(ds, batchSize) {
			ids := make([]int64, len(chunk))
			for i, d := range chunk {
				ids[i] = d.ID
			}
			list, listArgs := s.d.name.IDList(ids)
			if _, err := s.hot(tx).ExecContext(ctx, `
				UPDATE mailing_deliveries SET lease_owner = ?, lease_until = ?
				WHERE id IN (`+list+`)`, append([]any{r.Owner, sqldb.TimeArg(until)}, listArgs...)...); err != nil {
				return err
			}
		}
		for i := range ds {
			ds[i].LeaseOwner, ds[i].LeaseUntil = r.Owner, until
		}
		out = ds
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// sendingMailings returns the ids of the mailings that may send at now:
// enabled and not ended; only mailingID's when it is not 0.
func sendingMailings(ctx context.Context, q sqldb.Querier, now time.Time, mailingID int64) ([]int64, error) {
	return sqldb.Query(ctx, q, sqldb.ScanInt64, `
		SELECT id FROM mailings
		WHERE enabled = 1 AND end_at >= ? AND (? = 0 OR id = ?)`,
		sqldb.TimeArg(now), mailingID, mailingID)
}

// StartDeliveries moves the deliveries of ids that owner holds, still
// pending, of enabled mailings not ended at now, to sending, and counts
// the attempt. It returns the ids it moved, in the order given.
func (s *Store) StartDeliveries(ctx context.Context, owner string, ids []int64, now time.Time) ([]int64, error) {
	return s.AdvanceDeliveries(ctx, owner, nil, ids, now)
}

// AdvanceDeliveries records results (see FinishDeliveries), then starts
// the deliveries of ids (see StartDeliveries), in one transaction, and
// returns the ids it started, in the order given.
func (s *Store) AdvanceDeliveries(ctx context.Context, owner string, results []mailing.Result, ids []int64, now time.Time) ([]int64, error) {
	const op = "advance deliveries"
	if owner == "" {
		ids = nil // nobody holds a lease without an owner
	}
	if len(ids) == 0 && len(results) == 0 {
		return nil, nil
	}
	rows := resultRows(results)
	moved := make(map[int64]bool, len(ids))
	err := s.write(ctx, func(tx *sql.Tx) error {
		clear(moved)
		for chunk := range slices.Chunk(rows, batchSize) {
			if err := s.finish(ctx, tx, owner, chunk); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		return s.start(ctx, tx, owner, ids, now, moved)
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	var out []int64
	for _, id := range ids {
		if moved[id] {
			out = append(out, id)
			delete(moved, id)
		}
	}
	return out, nil
}

// start moves the deliveries of ids that owner holds, still pending, of
// enabled mailings not ended at now, to sending, counting the attempt, and
// notes them in moved.
func (s *Store) start(ctx context.Context, tx *sql.Tx, owner string, ids []int64, now time.Time, moved map[int64]bool) error {
	if s.d.updateReturning {
		// One statement; "+" keeps the planner on the ids given (by
		// rowid), off the indexes by state and by mailing.
		at := sqldb.TimeArg(now)
		started, err := sqldb.Query(ctx, s.hot(tx), sqldb.ScanInt64, `
			UPDATE mailing_deliveries SET state = 'sending', attempts = attempts + 1, updated_at = ?
			WHERE id IN (SELECT value FROM json_each(?)) AND +state = 'pending' AND lease_owner = ?
				AND EXISTS (SELECT 1 FROM mailings m
					WHERE m.id = mailing_deliveries.mailing_id AND m.enabled = 1 AND m.end_at >= ?)
			RETURNING id`,
			at, sqldb.JSONInts(ids), owner, at)
		for _, id := range started {
			moved[id] = true
		}
		return err
	}
	// MySQL: an update, then a read of what it moved. The mailings are
	// read by a subquery: under READ COMMITTED a consistent read, which
	// locks none of their rows.
	at := sqldb.TimeArg(now)
	for chunk := range slices.Chunk(uniqueIDs(ids), batchSize) {
		list, listArgs := s.d.name.IDList(chunk)
		n, err := execAffected(ctx, tx, `
			UPDATE mailing_deliveries SET state = 'sending', attempts = attempts + 1, updated_at = ?
			WHERE id IN (`+list+`) AND state = 'pending' AND lease_owner = ?
				AND mailing_id IN (SELECT id FROM mailings WHERE enabled = 1 AND end_at >= ?)`,
			append(append([]any{at}, listArgs...), owner, at)...)
		if err != nil || n == 0 {
			return err
		}
		// The ids given were pending (or not ours): those of ours in
		// sending now are the ones this update moved.
		started, err := sqldb.Query(ctx, tx, sqldb.ScanInt64, `
			SELECT id FROM mailing_deliveries
			WHERE id IN (`+list+`) AND state = 'sending' AND lease_owner = ?`,
			append(listArgs, owner)...)
		if err != nil {
			return err
		}
		for _, id := range started {
			moved[id] = true
		}
	}
	return nil
}

// execAffected runs a statement and returns the rows it changed.
func execAffected(ctx context.Context, q sqldb.Querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return affected(res)
}

// FinishDeliveries records every result's attempt and applies the result
// to the deliveries owner still holds in sending, clearing the lease, in
// one transaction. An attempt takes its MailingID, ClientID and RunAt from
// its delivery; one whose delivery no longer exists (its mailing was
// deleted) is dropped. A delivery listed twice takes its first result.
func (s *Store) FinishDeliveries(ctx context.Context, owner string, results []mailing.Result) error {
	_, err := s.AdvanceDeliveries(ctx, owner, results, nil, time.Time{})
	return err
}

// finish records the attempts of rows and applies them to the deliveries
// owner holds.
func (s *Store) finish(ctx context.Context, tx *sql.Tx, owner string, rows []resultRow) error {
	results, args := s.d.results(rows)
	if err := s.insertAttempts(ctx, tx, results, args); err != nil {
		return err
	}
	var update string
	switch s.d.name {
	case SQLite:
		update = `
			UPDATE mailing_deliveries
			SET state = r.state, next_attempt_at = COALESCE(r.next_attempt_at, mailing_deliveries.next_attempt_at),
				last_error = r.last_error, lease_owner = '', lease_until = NULL, updated_at = r.updated_at
			FROM (` + results + `) AS r
			WHERE r.apply = 1 AND mailing_deliveries.id = r.delivery_id
				-- "+" keeps the planner on the rows given (by id), off the index of sending rows.
				AND +mailing_deliveries.state = 'sending' AND mailing_deliveries.lease_owner = ?`
	case MySQL:
		update = `
			UPDATE mailing_deliveries d JOIN (` + results + `) AS r ON d.id = r.delivery_id
			SET d.state = r.state, d.next_attempt_at = COALESCE(r.next_attempt_at, d.next_attempt_at),
				d.last_error = r.last_error, d.lease_owner = '', d.lease_until = NULL, d.updated_at = r.updated_at
			WHERE r.apply = 1 AND d.state = 'sending' AND d.lease_owner = ?`
	}
	_, err := s.hot(tx).ExecContext(ctx, update, append(args, owner)...)
	return err
}

// resultRow is a result as dialect.results takes it: delivery_id, at,
// duration_ns, outcome, code, response, state, next_attempt_at,
// last_error, updated_at, apply.
type resultRow [11]any

// resultRows returns results as rows for dialect.results.
func resultRows(results []mailing.Result) []resultRow {
	rows := make([]resultRow, len(results))
	seen := make(map[int64]bool, len(results))
	for i, r := range results {
		a := r.Attempt
		var next any
		if r.State == mailing.DeliveryPending {
			next = sqldb.TimeArg(r.NextAttemptAt)
		}
		apply := 0
		if !seen[a.DeliveryID] {
			seen[a.DeliveryID], apply = true, 1
		}
		rows[i] = resultRow{a.DeliveryID, sqldb.TimeArg(a.At), int64(a.Duration), a.Outcome, a.Code, clip(a.Response),
			r.State, next, clip(lastError(a)), sqldb.TimeArg(a.At.Add(a.Duration)), apply}
	}
	return rows
}

// lastError is the text a delivery's LastError shows for an attempt:
// "code response", or the response alone when the server did not answer.
func lastError(a mailing.Attempt) string {
	if a.Code != 0 {
		return strings.TrimSpace(fmt.Sprintf("%d %s", a.Code, a.Response))
	}
	return a.Response
}

// insertAttempts records the attempts of results (a dialect.results
// table, with its args) with the mailing, owner, client and run of their
// deliveries.
func (s *Store) insertAttempts(ctx context.Context, tx *sql.Tx, results string, args []any) error {
	_, err := s.hot(tx).ExecContext(ctx, `
		INSERT INTO mailing_attempts
			(delivery_id, mailing_id, owner_id, client_id, run_at, at, duration_ns, outcome, code, response)
		SELECT d.id, d.mailing_id, d.owner_id, d.client_id, d.run_at, r.at, r.duration_ns, r.outcome, r.code, r.response
		FROM (`+results+`) AS r
		JOIN mailing_deliveries d ON d.id = r.delivery_id`, args...)
	return err
}

// Heartbeat records that engine name lives until until, and forgets
// engines whose heartbeat ran out a day before now.
func (s *Store) Heartbeat(ctx context.Context, name string, until, now time.Time) error {
	if name == "" {
		return fmt.Errorf("sqlstore: heartbeat: the engine needs a name")
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.upsertEngine, name, sqldb.TimeArg(now), sqldb.TimeArg(until)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM mailing_engines WHERE expires_at < ?`, sqldb.TimeArg(now.Add(-24*time.Hour)))
		return err
	})
	return wrap("heartbeat", err)
}

// RetireEngine removes engine name's heartbeat.
func (s *Store) RetireEngine(ctx context.Context, name string) error {
	_, err := s.exec(ctx, `DELETE FROM mailing_engines WHERE name = ?`, name)
	return wrap("retire engine", err)
}

// ReleaseDeliveries drops owner's lease on its pending deliveries of ids.
func (s *Store) ReleaseDeliveries(ctx context.Context, owner string, ids []int64) error {
	const op = "release deliveries"
	if owner == "" || len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(uniqueIDs(ids), batchSize) {
			if _, err := tx.ExecContext(ctx, `
				UPDATE mailing_deliveries SET lease_owner = '', lease_until = NULL
				WHERE id IN (`+sqldb.In(len(chunk))+`) AND state = 'pending' AND lease_owner = ?`,
				append(sqldb.Args(chunk), owner)...); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(op, err)
}

// ExpireSending marks deliveries stuck in sending with a lease that ended
// before now as unknown, recording an attempt (Outcome unknown, Response
// ExpireResponse), and returns how many.
func (s *Store) ExpireSending(ctx context.Context, now time.Time) (int, error) {
	const op = "expire sending"
	at := sqldb.Micro(now)
	var n int
	err := s.write(ctx, func(tx *sql.Tx) error {
		stuck, err := sqldb.Query(ctx, tx, sqldb.ScanInt64, `
			SELECT id FROM mailing_deliveries
			WHERE state = 'sending' AND (lease_until < ? OR EXISTS (SELECT 1 FROM mailing_engines e
				WHERE e.name = mailing_deliveries.lease_owner AND e.expires_at < ?))`+s.d.lockRows,
			sqldb.TimeArg(at), sqldb.TimeArg(at))
		if err != nil {
			return err
		}
		slices.Sort(stuck)
		for chunk := range slices.Chunk(stuck, batchSize) {
			results := make([]mailing.Result, len(chunk))
			for i, id := range chunk {
				results[i] = mailing.Result{State: mailing.DeliveryUnknown, Attempt: mailing.Attempt{
					DeliveryID: id, At: at, Outcome: mailing.OutcomeUnknown, Response: ExpireResponse}}
			}
			rows, args := s.d.results(resultRows(results))
			if err := s.insertAttempts(ctx, tx, rows, args); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE mailing_deliveries
				SET state = 'unknown', last_error = ?, lease_owner = '', lease_until = NULL, updated_at = ?
				WHERE id IN (`+sqldb.In(len(chunk))+`)`,
				append([]any{ExpireResponse, sqldb.TimeArg(at)}, sqldb.Args(chunk)...)...); err != nil {
				return err
			}
		}
		n = len(stuck)
		return nil
	})
	if err != nil {
		return 0, wrap(op, err)
	}
	return n, nil
}

// ListDeliveries returns matching ledger rows ordered by id, and how many
// match without paging.
func (s *Store) ListDeliveries(ctx context.Context, f mailing.DeliveryFilter) ([]mailing.Delivery, int, error) {
	var w sqldb.Where
	if f.OwnerID != 0 {
		w.And("owner_id = ?", f.OwnerID)
	}
	if f.MailingID != 0 {
		w.And("mailing_id = ?", f.MailingID)
	}
	if f.ClientID != 0 {
		w.And("client_id = ?", f.ClientID)
	}
	if !f.RunAt.IsZero() {
		w.And("run_at = ?", sqldb.TimeArg(f.RunAt))
	}
	if len(f.States) > 0 {
		w.And("state IN ("+sqldb.In(len(f.States))+")", sqldb.Args(f.States)...)
	}
	var out []mailing.Delivery
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if total, err = count(ctx, tx, `SELECT COUNT(*) FROM mailing_deliveries`+w.SQL(), w.Args()...); err != nil || total == 0 {
			return err
		}
		out, err = queryDeliveries(ctx, tx, `SELECT `+deliveryCols+` FROM mailing_deliveries`+w.SQL()+` ORDER BY id LIMIT ? OFFSET ?`,
			w.Args(sqldb.PageArgs(f.Limit, f.Offset)...)...)
		return err
	})
	if err != nil {
		return nil, 0, wrap("list deliveries", err)
	}
	return out, total, nil
}

func scanAttempt(sc sqldb.Scanner) (mailing.Attempt, error) {
	var a mailing.Attempt
	var ns int64
	err := sc.Scan(&a.ID, &a.DeliveryID, &a.MailingID, &a.ClientID, sqldb.ScanTime(&a.RunAt),
		sqldb.ScanTime(&a.At), &ns, &a.Outcome, &a.Code, &a.Response)
	a.Duration = time.Duration(ns)
	return a, err
}

// ListAttempts returns matching attempts ordered by id, and how many match
// without paging.
func (s *Store) ListAttempts(ctx context.Context, f mailing.AttemptFilter) ([]mailing.Attempt, int, error) {
	var w sqldb.Where
	if f.OwnerID != 0 {
		w.And("owner_id = ?", f.OwnerID)
	}
	if f.MailingID != 0 {
		w.And("mailing_id = ?", f.MailingID)
	}
	if f.DeliveryID != 0 {
		w.And("delivery_id = ?", f.DeliveryID)
	}
	if f.ClientID != 0 {
		w.And("client_id = ?", f.ClientID)
	}
	var out []mailing.Attempt
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if total, err = count(ctx, tx, `SELECT COUNT(*) FROM mailing_attempts`+w.SQL(), w.Args()...); err != nil || total == 0 {
			return err
		}
		out, err = sqldb.Query(ctx, tx, scanAttempt, `
			SELECT id, delivery_id, mailing_id, client_id, run_at, at, duration_ns, outcome, code, response
			FROM mailing_attempts`+w.SQL()+` ORDER BY id LIMIT ? OFFSET ?`,
			w.Args(sqldb.PageArgs(f.Limit, f.Offset)...)...)
		return err
	})
	if err != nil {
		return nil, 0, wrap("list attempts", err)
	}
	return out, total, nil
}

// Backlog says what is left at now of the deliveries f selects.
func (s *Store) Backlog(ctx context.Context, f mailing.BacklogFilter, now time.Time) (mailing.Backlog, error) {
	where := func() *sqldb.Where {
		var w sqldb.Where
		if f.MailingID != 0 {
			w.And("mailing_id = ?", f.MailingID)
		}
		if !f.RunAt.IsZero() {
			w.And("run_at = ?", sqldb.TimeArg(f.RunAt))
		}
		if f.Open {
			w.And("state IN ('pending', 'sending')")
		}
		return &w
	}
	w := where()
	at := sqldb.TimeArg(now)
	b := mailing.Backlog{Counts: map[mailing.DeliveryState]int{}}
	err := s.read(ctx, func(tx *sql.Tx) error {
		type group struct {
			state mailing.DeliveryState
			n     int
		}
		groups, err := sqldb.Query(ctx, tx, func(sc sqldb.Scanner) (g group, err error) {
			return g, sc.Scan(&g.state, &g.n)
		}, `SELECT state, COUNT(*) FROM mailing_deliveries`+w.SQL()+` GROUP BY state`, w.Args()...)
		if err != nil {
			return err
		}
		for _, g := range groups {
			b.Counts[g.state] = g.n
		}
		if b.Final() {
			return nil
		}
		retry := where()
		retry.And("state = 'pending' AND next_attempt_at > ?", at)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), MIN(next_attempt_at) FROM mailing_deliveries`+retry.SQL(), retry.Args()...).
			Scan(&b.Retry, sqldb.ScanTime(&b.NextRetry)); err != nil {
			return err
		}
		leased := where()
		leased.And(`state IN ('pending', 'sending') AND lease_until > ? AND NOT EXISTS (SELECT 1 FROM mailing_engines e
			WHERE e.name = mailing_deliveries.lease_owner AND e.expires_at < ?)`, at, at)
		return tx.QueryRowContext(ctx, `SELECT COUNT(*), MAX(lease_until) FROM mailing_deliveries`+leased.SQL(), leased.Args()...).
			Scan(&b.Leased, sqldb.ScanTime(&b.LeaseEnds))
	})
	if err != nil {
		return mailing.Backlog{}, wrap("backlog", err)
	}
	return b, nil
}

// RunSummaries counts each run's deliveries by state for one mailing,
// newest run first; a mailing without runs, or none at all, has none.
func (s *Store) RunSummaries(ctx context.Context, mailingID int64) ([]mailing.RunSummary, error) {
	type group struct {
		runAt time.Time
		state mailing.DeliveryState
		n     int
	}
	groups, err := sqldb.Query(ctx, s.db, func(sc sqldb.Scanner) (g group, err error) {
		return g, sc.Scan(sqldb.ScanTime(&g.runAt), &g.state, &g.n)
	}, `
		SELECT run_at, state, COUNT(*) FROM mailing_deliveries
		WHERE mailing_id = ?
		GROUP BY run_at, state
		ORDER BY run_at DESC`, mailingID)
	if err != nil {
		return nil, wrap("run summaries", err)
	}
	var out []mailing.RunSummary
	for _, g := range groups {
		if len(out) == 0 || !out[len(out)-1].RunAt.Equal(g.runAt) {
			out = append(out, mailing.RunSummary{MailingID: mailingID, RunAt: g.runAt, Counts: map[mailing.DeliveryState]int{}})
		}
		out[len(out)-1].Counts[g.state] = g.n
	}
	return out, nil
}
