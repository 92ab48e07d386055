package pgstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/commission"
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
		Ledger: []store.LedgerLine{{ID: uuid.New(), ConversionID: id, CreatedAt: t0, Line: commission.Line{
			Kind: commission.KindAccrual, Rule: commission.RuleCPA, AffiliateID: "aff-1", At: t0, Payable: t0,
			Amount: money.New(2500, money.EUR), Base: money.New(0, money.EUR),
		}}},
		Deliveries: []store.Delivery{{
			ID: uuid.New(), ConversionID: id, Endpoint: "e", Method: http.MethodGet, URL: "https://t.example/pb",
			Status: store.DeliveryPending, NextAttemptAt: t0, CreatedAt: t0,
		}},
	}
}

func newTestClick(t *testing.T) store.Click {
	t.Helper()
	id, err := clickid.New()
	require.NoError(t, err)
	return store.Click{ID: id, AffiliateID: "aff-1", CampaignID: "camp-1", CreatedAt: t0}
}

func periodLine(affiliate string) store.LedgerLine {
	return store.LedgerLine{ID: uuid.New(), CreatedAt: t0, Line: commission.Line{Kind: commission.KindAdjustment,
		Rule: commission.RuleAdjustment, AffiliateID: affiliate, At: t0, Payable: t0, Amount: money.New(-100, money.EUR), Base: money.New(0, money.EUR)}}
}

// record records p on st and returns what was stored.
func record(t *testing.T, st store.Store, p store.RecordConversionParams) store.Conversion {
	t.Helper()
	c, err := st.RecordConversion(t.Context(), p)
	require.NoError(t, err)
	return c
}

// leaseOne leases the one due delivery at now on st.
func leaseOne(t *testing.T, st store.Store, now time.Time) store.Lease {
	t.Helper()
	ls, err := st.LeaseDeliveries(t.Context(), store.LeaseParams{Now: now, LeaseFor: time.Minute})
	require.NoError(t, err)
	require.Len(t, ls, 1)
	return ls[0]
}

func attemptAt(at time.Time) store.Attempt {
	return store.Attempt{StartedAt: at, FinishedAt: at.Add(time.Second), StatusCode: 200}
}

// parkedEvent returns a reversal of transaction txn of source "net", parked at t0.
func parkedEvent(txn string) store.ParkedEvent {
	return store.ParkedEvent{ID: uuid.New(), ParkedAt: t0, Conversion: store.Conversion{
		ID: uuid.New(), DedupKey: "reversal:" + txn, Source: "net", Event: event.Reversal, TransactionID: txn,
		Status: event.StatusReversed, ReceivedAt: t0, Decision: store.Decision{Code: "parked_reversal"},
	}}
}

// inboundRecord returns a record of the inbound log received at at, with a new ID.
func inboundRecord(at time.Time) store.InboundRecord {
	return store.InboundRecord{ID: uuid.New(), ReceivedAt: at, Source: "net", Method: "GET", Outcome: "accepted",
		HTTPStatus: 202, Params: "clickid=x&sig=REDACTED", ConversionID: uuid.New(), Duration: 1500 * time.Microsecond}
}

// park parks e on st and returns what was stored.
func park(t *testing.T, st store.Store, e store.ParkedEvent) store.ParkedEvent {
	t.Helper()
	got, err := st.ParkEvent(t.Context(), e)
	require.NoError(t, err)
	return got
}

// parkedOf returns the parked events of transaction txn of source "net", as s lists them.
func parkedOf(t *testing.T, s store.Store, txn string) []store.ParkedEvent {
	t.Helper()
	ls, err := s.ListParked(t.Context(), store.ListParkedParams{Source: "net", TransactionID: txn})
	require.NoError(t, err)
	return ls
}

// A refusal is a call that a view refuses with the error want.
type refusal struct {
	name string
	call func(ctx context.Context, v store.Store) error
	want error
}

// txCalls are what a case does in a view: one write that succeeds, calls that are refused
// (some by validation, some by the database part-way through a statement), and a check of
// whether the write's effect is visible through a store.
type txCalls struct {
	write   func(ctx context.Context, v store.Store) error
	refused []refusal
	written func(t *testing.T, s store.Store) bool
}

