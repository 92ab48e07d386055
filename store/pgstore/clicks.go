package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
)

// queries holds the SQL of a Store, with its schema filled in once.
type queries struct {
	prefix string // the quoted schema and a dot

	insertClick, getClick, insertBinding, getBinding                        string
	insertConversion, getConversion, getConversionByKey, insertHistory      string
	setStatus, listConversions, insertLine, getLine, listLines              string
	listLinesByStatement                                                    string
	insertDelivery, getDelivery, lease, lockDelivery, insertAttempt, replay string
	finishDelivery, listDeliveries                                          string
}

const (
	clickColumns      = "id, affiliate_id, campaign_id, sub_ids, foreign_id, ip, user_agent, landing, created_at"
	conversionColumns = "id, dedup_key, source, event, click_id, player_id, affiliate_id, campaign_id, transaction_id, amount_minor, amount_currency, status, occurred_at, received_at, decision_model, decision_reason, foreign_click_id, sub_ids"
	lineColumns       = "id, conversion_id, affiliate_id, kind, amount_minor, currency, rule, detail, period_start, period_end, created_at, line, statement_at"
	lineSelect        = "id, conversion_id, created_at, line"
	deliveryColumns   = "id, conversion_id, endpoint, method, url, header, body, status, next_attempt_at, created_at"
)

