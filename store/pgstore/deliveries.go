package pgstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/store"
)

func deliveryArgs(d store.Delivery) ([]any, error) {
	var header, body any
	if len(d.Header) > 0 {
		b, err := json.Marshal(d.Header)
		if err != nil {
			return nil, fmt.Errorf("pgstore: delivery %s: header: %w", d.ID, err)
		}
		header = string(b)
	}
	if len(d.Body) > 0 {
		body = d.Body
	}
	return []any{d.ID, nullable(d.ConversionID), d.Endpoint, d.Method, d.URL, header, body, string(d.Status), d.NextAttemptAt, d.CreatedAt}, nil
}

// scanDelivery scans the delivery columns, then extra destinations.
func scanDelivery(r rowScanner, extra ...any) (store.Delivery, error) {
	var d store.Delivery
	var conv sql.Null[string]
	var header, body []byte
	var status string
	dest := append([]any{&d.ID, &conv, &d.Endpoint, &d.Method, &d.URL, &header, &body, &status, &d.NextAttemptAt, &d.CreatedAt}, extra...)
	if err := r.Scan(dest...); err != nil {
		return store.Delivery{}, err
	}
	if conv.Valid {
		id, err := uuid.Parse(conv.V)
		if err != nil {
			return store.Delivery{}, err
		}
		d.ConversionID = id
	}
	if len(header) > 0 {
		if err := json.Unmarshal(header, &d.Header); err != nil {
			return store.Delivery{}, fmt.Errorf("header: %w", err)
		}
	}
	if len(body) > 0 {
		d.Body = body
	}
	d.Status = store.DeliveryStatus(status)
	d.NextAttemptAt = store.NormalizeTime(d.NextAttemptAt)
	d.CreatedAt = store.NormalizeTime(d.CreatedAt)
	return d, nil
}

// loadAttempts fills the Attempts of each delivery with one query.
func (s *Store) loadAttempts(ctx context.Context, db dbtx, ds []*store.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	byID := make(map[uuid.UUID]*store.Delivery, len(ds))
	args := make([]any, len(ds))
	for i, d := range ds {
		byID[d.ID] = d
		args[i] = d.ID
	}
	rows, err := db.QueryContext(ctx, "SELECT delivery_id, started_at, finished_at, status_code, response, error FROM "+
		s.q.prefix+"delivery_attempts WHERE delivery_id IN ("+placeholders(1, len(ds))+") ORDER BY delivery_id, n", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var a store.Attempt
		if err := rows.Scan(&id, &a.StartedAt, &a.FinishedAt, &a.StatusCode, &a.Response, &a.Error); err != nil {
			return err
		}
		byID[id].Attempts = append(byID[id].Attempts, a.Normalize())
	}
	return rows.Err()
}