// txCases has a case for every write method of store.Store but LeaseDeliveries, which has a
// test of its own (TestStore_WithTx_Lease): prepare writes, on the pool, what the case's calls
// meet, and returns them.
var txCases = []struct {
	method  string
	prepare func(t *testing.T, st store.Store) txCalls
}{
	{"InsertClick", func(t *testing.T, st store.Store) txCalls {
		old := newTestClick(t)
		require.NoError(t, st.InsertClick(t.Context(), old))
		c := newTestClick(t)
		other := old
		other.CampaignID = "camp-2"
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { return v.InsertClick(ctx, c) },
			refused: []refusal{
				{"Duplicate", func(ctx context.Context, v store.Store) error { return v.InsertClick(ctx, old) }, store.ErrDuplicate},
				{"Conflict", func(ctx context.Context, v store.Store) error { return v.InsertClick(ctx, other) }, store.ErrConflict},
				{"Invalid", func(ctx context.Context, v store.Store) error { return v.InsertClick(ctx, store.Click{}) }, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				_, err := s.GetClick(t.Context(), c.ID)
				return found(t, err)
			},
		}
	}},
	{"InsertClicks", func(t *testing.T, st store.Store) txCalls {
		old := newTestClick(t)
		require.NoError(t, st.InsertClick(t.Context(), old))
		batch := []store.Click{newTestClick(t), newTestClick(t)}
		other := old
		other.CampaignID = "camp-2"
		fresh := newTestClick(t)
		return txCalls{
			write: func(ctx context.Context, v store.Store) error {
				return v.InsertClicks(ctx, store.InsertClicksParams{Clicks: batch})
			},
			refused: []refusal{
				// The multi-row INSERT writes fresh, then meets the row that exists: the call
				// fails after writing.
				{"ExistingID", func(ctx context.Context, v store.Store) error {
					return v.InsertClicks(ctx, store.InsertClicksParams{Clicks: []store.Click{fresh, other}})
				}, store.ErrConflict},
				{"RepeatedInBatch", func(ctx context.Context, v store.Store) error {
					return v.InsertClicks(ctx, store.InsertClicksParams{Clicks: []store.Click{fresh, fresh}})
				}, store.ErrInvalid},
				{"Invalid", func(ctx context.Context, v store.Store) error {
					return v.InsertClicks(ctx, store.InsertClicksParams{Clicks: []store.Click{fresh, {}}})
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				_, err := s.GetClick(t.Context(), batch[1].ID)
				if _, ferr := s.GetClick(t.Context(), fresh.ID); !errors.Is(ferr, store.ErrNotFound) {
					t.Fatalf("a refused batch left its first click behind: %v", ferr)
				}
				return found(t, err)
			},
		}
	}},
	{"BindPlayer", func(t *testing.T, st store.Store) txCalls {
		old := store.PlayerBinding{PlayerID: "p-0", AffiliateID: "aff-1", Method: store.BindByClick, BoundAt: t0}
		_, err := st.BindPlayer(t.Context(), old)
		require.NoError(t, err)
		b := store.PlayerBinding{PlayerID: "p-1", AffiliateID: "aff-1", Method: store.BindByClick, BoundAt: t0}
		other := old
		other.AffiliateID = "aff-2"
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { _, err := v.BindPlayer(ctx, b); return err },
			refused: []refusal{
				{"Duplicate", func(ctx context.Context, v store.Store) error { _, err := v.BindPlayer(ctx, old); return err }, store.ErrDuplicate},
				{"Conflict", func(ctx context.Context, v store.Store) error { _, err := v.BindPlayer(ctx, other); return err }, store.ErrConflict},
				{"Invalid", func(ctx context.Context, v store.Store) error {
					_, err := v.BindPlayer(ctx, store.PlayerBinding{PlayerID: "p-2"})
					return err
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				_, err := s.GetBinding(t.Context(), b.PlayerID)
				return found(t, err)
			},
		}
	}},
	{"RecordConversion", func(t *testing.T, st store.Store) txCalls {
		old := recordParams("k-0")
		old.Increments = []store.Increment{{Counter: "cap", Delta: 1, Limit: 2}}
		record(t, st, old)
		p := recordParams("k-1")
		p.Increments = []store.Increment{{Counter: "cap", Delta: 1, Limit: 2}}
		// Past the limit once p is written: refused after its rows were inserted.
		capped := recordParams("k-capped")
		capped.Increments = []store.Increment{{Counter: "all", Delta: 1}, {Counter: "cap", Delta: 1, Limit: 2}}
		conflict := old
		conflict.Conversion.PlayerID = "someone-else"
		clash := recordParams("k-clash")
		clash.Deliveries[0].ID = old.Deliveries[0].ID // fails in the database, after the conversion's row
		invalid := recordParams("k-invalid")
		invalid.Ledger[0].ID = invalid.Deliveries[0].ID
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { _, err := v.RecordConversion(ctx, p); return err },
			refused: []refusal{
				{"Duplicate", func(ctx context.Context, v store.Store) error { _, err := v.RecordConversion(ctx, old); return err }, store.ErrDuplicate},
				{"Conflict", func(ctx context.Context, v store.Store) error {
					_, err := v.RecordConversion(ctx, conflict)
					return err
				}, store.ErrConflict},
				{"FailsPartWay", func(ctx context.Context, v store.Store) error { _, err := v.RecordConversion(ctx, clash); return err }, store.ErrConflict},
				{"Limit", func(ctx context.Context, v store.Store) error { _, err := v.RecordConversion(ctx, capped); return err }, store.ErrLimit},
				{"Invalid", func(ctx context.Context, v store.Store) error { _, err := v.RecordConversion(ctx, invalid); return err }, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				if _, err := s.GetConversionByKey(t.Context(), clash.Conversion.DedupKey); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("a conversion that failed part-way is visible: %v", err)
				}
				if _, err := s.GetConversionByKey(t.Context(), capped.Conversion.DedupKey); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("a conversion refused at a limit is visible: %v", err)
				}
				all, err := s.GetCounter(t.Context(), "all")
				require.NoError(t, err)
				require.Zero(t, all, "a write refused at a limit applies none of its increments")
				_, err = s.GetConversionByKey(t.Context(), p.Conversion.DedupKey)
				conv := found(t, err)
				_, err = s.GetDelivery(t.Context(), p.Deliveries[0].ID)
				outbox := found(t, err)
				lines, err := s.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: "aff-1", From: t0, To: t0.Add(time.Second)})
				require.NoError(t, err)
				ledger := len(lines) == 2
				n, err := s.GetCounter(t.Context(), "cap")
				require.NoError(t, err)
				counted := n == 2
				require.True(t, conv == outbox && outbox == ledger && ledger == counted,
					"the conversion (%v), its outbox entry (%v), its ledger line (%v) and its increment (%v) are visible together or not at all", conv, outbox, ledger, counted)
				return conv
			},
		}
	}},
	{"ChangeStatus", func(t *testing.T, st store.Store) txCalls {
		c := record(t, st, recordParams("k-0"))
		other := record(t, st, recordParams("k-1"))
		settled := park(t, st, parkedEvent("tx-settled"))
		require.NoError(t, st.ResolveParked(t.Context(), store.ResolveParkedParams{IDs: []uuid.UUID{settled.ID}, At: t0}))
		approve := store.ChangeStatusParams{ConversionID: c.ID, From: event.StatusPending, To: event.StatusApproved, At: t0.Add(time.Hour)}
		// Reversing with a ledger line whose ID is taken fails in the database, after the
		// status was set and the history appended.
		clash := store.ChangeStatusParams{ConversionID: other.ID, From: event.StatusPending, To: event.StatusReversed, At: t0.Add(time.Hour),
			Ledger: []store.LedgerLine{{ID: recordParamsLine(t, st, other), ConversionID: other.ID, CreatedAt: t0.Add(time.Hour),
				Line: commission.Line{Kind: commission.KindReversal, Rule: commission.RuleCPA, AffiliateID: "aff-1",
					At: t0.Add(time.Hour), Payable: t0.Add(time.Hour), Amount: money.New(-2500, money.EUR), Base: money.New(0, money.EUR)}}}}
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { _, err := v.ChangeStatus(ctx, approve); return err },
			refused: []refusal{
				{"NotFromCurrentStatus", func(ctx context.Context, v store.Store) error { _, err := v.ChangeStatus(ctx, approve); return err }, store.ErrConflict},
				{"FailsPartWay", func(ctx context.Context, v store.Store) error { _, err := v.ChangeStatus(ctx, clash); return err }, store.ErrConflict},
				{"Limit", func(ctx context.Context, v store.Store) error {
					p := clash
					p.Ledger = nil
					p.Increments = []store.Increment{{Counter: "reversals", Delta: 2, Limit: 1}}
					_, err := v.ChangeStatus(ctx, p)
					return err
				}, store.ErrLimit},
				{"NotFound", func(ctx context.Context, v store.Store) error {
					p := approve
					p.ConversionID = uuid.New()
					_, err := v.ChangeStatus(ctx, p)
					return err
				}, store.ErrNotFound},
				// Refused after the status was set and the history appended.
				{"ParkedResolvedAlready", func(ctx context.Context, v store.Store) error {
					p := clash
					p.Ledger = nil
					p.Resolve = []uuid.UUID{settled.ID}
					_, err := v.ChangeStatus(ctx, p)
					return err
				}, store.ErrConflict},
				{"ParkedNotFound", func(ctx context.Context, v store.Store) error {
					p := clash
					p.Ledger = nil
					p.Resolve = []uuid.UUID{uuid.New()}
					_, err := v.ChangeStatus(ctx, p)
					return err
				}, store.ErrNotFound},
				{"Invalid", func(ctx context.Context, v store.Store) error {
					_, err := v.ChangeStatus(ctx, store.ChangeStatusParams{ConversionID: c.ID})
					return err
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				o, err := s.GetConversion(t.Context(), other.ID)
				require.NoError(t, err)
				require.Equal(t, event.StatusPending, o.Status, "a status change that failed part-way left nothing")
				require.Len(t, o.History, 1, "a status change that failed part-way left nothing")
				got, err := s.GetConversion(t.Context(), c.ID)
				require.NoError(t, err)
				return got.Status == event.StatusApproved && len(got.History) == 2
			},
		}
	}},
	{"InsertLedgerLines", func(t *testing.T, st store.Store) txCalls {
		old := periodLine("aff-9")
		require.NoError(t, st.InsertLedgerLines(t.Context(), store.InsertLedgerLinesParams{Lines: []store.LedgerLine{old}}))
		line := periodLine("aff-9")
		changed := old
		changed.Plan = "other"
		noConversion := periodLine("aff-9")
		noConversion.ConversionID = uuid.New() // refused by the database's foreign key
		return txCalls{
			write: func(ctx context.Context, v store.Store) error {
				return v.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{line}})
			},
			refused: []refusal{
				{"Duplicate", func(ctx context.Context, v store.Store) error {
					return v.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{old}})
				}, store.ErrDuplicate},
				{"Conflict", func(ctx context.Context, v store.Store) error {
					return v.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{periodLine("aff-9"), changed}})
				}, store.ErrConflict},
				{"UnknownConversion", func(ctx context.Context, v store.Store) error {
					return v.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{periodLine("aff-9"), noConversion}})
				}, store.ErrInvalid},
				{"Invalid", func(ctx context.Context, v store.Store) error {
					return v.InsertLedgerLines(ctx, store.InsertLedgerLinesParams{Lines: []store.LedgerLine{{ID: uuid.New()}}})
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				lines, err := s.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: "aff-9", From: t0, To: t0.Add(time.Second)})
				require.NoError(t, err)
				switch len(lines) {
				case 1:
					return false
				case 2:
					return true
				}
				t.Fatalf("%d lines: a refused call left lines behind", len(lines))
				return false
			},
		}
	}},
	{"ParkEvent", func(t *testing.T, st store.Store) txCalls {
		old := park(t, st, parkedEvent("tx-0"))
		e := parkedEvent("tx-1")
		conflict := parkedEvent("tx-0")
		conflict.Conversion.PlayerID = "someone-else"
		taken := parkedEvent("tx-2")
		taken.ID = old.ID
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { _, err := v.ParkEvent(ctx, e); return err },
			refused: []refusal{
				{"Duplicate", func(ctx context.Context, v store.Store) error {
					_, err := v.ParkEvent(ctx, parkedEvent("tx-0"))
					return err
				}, store.ErrDuplicate},
				{"Conflict", func(ctx context.Context, v store.Store) error { _, err := v.ParkEvent(ctx, conflict); return err }, store.ErrConflict},
				{"IDTaken", func(ctx context.Context, v store.Store) error { _, err := v.ParkEvent(ctx, taken); return err }, store.ErrConflict},
				{"Invalid", func(ctx context.Context, v store.Store) error {
					_, err := v.ParkEvent(ctx, store.ParkedEvent{ID: uuid.New()})
					return err
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				require.Empty(t, parkedOf(t, s, "tx-2"), "a refused park left its event behind")
				return len(parkedOf(t, s, "tx-1")) == 1
			},
		}
	}},
	{"ResolveParked", func(t *testing.T, st store.Store) txCalls {
		c := record(t, st, recordParams("k-0"))
		e := park(t, st, parkedEvent("tx-1"))
		settled := park(t, st, parkedEvent("tx-2"))
		require.NoError(t, st.ResolveParked(t.Context(), store.ResolveParkedParams{IDs: []uuid.UUID{settled.ID}, At: t0}))
		other := park(t, st, parkedEvent("tx-3"))
		resolve := store.ResolveParkedParams{IDs: []uuid.UUID{e.ID}, AppliedTo: c.ID, At: t0.Add(time.Hour)}
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { return v.ResolveParked(ctx, resolve) },
			refused: []refusal{
				// Each is refused after the UPDATE resolved the events it could: other.
				{"ResolvedAlready", func(ctx context.Context, v store.Store) error {
					return v.ResolveParked(ctx, store.ResolveParkedParams{IDs: []uuid.UUID{other.ID, settled.ID}, At: t0})
				}, store.ErrConflict},
				{"NotFound", func(ctx context.Context, v store.Store) error {
					return v.ResolveParked(ctx, store.ResolveParkedParams{IDs: []uuid.UUID{other.ID, uuid.New()}, At: t0})
				}, store.ErrNotFound},
				{"UnknownConversion", func(ctx context.Context, v store.Store) error {
					return v.ResolveParked(ctx, store.ResolveParkedParams{IDs: []uuid.UUID{other.ID}, AppliedTo: uuid.New(), At: t0})
				}, store.ErrInvalid},
				{"Invalid", func(ctx context.Context, v store.Store) error {
					return v.ResolveParked(ctx, store.ResolveParkedParams{IDs: []uuid.UUID{other.ID}})
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				require.False(t, parkedOf(t, s, "tx-3")[0].Resolved(), "a refused resolution left an event resolved")
				return parkedOf(t, s, "tx-1")[0].Resolved()
			},
		}
	}},
	{"LogInbound", func(t *testing.T, st store.Store) txCalls {
		old := inboundRecord(t0)
		require.NoError(t, st.LogInbound(t.Context(), old))
		r := inboundRecord(t0.Add(time.Second))
		other := old
		other.Outcome = "rejected"
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { return v.LogInbound(ctx, r) },
			refused: []refusal{
				{"Duplicate", func(ctx context.Context, v store.Store) error { return v.LogInbound(ctx, old) }, store.ErrDuplicate},
				{"Conflict", func(ctx context.Context, v store.Store) error { return v.LogInbound(ctx, other) }, store.ErrConflict},
				{"Invalid", func(ctx context.Context, v store.Store) error {
					return v.LogInbound(ctx, store.InboundRecord{ID: uuid.New()})
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				rs, err := s.ListInbound(t.Context(), store.ListInboundParams{})
				require.NoError(t, err)
				return len(rs) == 2
			},
		}
	}},
	{"PruneInbound", func(t *testing.T, st store.Store) txCalls {
		for i := range 3 {
			require.NoError(t, st.LogInbound(t.Context(), inboundRecord(t0.Add(time.Duration(i)*time.Second))))
		}
		return txCalls{
			write: func(ctx context.Context, v store.Store) error {
				_, err := v.PruneInbound(ctx, store.PruneInboundParams{Before: t0.Add(2 * time.Second)})
				return err
			},
			refused: []refusal{
				{"Invalid", func(ctx context.Context, v store.Store) error {
					_, err := v.PruneInbound(ctx, store.PruneInboundParams{})
					return err
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				rs, err := s.ListInbound(t.Context(), store.ListInboundParams{})
				require.NoError(t, err)
				return len(rs) == 1
			},
		}
	}},
	{"RecordAttempt", func(t *testing.T, st store.Store) txCalls {
		record(t, st, recordParams("k-0"))
		l := leaseOne(t, st, t0)
		done := store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token, Attempt: attemptAt(t0), Status: store.DeliveryDelivered}
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { _, err := v.RecordAttempt(ctx, done); return err },
			refused: []refusal{
				{"LeaseLost", func(ctx context.Context, v store.Store) error { _, err := v.RecordAttempt(ctx, done); return err }, store.ErrLeaseLost},
				{"NotFound", func(ctx context.Context, v store.Store) error {
					p := done
					p.DeliveryID = uuid.New()
					_, err := v.RecordAttempt(ctx, p)
					return err
				}, store.ErrNotFound},
				{"Invalid", func(ctx context.Context, v store.Store) error {
					_, err := v.RecordAttempt(ctx, store.RecordAttemptParams{DeliveryID: l.Delivery.ID})
					return err
				}, store.ErrInvalid},
			},
			written: func(t *testing.T, s store.Store) bool {
				d, err := s.GetDelivery(t.Context(), l.Delivery.ID)
				require.NoError(t, err)
				return d.Status == store.DeliveryDelivered && len(d.Attempts) == 1
			},
		}
	}},
	{"ReplayDelivery", func(t *testing.T, st store.Store) txCalls {
		record(t, st, recordParams("k-0"))
		l := leaseOne(t, st, t0)
		_, err := st.RecordAttempt(t.Context(), store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token,
			Attempt: attemptAt(t0), Status: store.DeliveryDead})
		require.NoError(t, err)
		replay := store.ReplayDeliveryParams{DeliveryID: l.Delivery.ID, At: t0.Add(time.Hour)}
		return txCalls{
			write: func(ctx context.Context, v store.Store) error { _, err := v.ReplayDelivery(ctx, replay); return err },
			refused: []refusal{
				{"NotDead", func(ctx context.Context, v store.Store) error { _, err := v.ReplayDelivery(ctx, replay); return err }, store.ErrConflict},
				{"NotFound", func(ctx context.Context, v store.Store) error {
					_, err := v.ReplayDelivery(ctx, store.ReplayDeliveryParams{DeliveryID: uuid.New(), At: t0})
					return err
				}, store.ErrNotFound},
			},
			written: func(t *testing.T, s store.Store) bool {
				d, err := s.GetDelivery(t.Context(), l.Delivery.ID)
				require.NoError(t, err)
				return d.Status == store.DeliveryPending
			},
		}
	}},
}

// recordParamsLine returns the ID of the ledger line that c was recorded with.
func recordParamsLine(t *testing.T, st store.Store, c store.Conversion) uuid.UUID {
	t.Helper()
	lines, err := st.ListLedgerLines(t.Context(), store.ListLedgerLinesParams{AffiliateID: c.AffiliateID, From: t0, To: t0.Add(time.Second)})
	require.NoError(t, err)
	for _, l := range lines {
		if l.ConversionID == c.ID {
			return l.ID
		}
	}
	t.Fatalf("no ledger line of conversion %s", c.ID)
	return uuid.Nil
}

// found reports whether a Get found its record: nil is found, ErrNotFound is not, anything
// else fails the test.
func found(t *testing.T, err error) bool {
	t.Helper()
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// hostTx begins a transaction of the host's on db, in which the host writes a row of its own
// table deposits, and returns the transaction and a func that says whether the row is there,
// read outside the transaction.
func hostTx(t *testing.T, db *sql.DB, schema string) (*sql.Tx, func() bool) {
	t.Helper()
	_, err := db.ExecContext(t.Context(), "CREATE TABLE IF NOT EXISTS "+schema+".deposits (id text PRIMARY KEY)")
	require.NoError(t, err)
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	id := uuid.NewString()
	_, err = tx.ExecContext(t.Context(), "INSERT INTO "+schema+".deposits (id) VALUES ($1)", id)
	require.NoError(t, err)
	return tx, func() bool {
		var n int
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".deposits WHERE id = $1", id).Scan(&n))
		return n == 1
	}
}

