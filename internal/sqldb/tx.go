package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// maxTxAttempts bounds how often InTx runs a transaction that keeps ending
// in a retryable error (IsRetryable).
const maxTxAttempts = 3

// InTx runs fn in a transaction and commits it, or rolls it back when fn
// returns an error or panics. A transaction the server rolled back as a
// deadlock victim (IsRetryable) is run again, up to three times in all, so
// fn must do all its work through tx and may run more than once.
func InTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	return InTxWith(ctx, db, nil, fn)
}

// InTxWith is InTx with transaction options (isolation, read-only).
func InTxWith(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	var err error
	for range maxTxAttempts {
		if err = runTx(ctx, db, opts, fn); err == nil || !IsRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func runTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(*sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
