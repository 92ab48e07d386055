package pgstore_test

import (
	"database/sql"
	"io/fs"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func recordParams(key string) store.RecordConversionParams {
	id := uuid.New()
	return store.RecordConversionParams{
		Conversion: store.Conversion{
			ID: id, DedupKey: key, Event: "ftd", PlayerID: "p-" + key, AffiliateID: "aff-1",
			Amount: money.New(10000, money.EUR), Status: event.StatusPending, OccurredAt: t0, ReceivedAt: t0,
		},
		Ledger: []store.LedgerLine{{
			ID: uuid.New(), ConversionID: id, AffiliateID: "aff-1", Kind: store.LedgerAccrual,
			Amount: money.New(2500, money.EUR), CreatedAt: t0,
		}},
		Deliveries: []store.Delivery{{
			ID: uuid.New(), ConversionID: id, Endpoint: "e", Method: http.MethodGet, URL: "https://t.example/pb",
			Status: store.DeliveryPending, NextAttemptAt: t0, CreatedAt: t0,
		}},
	}
}

// TestStore_RecordConversionTx writes the host's own row, a conversion and its outbox entry in
// one transaction of the host's.
func TestStore_RecordConversionTx(t *testing.T) {
	db := openDB(t)
	schema := newSchema(t, db)
	st := newStore(t, db, schema)
	_, err := db.ExecContext(t.Context(), "CREATE TABLE "+schema+".deposits (id text PRIMARY KEY)")
	require.NoError(t, err)

	run := func(key string, commit bool) *sql.Tx {
		tx, err := db.BeginTx(t.Context(), nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(t.Context(), "INSERT INTO "+schema+".deposits (id) VALUES ($1)", key)
		require.NoError(t, err)
		_, err = st.RecordConversionTx(t.Context(), tx, recordParams(key))
		require.NoError(t, err)
		if commit {
			require.NoError(t, tx.Commit())
		} else {
			require.NoError(t, tx.Rollback())
		}
		return tx
	}
	countDeposits := func(key string) int {
		var n int
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".deposits WHERE id = $1", key).Scan(&n))
		return n
	}

	t.Run("RollbackLeavesNothing", func(t *testing.T) {
		run("rolled-back", false)
		_, err := st.GetConversionByKey(t.Context(), "rolled-back")
		require.ErrorIs(t, err, store.ErrNotFound, "the conversion goes with the host's rollback")
		require.Zero(t, countDeposits("rolled-back"))
		pending, err := st.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryPending})
		require.NoError(t, err)
		require.Empty(t, pending, "the outbox entry goes with the host's rollback")
	})
	t.Run("CommitKeepsAll", func(t *testing.T) {
		run("committed", true)
		c, err := st.GetConversionByKey(t.Context(), "committed")
		require.NoError(t, err)
		require.Equal(t, 1, countDeposits("committed"))
		pending, err := st.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryPending})
		require.NoError(t, err)
		require.Len(t, pending, 1)
		require.Equal(t, c.ID, pending[0].ConversionID)
	})
	t.Run("DuplicateKeepsTxUsable", func(t *testing.T) {
		tx, err := db.BeginTx(t.Context(), nil)
		require.NoError(t, err)
		defer tx.Rollback() //nolint:errcheck
		p := recordParams("committed")
		p.Conversion.PlayerID = "p-committed"
		_, err = st.RecordConversionTx(t.Context(), tx, p)
		require.ErrorIs(t, err, store.ErrDuplicate)
		_, err = tx.ExecContext(t.Context(), "INSERT INTO "+schema+".deposits (id) VALUES ('after-dup')")
		require.NoError(t, err, "after ErrDuplicate the host's transaction is still usable")

		bad := recordParams("fails-midway")
		bad.Deliveries[0].ID = uuid.New()
		bad.Ledger[0].ID = bad.Deliveries[0].ID // refused by validation: nothing sent
		_, err = st.RecordConversionTx(t.Context(), tx, bad)
		require.ErrorIs(t, err, store.ErrInvalid)

		clash := recordParams("clashes")
		pending, err := st.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryPending})
		require.NoError(t, err)
		clash.Deliveries[0].ID = pending[0].ID // fails in the database, after the conversion row
		_, err = st.RecordConversionTx(t.Context(), tx, clash)
		require.ErrorIs(t, err, store.ErrConflict)
		var n int
		require.NoError(t, tx.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".conversions WHERE dedup_key = 'clashes'").Scan(&n))
		require.Zero(t, n, "a failure inside the savepoint leaves none of the call in the host's transaction")
		require.NoError(t, tx.Commit(), "the host can still commit its own work")
		require.Equal(t, 1, countDeposits("after-dup"))
	})
}