// requireUsable checks that the host can still work in tx.
func requireUsable(t *testing.T, tx *sql.Tx, schema, after string) {
	t.Helper()
	_, err := tx.ExecContext(t.Context(), "INSERT INTO "+schema+".deposits (id) VALUES ($1)", uuid.NewString())
	require.NoError(t, err, "after %s the host's transaction is still usable", after)
}

// TestStore_WithTx runs every write method in a view bound to a host's transaction, with the
// host's own row beside it. A call refused by validation, or by the database part-way through,
// leaves nothing of itself and the transaction usable, without undoing the view's earlier
// writes; the view reads its transaction's uncommitted rows; nothing is visible outside before
// commit; commit keeps the host's row and the view's write, rollback neither.
func TestStore_WithTx(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	for _, c := range txCases {
		for _, commit := range []bool{true, false} {
			ending := map[bool]string{true: "Commit", false: "Rollback"}[commit]
			t.Run(c.method+"/"+ending, func(t *testing.T) {
				t.Parallel()
				schema := newSchema(t, db)
				st := newStore(t, db, schema)
				calls := c.prepare(t, st)
				tx, hostRow := hostTx(t, db, schema)
				v := st.WithTx(tx)

				canceled, cancel := context.WithCancel(t.Context())
				cancel()
				require.ErrorIs(t, calls.write(canceled, v), context.Canceled)
				requireUsable(t, tx, schema, "a cancelled call")
				require.False(t, calls.written(t, v), "a cancelled call writes nothing")

				require.NoError(t, calls.write(t.Context(), v))
				require.True(t, calls.written(t, v), "the view reads its transaction's uncommitted rows")
				require.False(t, calls.written(t, st), "nothing the view writes is visible outside before commit")
				for _, r := range calls.refused {
					require.ErrorIs(t, r.call(t.Context(), v), r.want, r.name)
					requireUsable(t, tx, schema, r.name)
				}
				require.True(t, calls.written(t, v), "a refused call keeps the view's earlier writes")

				if commit {
					require.NoError(t, tx.Commit(), "the host commits")
				} else {
					require.NoError(t, tx.Rollback(), "the host rolls back")
				}
				require.Equal(t, commit, hostRow(), "the host's row commits with its transaction")
				require.Equal(t, commit, calls.written(t, st), "the view's write commits with the host's transaction")
				_, err := v.GetClick(t.Context(), newTestClick(t).ID)
				require.ErrorIs(t, err, sql.ErrTxDone, "a view is dead once its transaction has ended")
			})
		}
	}
}