func newQueries(p string) queries {
	r := strings.NewReplacer("{s}", p)
	q := func(s string) string { return r.Replace(s) }
	return queries{
		prefix:      p,
		insertClick: q("INSERT INTO {s}clicks (" + clickColumns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING"),
		getClick:    q("SELECT " + clickColumns + " FROM {s}clicks WHERE id = $1"),
		insertBinding: q(`INSERT INTO {s}player_bindings (player_id, affiliate_id, campaign_id, click_id, method, bound_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (player_id) DO NOTHING`),
		getBinding: q("SELECT player_id, affiliate_id, campaign_id, click_id, method, bound_at FROM {s}player_bindings WHERE player_id = $1"),
		insertConversion: q("INSERT INTO {s}conversions (" + conversionColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
			ON CONFLICT (dedup_key) DO NOTHING`),
		getConversion:      q("SELECT " + conversionColumns + " FROM {s}conversions WHERE id = $1"),
		getConversionByKey: q("SELECT " + conversionColumns + " FROM {s}conversions WHERE dedup_key = $1"),
		insertHistory: q(`INSERT INTO {s}conversion_history (conversion_id, seq, status, reason, at)
			VALUES ($1, (SELECT count(*) FROM {s}conversion_history WHERE conversion_id = $1), $2, $3, $4)`),
		setStatus: q("UPDATE {s}conversions SET status = $3 WHERE id = $1 AND status = $2"),
		listConversions: q("SELECT " + conversionColumns + ` FROM {s}conversions
			WHERE affiliate_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND (occurred_at, id) > ($4, $5)
			ORDER BY occurred_at, id LIMIT $6`),
		insertLine: q("INSERT INTO {s}ledger_lines (" + lineColumns + ") VALUES (" + placeholders(1, len(lineCasts)) + ")"),
		getLine:    q("SELECT " + lineSelect + " FROM {s}ledger_lines WHERE id = $1"),
		listLines: q("SELECT " + lineSelect + ` FROM {s}ledger_lines
			WHERE affiliate_id = $1 AND created_at >= $2 AND created_at < $3 AND (created_at, id) > ($4, $5)
			ORDER BY created_at, id LIMIT $6`),
		listLinesByStatement: q("SELECT " + lineSelect + ` FROM {s}ledger_lines
			WHERE affiliate_id = $1 AND statement_at >= $2 AND statement_at < $3 AND (statement_at, id) > ($4, $5)
			ORDER BY statement_at, id LIMIT $6`),
		insertDelivery: q("INSERT INTO {s}deliveries (" + deliveryColumns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
		getDelivery:    q("SELECT " + deliveryColumns + " FROM {s}deliveries WHERE id = $1"),
		lease: q(`UPDATE {s}deliveries SET lease_token = lease_token + 1, lease_expires_at = $2
			WHERE id IN (
				SELECT id FROM {s}deliveries
				WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at <= $1)
				ORDER BY next_attempt_at, id LIMIT $3
				FOR UPDATE SKIP LOCKED)
			RETURNING ` + deliveryColumns + ", lease_token"),
		lockDelivery: q("SELECT status, lease_token, lease_expires_at FROM {s}deliveries WHERE id = $1 FOR UPDATE"),
		insertAttempt: q(`INSERT INTO {s}delivery_attempts (delivery_id, n, started_at, finished_at, status_code, response, error)
			VALUES ($1, (SELECT count(*) + 1 FROM {s}delivery_attempts WHERE delivery_id = $1), $2, $3, $4, $5, $6)`),
		finishDelivery: q("UPDATE {s}deliveries SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at), lease_expires_at = NULL WHERE id = $1"),
		listDeliveries: q("SELECT " + deliveryColumns + ` FROM {s}deliveries
			WHERE status = $1 AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT $4`),
		replay: q("UPDATE {s}deliveries SET status = 'pending', next_attempt_at = $2, lease_expires_at = NULL WHERE id = $1 AND status = 'dead'"),
	}
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// nullable returns nil for a zero value, so that it is stored as NULL.
func nullable[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// clickArgs returns the INSERT arguments of c, normalised as the store keeps it.
func clickArgs(c store.Click) ([]any, error) {
	return appendClickArgs(make([]any, 0, 9), c)
}

// appendClickArgs appends the 9 INSERT arguments of c to args.
func appendClickArgs(args []any, c store.Click) ([]any, error) {
	subIDs, err := subIDsArg(c.SubIDs)
	if err != nil {
		return nil, err
	}
	var ip any
	if c.IP.IsValid() {
		ip = c.IP.Unmap().String()
	}
	return append(args, c.ID.UUIDString(), c.AffiliateID, c.CampaignID, subIDs, string(c.ForeignID), ip,
		c.UserAgent, c.Landing, store.NormalizeTime(c.CreatedAt)), nil
}

// subIDsArg returns sub IDs as a JSON array, or nil (NULL) when there are none.
func subIDsArg(subIDs []string) (any, error) {
	if len(subIDs) == 0 {
		return nil, nil
	}
	b, err := appendJSONStrings(nil, subIDs)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// scanSubIDs decodes a sub_ids column: nil for NULL.
func scanSubIDs(b []byte) ([]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("sub_ids: %w", err)
	}
	return out, nil
}

// appendJSONStrings appends ss as a JSON array. Strings that need no escaping (the common
// case for sub IDs) are copied as they are; others go through encoding/json.
func appendJSONStrings(b []byte, ss []string) ([]byte, error) {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		if needsEscape(s) {
			q, err := json.Marshal(s)
			if err != nil {
				return nil, err
			}
			b = append(b, q...)
			continue
		}
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	return append(b, ']'), nil
}

// needsEscape reports whether s has a byte that a JSON string must escape. (Store.Validate
// has already checked that s is valid UTF-8.)
func needsEscape(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

func scanClick(r rowScanner) (store.Click, error) {
	var c store.Click
	var subIDs []byte
	var foreign string
	var ip sql.Null[string]
	if err := r.Scan(&c.ID, &c.AffiliateID, &c.CampaignID, &subIDs, &foreign, &ip, &c.UserAgent, &c.Landing, &c.CreatedAt); err != nil {
		return store.Click{}, err
	}
	var err error
	if c.SubIDs, err = scanSubIDs(subIDs); err != nil {
		return store.Click{}, err
	}
	c.ForeignID = clickid.Foreign(foreign)
	if ip.Valid {
		addr, err := netip.ParseAddr(ip.V)
		if err != nil {
			return store.Click{}, fmt.Errorf("ip: %w", err)
		}
		c.IP = addr
	}
	c.CreatedAt = store.NormalizeTime(c.CreatedAt)
	return c, nil
}

// InsertClick implements [store.ClickStore].
func (s *Store) InsertClick(ctx context.Context, c store.Click) error {
	return s.run(ctx, oneStatement, func(db dbtx) error { return s.insertClick(ctx, db, c) })
}

func (s *Store) insertClick(ctx context.Context, db dbtx, c store.Click) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c = c.Normalize()
	args, err := clickArgs(c)
	if err != nil {
		return err
	}
	res, err := db.ExecContext(ctx, s.q.insertClick, args...)
	if err != nil {
		return wrap(err, "insert click %s", c.ID)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return wrap(err, "insert click %s", c.ID)
	}
	old, err := scanClick(db.QueryRowContext(ctx, s.q.getClick, c.ID))
	if err != nil {
		return wrap(err, "read click %s", c.ID)
	}
	if old.Equal(c) {
		return fmt.Errorf("pgstore: click %s: %w", c.ID, store.ErrDuplicate)
	}
	return fmt.Errorf("pgstore: click %s exists with other content: %w", c.ID, store.ErrConflict)
}

// clicksPerStatement bounds a multi-row INSERT: 9 parameters a row stay far below
// PostgreSQL's 65,535.
const clicksPerStatement = 1000

// InsertClicks implements [store.ClickStore] with multi-row INSERTs in one transaction.
func (s *Store) InsertClicks(ctx context.Context, p store.InsertClicksParams) error {
	if len(p.Clicks) == 0 {
		return ctx.Err()
	}
	return s.run(ctx, statements, func(db dbtx) error { return s.insertClicks(ctx, db, p) })
}

// insertClicks inserts the batch with ON CONFLICT DO NOTHING, so that clicks that exist
// already are skipped instead of aborting the transaction; if any was skipped, it compares
// them with the stored ones and fails, and the caller's rollback undoes the batch.
func (s *Store) insertClicks(ctx context.Context, db dbtx, p store.InsertClicksParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p = p.Normalize()
	var sb strings.Builder
	var skipped []store.Click
	for start := 0; start < len(p.Clicks); start += clicksPerStatement {
		chunk := p.Clicks[start:min(start+clicksPerStatement, len(p.Clicks))]
		sb.Reset()
		sb.WriteString("INSERT INTO " + s.q.prefix + "clicks (" + clickColumns + ") VALUES ")
		args := make([]any, 0, 9*len(chunk))
		for i, c := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			sb.WriteString(placeholders(len(args)+1, 9))
			sb.WriteByte(')')
			var err error
			if args, err = appendClickArgs(args, c); err != nil {
				return err
			}
		}
		sb.WriteString(" ON CONFLICT (id) DO NOTHING RETURNING id")
		rows, err := db.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return wrap(err, "insert %d clicks", len(chunk))
		}
		inserted := make(map[clickid.ID]bool, len(chunk))
		for rows.Next() {
			var id clickid.ID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap(err, "insert %d clicks", len(chunk))
			}
			inserted[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "insert %d clicks", len(chunk))
		}
		for _, c := range chunk {
			if !inserted[c.ID] {
				skipped = append(skipped, c)
			}
		}
	}
	var exists error
	for _, c := range skipped {
		old, err := scanClick(db.QueryRowContext(ctx, s.q.getClick, c.ID))
		if err != nil {
			return wrap(err, "read click %s", c.ID)
		}
		if !old.Equal(c) {
			return fmt.Errorf("pgstore: click %s exists with other content: %w", c.ID, store.ErrConflict)
		}
		exists = fmt.Errorf("pgstore: click %s: %w", c.ID, store.ErrDuplicate)
	}
	return exists
}

// GetClick implements [store.ClickStore].
func (s *Store) GetClick(ctx context.Context, id clickid.ID) (store.Click, error) {
	if id.IsZero() {
		return store.Click{}, fmt.Errorf("pgstore: get click: the zero click ID: %w", store.ErrInvalid)
	}
	var c store.Click
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		c, err = scanClick(db.QueryRowContext(ctx, s.q.getClick, id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Click{}, fmt.Errorf("pgstore: click %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Click{}, wrap(err, "get click %s", id)
	}
	return c, nil
}

func scanBinding(r rowScanner) (store.PlayerBinding, error) {
	var b store.PlayerBinding
	var click sql.Null[string]
	var method string
	if err := r.Scan(&b.PlayerID, &b.AffiliateID, &b.CampaignID, &click, &method, &b.BoundAt); err != nil {
		return store.PlayerBinding{}, err
	}
	if click.Valid {
		id, err := clickid.Parse(click.V)
		if err != nil {
			return store.PlayerBinding{}, err
		}
		b.ClickID = id
	}
	b.Method = store.BindingMethod(method)
	b.BoundAt = store.NormalizeTime(b.BoundAt)
	return b, nil
}

// BindPlayer implements [store.BindingStore].
func (s *Store) BindPlayer(ctx context.Context, b store.PlayerBinding) (store.PlayerBinding, error) {
	var out store.PlayerBinding
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		var err error
		out, err = s.bindPlayer(ctx, db, b)
		return err
	})
	return out, err
}

func (s *Store) bindPlayer(ctx context.Context, db dbtx, b store.PlayerBinding) (store.PlayerBinding, error) {
	if err := b.Validate(); err != nil {
		return store.PlayerBinding{}, err
	}
	b = b.Normalize()
	res, err := db.ExecContext(ctx, s.q.insertBinding, b.PlayerID, b.AffiliateID, b.CampaignID, nullable(b.ClickID), string(b.Method), b.BoundAt)
	if err != nil {
		return store.PlayerBinding{}, wrap(err, "bind player %q", b.PlayerID)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return b, wrap(err, "bind player %q", b.PlayerID)
	}
	old, err := scanBinding(db.QueryRowContext(ctx, s.q.getBinding, b.PlayerID))
	if err != nil {
		return store.PlayerBinding{}, wrap(err, "read binding of %q", b.PlayerID)
	}
	if old.SameBinding(b) {
		return old, fmt.Errorf("pgstore: player %q: %w", b.PlayerID, store.ErrDuplicate)
	}
	return old, fmt.Errorf("pgstore: player %q is bound to affiliate %q: %w", b.PlayerID, old.AffiliateID, store.ErrConflict)
}

// GetBinding implements [store.BindingStore].
func (s *Store) GetBinding(ctx context.Context, playerID string) (store.PlayerBinding, error) {
	if err := store.CheckLookupKey(playerID); err != nil {
		return store.PlayerBinding{}, fmt.Errorf("pgstore: get binding: %w", err)
	}
	var b store.PlayerBinding
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		b, err = scanBinding(db.QueryRowContext(ctx, s.q.getBinding, playerID))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.PlayerBinding{}, fmt.Errorf("pgstore: binding of player %q: %w", playerID, store.ErrNotFound)
	}
	if err != nil {
		return store.PlayerBinding{}, wrap(err, "get binding of %q", playerID)
	}
	return b, nil
}
