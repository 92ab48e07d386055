package pgstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/store"
)

var _ store.AttemptRecorder = (*Store)(nil)

// attemptInput is one attempt of RecordAttempts as its statement reads it: its index in the
// call, its lease and outcome, and the attempt's row (whose number, N, the statement sets).
type attemptInput struct {
	I      int
	Token  int64
	Status store.DeliveryStatus
	Next   time.Time // NULL unless the attempt schedules a retry
	Row    attemptRow
}

var attemptInputs = newTable("attempt_input", []column[attemptInput]{
	plain("batch_i", "integer", func(a *attemptInput) *int { return &a.I }),
	plain("token", "bigint", func(a *attemptInput) *int64 { return &a.Token }),
	text("new_status", func(a *attemptInput) *store.DeliveryStatus { return &a.Status }),
	timestamp("next_at", func(a *attemptInput) *time.Time { return &a.Next }),
}, embedded(attempts, func(a *attemptInput) *attemptRow { return &a.Row }))

// batchRecorded is a row of RecordAttempts' statement: the index of the attempt that
// recorded the delivery, and the delivery with one of its attempts.
type batchRecorded struct {
	I int
	recorded
}

var batchRecordedRows = newTable("deliveries", []column[batchRecorded]{
	plain("batch_i", "integer", func(r *batchRecorded) *int { return &r.I }),
}, embedded(recordedRows, func(r *batchRecorded) *recorded { return &r.recorded }))

