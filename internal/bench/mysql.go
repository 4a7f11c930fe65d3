package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// createMySQL creates a uniquely named empty database on the server of
// dsn and returns its "mysql:DSN" URL and a function that drops it.
func createMySQL(ctx context.Context, dsn string) (url string, drop func() error, err error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("bench: MySQL DSN: %w", err)
	}
	cfg.DBName = ""
	cfg.ParseTime, cfg.Loc = true, time.UTC
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", nil, fmt.Errorf("bench: MySQL: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "skychimp_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("bench: create MySQL database %s: %w", name, err)
	}
	drop = func() error {
		defer admin.Close()
		if _, err := admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name); err != nil {
			return fmt.Errorf("bench: drop MySQL database %s: %w", name, err)
		}
		return nil
	}
	cfg.DBName = name
	return "mysql:" + cfg.FormatDSN(), drop, nil
}
