package pgstore_test

import (
	"context"
	"database/sql"
	"errors"
	"log"
	"os"

	_ "github.com/jackc/pgx/v5/stdlib" // or github.com/lib/pq: the host chooses the driver

	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

// An operator records a deposit in its own table and the conversion it causes, with its
// outbound postback, in one transaction: both commit, or neither does.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := pgstore.Migrate(ctx, db, nil); err != nil {
		log.Fatal(err)
	}
	st, err := pgstore.New(db, nil)
	if err != nil {
		log.Fatal(err)
	}

	var p store.RecordConversionParams // the conversion, its ledger lines and its deliveries

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, "INSERT INTO deposits (id, player_id, amount_minor, currency) VALUES ($1, $2, $3, $4)",
		"dep-1", "p-1", 15000, "EUR"); err != nil {
		log.Fatal(err)
	}
	// The view runs the call in tx, in a savepoint: on ErrDuplicate (a retry), tx is still usable.
	if _, err := st.WithTx(tx).RecordConversion(ctx, p); err != nil && !errors.Is(err, store.ErrDuplicate) {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
}