// RecordAttempts implements [store.AttemptRecorder] with one transaction for the whole
// batch, durable with one commit, of three statements (and a fourth, a read, only when an
// attempt is refused, to tell an unknown delivery from a lost lease):
//
//   - RecordAttempt's statement made for many rows: one UPDATE of the deliveries, joined
//     with the attempts' values, checks each one's fencing token, status and lease expiry in
//     its WHERE, as RecordAttempt does, after a SELECT ... FOR UPDATE has locked them in the
//     order of their IDs; the attempts of the deliveries it updated are inserted, each
//     numbered after its delivery's attempts; and a row is inserted for each of their
//     endpoints the store does not know yet, in the order of their names;
//   - a SELECT ... FOR UPDATE of those endpoints' rows, in the order of their names;
//   - one UPDATE of the rows that the recorded attempts change, applied to each row in Go
//     one by one in the order of their FinishedAt, by the rule RecordAttempt follows.
//
// Every lock is taken in one order (deliveries by ID, then endpoints by name), so batches of
// one process or of several never wait for each other in a cycle. Unlike RecordAttempt, a
// batch locks the rows of its endpoints even when it does not change them: concurrent batches
// of one endpoint wait for each other's commit, which a worker's one batch at a time does not
// notice.
//
// A delivery named more than once is recorded in rounds, one transaction each: the first
// attempt of each delivery (by FinishedAt), then the second, and so on. A round that fails as
// a whole (a lost connection; or a deadlock, which PostgreSQL detects, with a DisableEndpoint
// holding the same endpoint's deliveries in another order) is the error of each of its
// attempts, none of which is recorded: ErrSerialization for a deadlock, which may be retried
// as it is.
func (s *Store) RecordAttempts(ctx context.Context, ps []store.RecordAttemptParams) ([]store.Delivery, []error) {
	out, errs := make([]store.Delivery, len(ps)), make([]error, len(ps))
	var rounds [][]int // the indexes of ps of each round, in the order of their FinishedAt
	seen := map[uuid.UUID]int{}
	order := make([]int, 0, len(ps))
	for i, p := range ps {
		if len(ps) > store.MaxLines {
			errs[i] = fmt.Errorf("pgstore: record attempts: %d attempts, at most %d in one call: %w", len(ps), store.MaxLines, store.ErrInvalid)
			continue
		}
		if errs[i] = p.Validate(); errs[i] == nil {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(i, j int) int { return ps[i].Attempt.FinishedAt.Compare(ps[j].Attempt.FinishedAt) })
	for _, i := range order {
		k := seen[ps[i].DeliveryID]
		seen[ps[i].DeliveryID] = k + 1
		if k == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[k] = append(rounds[k], i)
	}
	for _, round := range rounds {
		err := s.run(ctx, statements, func(db dbtx) error { return s.recordRound(ctx, db, ps, round, out, errs) })
		if err != nil {
			for _, i := range round {
				errs[i] = err
			}
		}
	}
	return out, errs
}

// recordRound records the attempts ps[i] for i in round, of distinct deliveries, with one
// statement, and sets out[i] or errs[i] for each.
func (s *Store) recordRound(ctx context.Context, db dbtx, ps []store.RecordAttemptParams, round []int, out []store.Delivery, errs []error) error {
	in := make([]attemptInput, len(round))
	for k, i := range round {
		p := ps[i]
		in[k] = attemptInput{I: i, Token: p.Token, Status: p.Status, Row: attemptRow{DeliveryID: p.DeliveryID, Attempt: p.Attempt.Normalize()}}
		if p.Status == store.DeliveryPending {
			in[k].Next = store.NormalizeTime(p.NextAttemptAt)
		}
	}
	w := s.attemptsStatement(in)
	rows, err := list(ctx, db, batchRecordedRows, w)
	if err != nil {
		return wrap(err, "record %d attempts", len(round))
	}
	done := make(map[int]bool, len(round))
	for _, r := range rows {
		d := &out[r.I]
		if !done[r.I] {
			done[r.I] = true
			*d = r.Delivery
			d.Attempts = nil
		}
		d.Attempts = append(d.Attempts, r.Attempt.Attempt)
	}
	if err := s.recordEndpoints(ctx, db, ps, round, out, done); err != nil {
		return err
	}
	var missing []string
	for _, i := range round {
		if !done[i] {
			missing = append(missing, ps[i].DeliveryID.String())
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// Refused: a lost lease, or an unknown delivery, which a read tells apart.
	var q stmt
	q.sql("SELECT id FROM ", s.prefix, "deliveries WHERE id = ANY(", q.arg(textArray(missing), "uuid[]"), ")")
	r, err := q.query(ctx, db)
	if err != nil {
		return wrap(err, "record %d attempts: read the refused", len(round))
	}
	defer r.Close()
	known := map[uuid.UUID]bool{}
	for r.Next() {
		var id uuid.UUID
		if err := r.Scan(&id); err != nil {
			return wrap(err, "record %d attempts: read the refused", len(round))
		}
		known[id] = true
	}
	if err := r.Err(); err != nil {
		return wrap(err, "record %d attempts: read the refused", len(round))
	}
	for _, i := range round {
		switch p := ps[i]; {
		case done[i]:
		case known[p.DeliveryID]:
			errs[i] = fmt.Errorf("pgstore: delivery %s, lease %d: %w", p.DeliveryID, p.Token, store.ErrLeaseLost)
		default:
			errs[i] = fmt.Errorf("pgstore: delivery %s: %w", p.DeliveryID, store.ErrNotFound)
		}
	}
	return nil
}

// attemptsStatement returns the statement of one round of RecordAttempts (see there).
func (s *Store) attemptsStatement(in []attemptInput) *stmt {
	p := s.prefix
	w := new(stmt)
	w.sql("WITH v (", attemptInputs.names, ") AS (")
	w.ctes++
	unnest(w, attemptInputs, in)
	w.sql(")")

	// lkd locks the deliveries the attempts may record, in the order of their IDs, so that
	// two batches with deliveries in common (a worker whose lease expired, and the worker
	// that leased them next) never wait for each other in a cycle.
	held := " d.lease_token = v.token AND d.status = 'pending' AND d.lease_expires_at > v.finished_at"
	// The deliveries are found by their primary key, named in the statement (= ANY of the
	// IDs' array): a join with v alone leaves the plan to the table's statistics, and on a
	// table never analysed the planner walks every pending delivery to find them.
	ids := make([]string, len(in))
	for k := range in {
		ids[k] = in[k].Row.DeliveryID.String()
	}
	w.with("lkd")
	w.sql("SELECT d.id FROM ", p, "deliveries AS d JOIN v ON d.id = v.delivery_id WHERE d.id = ANY(", w.arg(textArray(ids), "uuid[]"), ") AND",
		held, " ORDER BY d.id FOR UPDATE OF d)")
	w.with("u")
	w.sql("UPDATE ", p, "deliveries AS d SET status = v.new_status,",
		" next_attempt_at = CASE WHEN v.new_status = 'pending' THEN v.next_at ELSE d.next_attempt_at END,",
		" held = v.new_status = 'pending' AND ", disabledEndpoint(p, "d.endpoint"), ", lease_expires_at = NULL",
		" FROM v WHERE d.id = v.delivery_id AND d.id IN (SELECT id FROM lkd) AND", held,
		" RETURNING ")
	for i, c := range deliveries.columns {
		if i > 0 {
			w.sql(", ")
		}
		w.sql("d.", c.name)
	}
	w.sql(", v.batch_i, v.finished_at AS attempt_finished)")

	w.with("a")
	insertInto(w, p, attempts)
	w.sql("SELECT ")
	for i, c := range attempts.columns {
		if i > 0 {
			w.sql(", ")
		}
		if c.name == "n" {
			w.sql("(SELECT count(*) FROM ", p, "delivery_attempts AS x WHERE x.delivery_id = u.id) + 1")
		} else {
			w.sql("v.", c.name)
		}
	}
	w.sql(" FROM u JOIN v ON v.batch_i = u.batch_i RETURNING ", attempts.selected, ")")

	w.with("ep_new")
	w.sql("INSERT INTO ", p, "endpoints (name, disabled, reason) SELECT DISTINCT endpoint, false, '' FROM u ORDER BY endpoint",
		" ON CONFLICT (name) DO NOTHING)")
	w.sql(" SELECT u.batch_i, ", recordedRows.selected, " FROM u JOIN (SELECT ", attempts.selected, " FROM ", p,
		"delivery_attempts WHERE delivery_id IN (SELECT id FROM u) UNION ALL SELECT ", attempts.selected, " FROM a) AS t",
		" ON t.delivery_id = u.id ORDER BY u.batch_i, t.n")
	return w
}

// endpointTimes is a row of the UPDATE of RecordAttempts' endpoints: an endpoint's new
// times.
var endpointTimes = newTable("endpoints", []column[store.EndpointState]{
	plain("name", "text", func(e *store.EndpointState) *string { return &e.Name }),
	timestamp("last_success_at", func(e *store.EndpointState) *time.Time { return &e.LastSuccessAt }),
	timestamp("failing_since", func(e *store.EndpointState) *time.Time { return &e.FailingSince }),
})

// recordEndpoints updates the state of the endpoints of the attempts ps[i] for i in round
// (in the order of their FinishedAt) that done says were recorded, as recording them one by
// one would: it locks their rows in the order of their names, applies the attempts to each
// in Go, and writes the rows that change with one UPDATE.
func (s *Store) recordEndpoints(ctx context.Context, db dbtx, ps []store.RecordAttemptParams, round []int, out []store.Delivery, done map[int]bool) error {
	var names []string
	for _, i := range round {
		if done[i] && !slices.Contains(names, out[i].Endpoint) {
			names = append(names, out[i].Endpoint)
		}
	}
	if len(names) == 0 {
		return nil
	}
	var q stmt
	q.sql("SELECT ", endpointStates.selected, " FROM ", s.prefix, "endpoints WHERE name = ANY(", q.arg(quotedArray(names), "text[]"),
		") ORDER BY name FOR UPDATE")
	rows, err := list(ctx, db, endpointStates, &q)
	if err != nil {
		return wrap(err, "record attempts: lock endpoints")
	}
	states := make(map[string]*store.EndpointState, len(rows))
	before := make(map[string]store.EndpointState, len(rows))
	for k := range rows {
		states[rows[k].Name], before[rows[k].Name] = &rows[k], rows[k]
	}
	for _, i := range round {
		if e := states[out[i].Endpoint]; done[i] && e != nil {
			applyAttempt(e, store.NormalizeTime(ps[i].Attempt.FinishedAt), ps[i].Status == store.DeliveryDelivered)
		}
	}
	var changed []store.EndpointState
	for _, e := range rows {
		if b := before[e.Name]; !b.LastSuccessAt.Equal(e.LastSuccessAt) || !b.FailingSince.Equal(e.FailingSince) {
			changed = append(changed, e)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	var w stmt
	w.sql("UPDATE ", s.prefix, "endpoints AS e SET last_success_at = v.last_success_at, failing_since = v.failing_since FROM (")
	values(&w, endpointTimes, changed)
	w.sql(") AS v (", endpointTimes.names, ") WHERE e.name = v.name")
	_, err = w.exec(ctx, db)
	return wrap(err, "record attempts: update endpoints")
}

// applyAttempt updates e with an attempt that finished at finished, as
// [store.DeliveryStore.RecordAttempt] says (and recordEndpointState writes in SQL): by
// FinishedAt, so that an attempt recorded late never moves the state back.
func applyAttempt(e *store.EndpointState, finished time.Time, delivered bool) {
	if delivered {
		if finished.After(e.LastSuccessAt) {
			e.LastSuccessAt = finished
		}
		if !e.FailingSince.After(finished) {
			e.FailingSince = time.Time{}
		}
		return
	}
	if finished.After(e.LastSuccessAt) && !finished.Before(e.EnabledAt) &&
		(e.FailingSince.IsZero() || finished.Before(e.FailingSince)) {
		e.FailingSince = finished
	}
}