// TestStore_WithTx_Lease leases in a view: the leased row is locked for the host's
// transaction, so other workers skip it; a rollback undoes the lease (and the attempt
// recorded under it), a commit keeps both.
func TestStore_WithTx_Lease(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	for _, commit := range []bool{true, false} {
		t.Run(map[bool]string{true: "Commit", false: "Rollback"}[commit], func(t *testing.T) {
			t.Parallel()
			schema := newSchema(t, db)
			st := newStore(t, db, schema)
			p := recordParams("k-0")
			record(t, st, p)
			tx, _ := hostTx(t, db, schema)
			v := st.WithTx(tx)

			_, err := v.LeaseDeliveries(t.Context(), store.LeaseParams{Now: t0})
			require.ErrorIs(t, err, store.ErrInvalid)
			requireUsable(t, tx, schema, "an invalid lease")

			l := leaseOne(t, v, t0)
			require.Equal(t, int64(1), l.Token)
			ls, err := v.LeaseDeliveries(t.Context(), store.LeaseParams{Now: t0, LeaseFor: time.Minute})
			require.NoError(t, err)
			require.Empty(t, ls, "the view sees its own lease")
			ls, err = st.LeaseDeliveries(t.Context(), store.LeaseParams{Now: t0.Add(time.Hour), LeaseFor: time.Minute})
			require.NoError(t, err)
			require.Empty(t, ls, "other workers skip a row leased in an open transaction, even after the lease's expiry")
			retry := t0.Add(10 * time.Minute)
			_, err = v.RecordAttempt(t.Context(), store.RecordAttemptParams{DeliveryID: l.Delivery.ID, Token: l.Token,
				Attempt: attemptAt(t0), Status: store.DeliveryPending, NextAttemptAt: retry})
			require.NoError(t, err)

			if !commit {
				require.NoError(t, tx.Rollback())
				again := leaseOne(t, st, t0)
				require.Equal(t, int64(1), again.Token, "a rolled-back lease never happened")
				require.Empty(t, again.Delivery.Attempts, "nor did the attempt recorded under it")
				return
			}
			require.NoError(t, tx.Commit())
			ls, err = st.LeaseDeliveries(t.Context(), store.LeaseParams{Now: retry.Add(-time.Second), LeaseFor: time.Minute})
			require.NoError(t, err)
			require.Empty(t, ls, "the committed attempt scheduled the retry")
			again := leaseOne(t, st, retry)
			require.Equal(t, int64(2), again.Token, "the committed lease took a token")
			require.Len(t, again.Delivery.Attempts, 1)
		})
	}
}

