package main

import (
	"context"
	"fmt"

	"github.com/skychimp/skychimp/internal/app"
)

func runMigrate(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "migrate")
	dbURL := dbFlag(fs, e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, d, err := openDB(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	reports, err := app.Migrate(ctx, db, d)
	for _, r := range reports {
		fmt.Fprintf(e.stdout, "%s\n", r)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