func (s *Store) readDelivery(ctx context.Context, db dbtx, id uuid.UUID) (store.Delivery, error) {
	d, err := scanDelivery(db.QueryRowContext(ctx, s.q.getDelivery, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Delivery{}, fmt.Errorf("pgstore: delivery %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Delivery{}, wrap(err, "get delivery %s", id)
	}
	return d, wrap(s.loadAttempts(ctx, db, []*store.Delivery{&d}), "get delivery %s: attempts", id)
}

// LeaseDeliveries implements [store.DeliveryStore] with one UPDATE over a FOR UPDATE SKIP
// LOCKED subquery: concurrent workers, in any number of processes, skip each other's rows
// instead of waiting for them, and each lease increments the delivery's fencing token.
func (s *Store) LeaseDeliveries(ctx context.Context, p store.LeaseParams) ([]store.Lease, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	now := store.NormalizeTime(p.Now)
	expires := store.NormalizeTime(p.Now.Add(p.LeaseFor))
	var leases []store.Lease
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		rows, err := db.QueryContext(ctx, s.q.lease, now, expires, store.ListLimit(p.Limit, 10))
		if err != nil {
			return err
		}
		for rows.Next() {
			var token int64
			d, err := scanDelivery(rows, &token)
			if err != nil {
				rows.Close()
				return err
			}
			leases = append(leases, store.Lease{Delivery: d, Token: token, ExpiresAt: expires})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		slices.SortFunc(leases, func(a, b store.Lease) int {
			return cmp.Or(a.Delivery.NextAttemptAt.Compare(b.Delivery.NextAttemptAt), slices.Compare(a.Delivery.ID[:], b.Delivery.ID[:]))
		})
		ptrs := make([]*store.Delivery, len(leases))
		for i := range leases {
			ptrs[i] = &leases[i].Delivery
		}
		return s.loadAttempts(ctx, db, ptrs)
	})
	if err != nil {
		return nil, wrap(err, "lease deliveries")
	}
	return leases, nil
}

// RecordAttempt implements [store.DeliveryStore]. It locks the delivery's row and checks the
// fencing token and the lease's expiry under that lock.
func (s *Store) RecordAttempt(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return store.Delivery{}, err
	}
	a := p.Attempt.Normalize()
	var out store.Delivery
	err := s.run(ctx, statements, func(tx dbtx) error {
		var status string
		var token int64
		var expires sql.Null[time.Time]
		err := tx.QueryRowContext(ctx, s.q.lockDelivery, p.DeliveryID).Scan(&status, &token, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pgstore: delivery %s: %w", p.DeliveryID, store.ErrNotFound)
		}
		if err != nil {
			return wrap(err, "lock delivery %s", p.DeliveryID)
		}
		if token != p.Token || status != string(store.DeliveryPending) || !expires.Valid || !a.FinishedAt.Before(expires.V) {
			return fmt.Errorf("pgstore: delivery %s, lease %d: %w", p.DeliveryID, p.Token, store.ErrLeaseLost)
		}
		if _, err := tx.ExecContext(ctx, s.q.insertAttempt, p.DeliveryID, a.StartedAt, a.FinishedAt, a.StatusCode, a.Response, a.Error); err != nil {
			return wrap(err, "insert attempt of %s", p.DeliveryID)
		}
		next := sql.Null[time.Time]{}
		if p.Status == store.DeliveryPending {
			next = sql.Null[time.Time]{V: store.NormalizeTime(p.NextAttemptAt), Valid: true}
		}
		// next_attempt_at keeps its value unless the attempt schedules a retry.
		if _, err := tx.ExecContext(ctx, s.q.finishDelivery, p.DeliveryID, string(p.Status), next); err != nil {
			return wrap(err, "finish attempt of %s", p.DeliveryID)
		}
		out, err = s.readDelivery(ctx, tx, p.DeliveryID)
		return err
	})
	return out, err
}

// GetDelivery implements [store.DeliveryStore].
func (s *Store) GetDelivery(ctx context.Context, id uuid.UUID) (store.Delivery, error) {
	if id == uuid.Nil {
		return store.Delivery{}, fmt.Errorf("pgstore: get delivery: the zero ID: %w", store.ErrInvalid)
	}
	var d store.Delivery
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		d, err = s.readDelivery(ctx, db, id)
		return err
	})
	return d, err
}

// ListDeliveries implements [store.DeliveryStore].
func (s *Store) ListDeliveries(ctx context.Context, p store.ListDeliveriesParams) ([]store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	at, id := cursorArgs(p.After, time.Time{}) // from the beginning of time, not of 1970
	var out []store.Delivery
	err := s.run(ctx, read, func(db dbtx) error {
		rows, err := db.QueryContext(ctx, s.q.listDeliveries, string(p.Status), at, id, store.ListLimit(p.Limit, 100))
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ptrs := make([]*store.Delivery, len(out))
		for i := range out {
			ptrs[i] = &out[i]
		}
		return s.loadAttempts(ctx, db, ptrs)
	})
	if err != nil {
		return nil, wrap(err, "list deliveries")
	}
	return out, nil
}

// ReplayDelivery implements [store.DeliveryStore].
func (s *Store) ReplayDelivery(ctx context.Context, p store.ReplayDeliveryParams) (store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return store.Delivery{}, err
	}
	var out store.Delivery
	err := s.run(ctx, statements, func(tx dbtx) error {
		res, err := tx.ExecContext(ctx, s.q.replay, p.DeliveryID, store.NormalizeTime(p.At))
		if err != nil {
			return wrap(err, "replay delivery %s", p.DeliveryID)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrap(err, "replay delivery %s", p.DeliveryID)
		}
		out, err = s.readDelivery(ctx, tx, p.DeliveryID)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("pgstore: delivery %s is %s, only a dead delivery is replayed: %w", p.DeliveryID, out.Status, store.ErrConflict)
		}
		return nil
	})
	return out, err
}