// TestStore_WithTx_Concurrent uses one view from many goroutines at once, as a host's
// handlers sharing one request's transaction might: the view serialises its calls, so that
// their savepoints never interleave on the transaction's one connection.
func TestStore_WithTx_Concurrent(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	schema := newSchema(t, db)
	st := newStore(t, db, schema)
	tx, hostRow := hostTx(t, db, schema)
	v := st.WithTx(tx)
	const n = 32
	clicks := make([]store.Click, n)
	for i := range clicks {
		clicks[i] = newTestClick(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Go(func() {
			errs <- v.InsertClick(t.Context(), clicks[i])
			// Half of the goroutines repeat their click: a duplicate, refused in a savepoint.
			if i%2 == 0 {
				if err := v.InsertClick(t.Context(), clicks[i]); !errors.Is(err, store.ErrDuplicate) {
					errs <- fmt.Errorf("repeated click: %v, want ErrDuplicate", err)
				}
			}
			_, err := v.GetClick(t.Context(), clicks[i].ID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	require.True(t, hostRow())
	for _, c := range clicks {
		_, err := st.GetClick(t.Context(), c.ID)
		require.NoError(t, err, "every click of the view committed")
	}
}

// TestStore_WithTx_Isolation meets, in a view, a write that another transaction committed
// after the view's transaction took its snapshot: a record of the same dedup key, and a
// status change from the same status. At READ COMMITTED the view waits and decides
// (ErrDuplicate, ErrConflict); at REPEATABLE READ and SERIALIZABLE the database aborts the
// call with a serialization failure, which is ErrSerialization; at every level nothing of
// the call is written and the host's transaction stays usable.
func TestStore_WithTx_Isolation(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	for _, tc := range []struct {
		level                sql.IsolationLevel
		wantRecord, wantMove error
	}{
		{sql.LevelReadCommitted, store.ErrDuplicate, store.ErrConflict},
		{sql.LevelRepeatableRead, store.ErrSerialization, store.ErrSerialization},
		{sql.LevelSerializable, store.ErrSerialization, store.ErrSerialization},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			t.Parallel()
			schema := newSchema(t, db)
			st := newStore(t, db, schema)
			old := recordParams("old")
			record(t, st, old)
			_, err := db.ExecContext(t.Context(), "CREATE TABLE "+schema+".deposits (id text PRIMARY KEY)")
			require.NoError(t, err)

			tx, err := db.BeginTx(t.Context(), &sql.TxOptions{Isolation: tc.level})
			require.NoError(t, err)
			t.Cleanup(func() { _ = tx.Rollback() })
			v := st.WithTx(tx)
			_, err = v.GetConversion(t.Context(), old.Conversion.ID) // the snapshot is taken here
			require.NoError(t, err)

			// Another transaction commits, after the snapshot, what the view then meets.
			fresh := recordParams("fresh")
			record(t, st, fresh)
			_, err = st.ChangeStatus(t.Context(), store.ChangeStatusParams{ConversionID: old.Conversion.ID,
				From: event.StatusPending, To: event.StatusApproved, At: t0.Add(time.Hour)})
			require.NoError(t, err)

			retry := recordParams("fresh")
			retry.Conversion.PlayerID = fresh.Conversion.PlayerID
			_, err = v.RecordConversion(t.Context(), retry)
			require.ErrorIs(t, err, tc.wantRecord, "a record of a key committed after the snapshot, at %s", tc.level)
			requireUsable(t, tx, schema, "a record that met a later commit")
			_, err = v.ChangeStatus(t.Context(), store.ChangeStatusParams{ConversionID: old.Conversion.ID,
				From: event.StatusPending, To: event.StatusRejected, At: t0.Add(time.Hour)})
			require.ErrorIs(t, err, tc.wantMove, "a status change from a status moved after the snapshot, at %s", tc.level)
			requireUsable(t, tx, schema, "a status change that met a later commit")
			if errors.Is(err, store.ErrSerialization) {
				var se interface{ SQLState() string }
				require.ErrorAs(t, err, &se, "the driver's error stays in the chain")
				require.Equal(t, "40001", se.SQLState())
			}
			require.NoError(t, tx.Commit())

			_, err = st.GetDelivery(t.Context(), retry.Deliveries[0].ID)
			require.ErrorIs(t, err, store.ErrNotFound, "the refused record wrote nothing")
			c, err := st.GetConversion(t.Context(), old.Conversion.ID)
			require.NoError(t, err)
			require.Equal(t, event.StatusApproved, c.Status, "the refused status change wrote nothing")
			require.Len(t, c.History, 2, "the refused status change appended nothing")
		})
	}
}

// TestStore_WithTx_Nil gives a view of no transaction: every call fails, and nothing runs
// outside a transaction by mistake.
func TestStore_WithTx_Nil(t *testing.T) {
	t.Parallel()
	st, err := pgstore.New(&sql.DB{}, nil) // never reached
	require.NoError(t, err)
	v := st.WithTx(nil)
	require.ErrorIs(t, v.InsertClick(t.Context(), newTestClick(t)), store.ErrInvalid)
	_, err = v.GetConversionByKey(t.Context(), "k")
	require.ErrorIs(t, err, store.ErrInvalid)
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