func TestStore_TxTwins(t *testing.T) {
	db := openDB(t)
	st := newStore(t, db, newSchema(t, db))
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	p := recordParams("k")
	_, err = st.RecordConversionTx(t.Context(), tx, p)
	require.NoError(t, err)
	_, err = st.ChangeStatusTx(t.Context(), tx, store.ChangeStatusParams{
		ConversionID: p.Conversion.ID, From: event.StatusPending, To: event.StatusApproved, At: t0.Add(time.Hour),
	})
	require.NoError(t, err)
	require.NoError(t, st.InsertLedgerLinesTx(t.Context(), tx, []store.LedgerLine{{
		ID: uuid.New(), AffiliateID: "aff-1", Kind: store.LedgerAdjustment, Amount: money.New(-100, money.EUR), CreatedAt: t0,
	}}))
	_, err = st.BindPlayerTx(t.Context(), tx, store.PlayerBinding{PlayerID: "p-k", AffiliateID: "aff-1", Method: store.BindByClick, BoundAt: t0})
	require.NoError(t, err)

	_, err = st.GetConversionByKey(t.Context(), "k")
	require.ErrorIs(t, err, store.ErrNotFound, "nothing is visible outside the host's transaction before it commits")
	require.NoError(t, tx.Commit())

	c, err := st.GetConversionByKey(t.Context(), "k")
	require.NoError(t, err)
	require.Equal(t, event.StatusApproved, c.Status)
	lines, err := st.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: t0, To: t0.Add(time.Second)})
	require.NoError(t, err)
	require.Len(t, lines, 2)
	_, err = st.GetBinding(t.Context(), "p-k")
	require.NoError(t, err)
}

// TestMigrate_Concurrent runs Migrate on one new schema from several pools at once, as several
// processes starting together would.
func TestMigrate_Concurrent(t *testing.T) {
	schema := runID + "_migrate"
	admin := openDB(t)
	dropSchemaAtCleanup(t, admin, schema)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		db := openDB(t)
		wg.Go(func() { errs <- pgstore.Migrate(t.Context(), db, &pgstore.MigrateOptions{Schema: schema}) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "concurrent migrators all succeed")
	}
	var n int
	require.NoError(t, admin.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".s2s_migrations").Scan(&n))
	ups, err := fs.Glob(pgstore.Migrations(), "*.up.sql")
	require.NoError(t, err)
	require.Equal(t, len(ups), n, "each version is recorded once")
	require.NoError(t, pgstore.Migrate(t.Context(), admin, &pgstore.MigrateOptions{Schema: schema}), "migrating again is a no-op")
}

func TestMigrations_FS(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(pgstore.Migrations(), "*.sql")
	require.NoError(t, err)
	require.Equal(t, []string{"0001_init.down.sql", "0001_init.up.sql",
		"0002_conversion_sender_ids.down.sql", "0002_conversion_sender_ids.up.sql"}, names)
	b, err := fs.ReadFile(pgstore.Migrations(), "0001_init.up.sql")
	require.NoError(t, err)
	require.Contains(t, string(b), "CREATE TABLE conversions")
	require.NotContains(t, string(b), "s2s.", "migrations use unqualified names, for any schema")
}

func TestNew_RefusesBadConfig(t *testing.T) {
	t.Parallel()
	_, err := pgstore.New(nil, nil)
	require.ErrorContains(t, err, "db is nil")
	_, err = pgstore.New(&sql.DB{}, &pgstore.Options{Schema: `bad"; DROP TABLE x; --`})
	require.ErrorContains(t, err, "not a plain identifier")
	err = pgstore.Migrate(t.Context(), &sql.DB{}, &pgstore.MigrateOptions{Schema: "a b"})
	require.ErrorContains(t, err, "not a plain identifier")
}
