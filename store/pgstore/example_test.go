package pgstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // or github.com/lib/pq: the host chooses the driver

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

// An operator records a deposit in its own table and the conversion it causes, with its
// CPA line and its outbound postback, in one transaction: both commit, or neither does.
// When the operator's handler runs again for the same deposit (a message delivered twice),
// the conversion is a duplicate, and the transaction is still usable: it commits.
//
// The example runs with the package's tests, on the server S2S_TEST_POSTGRES_URL names, in
// a schema of its own; a host passes nil options (pgstore.DefaultSchema) and its own URL.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("S2S_TEST_POSTGRES_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// The example's own schema, dropped at the end so that it leaves nothing behind.
	schema := runID + "_example"
	defer db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") //nolint:errcheck
	if err := pgstore.Migrate(ctx, db, &pgstore.MigrateOptions{Schema: schema}); err != nil {
		log.Fatal(err)
	}
	st, err := pgstore.New(db, &pgstore.Options{Schema: schema})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+schema+".deposits (id text PRIMARY KEY, player_id text NOT NULL,"+
		" amount_minor bigint NOT NULL, currency text NOT NULL)"); err != nil {
		log.Fatal(err)
	}

	// The conversion of the deposit, its CPA line and its postback to the affiliate's tracker.
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	deposit, payout := money.MustParse("150.00", money.EUR), money.MustParse("50.00", money.EUR)
	conv := store.Conversion{
		ID: uuid.Must(uuid.NewV7()), DedupKey: "casino:ftd:dep-1", Source: "casino", Event: event.FTD,
		PlayerID: "p-1", AffiliateID: "aff-42", TransactionID: "dep-1", Amount: deposit,
		Status: event.StatusApproved, OccurredAt: now, ReceivedAt: now,
		Decision: store.Decision{Model: "lifetime_binding", Code: "binding", Reason: "the player's binding to aff-42"},
	}
	cpa := store.LedgerLine{ID: uuid.Must(uuid.NewV7()), ConversionID: conv.ID, CreatedAt: now, Line: commission.Line{
		Kind: commission.KindAccrual, Rule: commission.RuleCPA, Plan: "cpa", AffiliateID: "aff-42", PlayerID: "p-1",
		EventID: "dep-1", At: now, Payable: now, Amount: payout, Base: deposit, Mode: money.HalfEven,
	}}
	ep := &outbound.Endpoint{Name: "aff-42-tracker", URL: "https://tracker.aff42.example/pb?txn={transaction_id}&payout={payout}"}
	if err := ep.Compile(); err != nil {
		log.Fatal(err)
	}
	v := outbound.ValuesOf(conv, payout)
	v.EventID = uuid.Must(uuid.NewV7()) // the delivery's ID, which the receiver dedups on
	postback, err := ep.Delivery(v, now)
	if err != nil {
		log.Fatal(err)
	}
	p := store.RecordConversionParams{Conversion: conv, Ledger: []store.LedgerLine{cpa}, Deliveries: []store.Delivery{postback}}

	record := func() (string, error) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return "", err
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+schema+".deposits (id, player_id, amount_minor, currency)"+
			" VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING", "dep-1", "p-1", deposit.Minor(), deposit.Currency().String()); err != nil {
			return "", err
		}
		// The view runs the call in tx, in a savepoint: on ErrDuplicate, tx is still usable.
		outcome := "recorded"
		if _, err := st.WithTx(tx).RecordConversion(ctx, p); errors.Is(err, store.ErrDuplicate) {
			outcome = "duplicate"
		} else if err != nil {
			return "", err
		}
		return outcome, tx.Commit()
	}
	for range 2 {
		outcome, err := record()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(outcome)
	}

	var deposits int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+schema+".deposits").Scan(&deposits); err != nil {
		log.Fatal(err)
	}
	got, err := st.GetConversionByKey(ctx, conv.DedupKey)
	if err != nil {
		log.Fatal(err)
	}
	lines, err := st.ListConversionLines(ctx, store.ListConversionLinesParams{ConversionID: got.ID})
	if err != nil {
		log.Fatal(err)
	}
	pending, err := st.ListDeliveries(ctx, store.ListDeliveriesParams{Status: store.DeliveryPending})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(deposits, "deposit;", got.Event, "of", got.PlayerID, "for", got.AffiliateID, got.Amount)
	fmt.Println(len(lines), "line of", lines[0].Amount, "and", len(pending), "postback:", pending[0].URL)
	// Output:
	// recorded
	// duplicate
	// 1 deposit; ftd of p-1 for aff-42 150.00 EUR
	// 1 line of 50.00 EUR and 1 postback: https://tracker.aff42.example/pb?txn=dep-1&payout=50.00
}
