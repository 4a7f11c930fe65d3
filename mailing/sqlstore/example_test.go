package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/sqlstore"
)

// Open a database, bring its schema up to date and use the store.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "skychimp-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, dialect, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "skychimp.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store := sqlstore.New(db, dialect)
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	st, err := store.MigrationStatus(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("schema up to date:", st.UpToDate())

	ann := mailing.Client{OwnerID: 1, Email: "ann@example.com", Name: "Ann"}
	if err := store.CreateClient(ctx, &ann); err != nil {
		log.Fatal(err)
	}
	err = store.CreateClient(ctx, &mailing.Client{OwnerID: 1, Email: "ANN@example.com"})
	fmt.Println("same address again is a conflict:", errors.Is(err, mailing.ErrConflict))
	// Output:
	// schema up to date: true
	// same address again is a conflict: true
}
