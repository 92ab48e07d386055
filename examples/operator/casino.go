package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

// schemaSQL is the casino's own tables, in a schema of their own beside the outbox's (s2s).
// A player keeps the reference of the affiliate link it landed with; the wallet's CHECK is
// the player's deposit limit, enforced by the database.
const schemaSQL = `
CREATE SCHEMA IF NOT EXISTS casino;
CREATE TABLE IF NOT EXISTS casino.players (
	id                  text PRIMARY KEY,
	ref_param           text NOT NULL DEFAULT '' CHECK (ref_param IN ('', 'click_id', 'btag')),
	ref                 text NOT NULL DEFAULT '',
	currency            text NOT NULL,
	deposit_limit_minor bigint NOT NULL CHECK (deposit_limit_minor >= 0),
	deposited_minor     bigint NOT NULL DEFAULT 0,
	created_at          timestamptz NOT NULL,
	CONSTRAINT deposit_limit CHECK (deposited_minor <= deposit_limit_minor)
);
CREATE TABLE IF NOT EXISTS casino.deposits (
	id           text PRIMARY KEY,
	player_id    text NOT NULL REFERENCES casino.players (id),
	amount_minor bigint NOT NULL CHECK (amount_minor > 0),
	currency     text NOT NULL,
	created_at   timestamptz NOT NULL
);`

// The casino's errors.
var (
	errUnknownPlayer = errors.New("operator: unknown player")
	errDepositLimit  = errors.New("operator: over the player's deposit limit")
	errBadInput      = errors.New("operator: invalid input")
)

// casinoOptions configure newCasino; only tracker, keyID and secret are required.
type casinoOptions struct {
	// Tracker is the tracker's postback URL for this operator's source, such as
	// https://tracker.example/postback/casino.
	Tracker string
	// KeyID and Secret are the source's s2s v1 signing key, as the tracker holds it.
	KeyID  string
	Secret string
	// Client sends the postbacks; nil is outbound.NewClient(nil) (public https only).
	Client *http.Client
	// Worker are the outbound worker's options (its Client is set from Client).
	Worker outbound.WorkerOptions
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Logger gets the worker's records; nil discards.
	Logger *slog.Logger
}

// casino is the operator's backend: players, deposits, and the postbacks they cause.
type casino struct {
	db     *sql.DB
	outbox *pgstore.Store
	ep     *outbound.Endpoint
	worker *outbound.Worker
	now    func() time.Time
}

// endpointName is the outbox endpoint of the tracker.
const endpointName = "tracker"

// newCasino migrates the casino's tables and the outbox's (pgstore) on db and builds the
// tracker's endpoint and the worker that delivers to it.
func newCasino(ctx context.Context, db *sql.DB, o casinoOptions) (*casino, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if _, err := db.ExecContext(ctx, schemaSQL); err != nil {
		return nil, fmt.Errorf("operator: create tables: %w", err)
	}
	if err := pgstore.Migrate(ctx, db, nil); err != nil {
		return nil, err
	}
	outbox, err := pgstore.New(db, nil)
	if err != nil {
		return nil, err
	}
	// The s2s v1 postback the tracker's native dialect reads; the worker signs each attempt
	// afresh (ts, kid, sig), so a retry after an outage is not refused as stale.
	ep := &outbound.Endpoint{
		Name: endpointName,
		URL: o.Tracker + "?click_id={foreign_click_id}&player_id={player_id}&event={event}" +
			"&txn_id={transaction_id}&amount={amount}&currency={currency}&occurred_at={occurred_at:unix}",
		AllowHTTP: strings.HasPrefix(o.Tracker, "http://"),
		Signing:   outbound.Signing{Scheme: outbound.SchemeS2SV1, KeyID: o.KeyID, Secret: o.Secret},
	}
	if err := ep.Compile(); err != nil {
		return nil, err
	}
	wo := o.Worker
	wo.Client, wo.Now, wo.Logger = o.Client, o.Now, o.Logger
	w, err := outbound.NewWorker(outbox, outbound.Endpoints{ep}.Lookup(), &wo)
	if err != nil {
		return nil, err
	}
	return &casino{db: db, outbox: outbox, ep: ep, worker: w, now: o.Now}, nil
}

// Run runs the outbound worker until ctx is done.
func (c *casino) Run(ctx context.Context) error { return c.worker.Run(ctx) }

// player is a new player's sign-up.
type player struct {
	ID           string
	Ref          reference // the affiliate link it landed with; zero if none
	DepositLimit money.Amount
}

// signup records a new player with the reference it landed with.
func (c *casino) signup(ctx context.Context, p player) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO casino.players (id, ref_param, ref, currency, deposit_limit_minor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		p.ID, p.Ref.Param, string(p.Ref.Value), p.DepositLimit.Currency().String(), p.DepositLimit.Minor(), c.now())
	if err != nil {
		return fmt.Errorf("operator: sign up %s: %w", p.ID, err)
	}
	return nil
}

// deposit is a deposit the payment provider confirmed.
type deposit struct {
	ID       string // the provider's transaction ID: a repeated callback is the same deposit
	PlayerID string
	Amount   money.Amount
}

// depositResult says what a deposit did.
type depositResult struct {
	Event     event.Type `json:"event"`              // ftd or deposit
	Postback  string     `json:"postback,omitempty"` // the outbound event ID; empty if the player came from no affiliate
	Duplicate bool       `json:"duplicate,omitempty"`
}

// recordDeposit records d in one transaction: the deposit row, the postback to the
// tracker (a conversion of the outbox with its delivery, through the store's view of the
// transaction) and the wallet's credit, which the deposit limit may refuse. The three
// commit together or not at all: a refused credit rolls back the postback too.
func (c *casino) recordDeposit(ctx context.Context, d deposit) (depositResult, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return depositResult{}, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := c.depositTx(ctx, tx, d)
	if err != nil || res.Duplicate {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return depositResult{}, fmt.Errorf("operator: commit deposit %s: %w", d.ID, err)
	}
	if res.Postback != "" {
		c.worker.Notify() // send it now rather than at the next poll
	}
	return res, nil
}

// depositTx is recordDeposit's work inside tx.
func (c *casino) depositTx(ctx context.Context, tx *sql.Tx, d deposit) (depositResult, error) {
	// Lock the player's row first, then count its deposits in a statement of its own: at
	// READ COMMITTED each statement sees what committed before it began, so the count sees
	// the deposits of every transaction that held the lock before this one. (A count in the
	// locking statement would be read from before the wait, and two first deposits would
	// both be FTDs.)
	var param, ref, cur string
	err := tx.QueryRowContext(ctx, `SELECT ref_param, ref, currency FROM casino.players WHERE id = $1 FOR UPDATE`,
		d.PlayerID).Scan(&param, &ref, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		return depositResult{}, fmt.Errorf("%w: %q", errUnknownPlayer, d.PlayerID)
	}
	if err != nil {
		return depositResult{}, fmt.Errorf("operator: read player %s: %w", d.PlayerID, err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM casino.deposits WHERE player_id = $1`, d.PlayerID).Scan(&n); err != nil {
		return depositResult{}, fmt.Errorf("operator: count deposits of %s: %w", d.PlayerID, err)
	}
	if cur != d.Amount.Currency().String() {
		return depositResult{}, fmt.Errorf("%w: a %s deposit to a %s wallet", errBadInput, d.Amount.Currency(), cur)
	}
	now := c.now()
	r, err := tx.ExecContext(ctx, `INSERT INTO casino.deposits (id, player_id, amount_minor, currency, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`, d.ID, d.PlayerID, d.Amount.Minor(), cur, now)
	if err != nil {
		return depositResult{}, fmt.Errorf("operator: insert deposit %s: %w", d.ID, err)
	}
	if k, _ := r.RowsAffected(); k == 0 {
		return depositResult{Duplicate: true}, nil // the provider's retry: recorded already
	}
	res := depositResult{Event: event.Deposit}
	if n == 0 {
		res.Event = event.FTD
	}
	if param != "" {
		id, err := c.enqueue(ctx, tx, d, res.Event, clickid.Foreign(ref), now)
		if err != nil {
			return depositResult{}, err
		}
		res.Postback = id.String()
	}
	_, err = tx.ExecContext(ctx, `UPDATE casino.players SET deposited_minor = deposited_minor + $2 WHERE id = $1`, d.PlayerID, d.Amount.Minor())
	if isCheckViolation(err, "deposit_limit") {
		return depositResult{}, fmt.Errorf("%w: player %s", errDepositLimit, d.PlayerID)
	}
	if err != nil {
		return depositResult{}, fmt.Errorf("operator: credit wallet of %s: %w", d.PlayerID, err)
	}
	return res, nil
}

// enqueue writes the postback of a deposit to the outbox, in tx: the outbox's record of
// the event it reports (a store.Conversion, whose dedup key is the deposit's, so a deposit
// is reported once) and its delivery to the tracker, with one RecordConversion of the
// store's view of tx. It is the public way in: no type assertion, no table of s2s touched
// by hand.
func (c *casino) enqueue(ctx context.Context, tx *sql.Tx, d deposit, ev event.Type, ref clickid.Foreign, now time.Time) (uuid.UUID, error) {
	conv := store.Conversion{
		ID: uuid.Must(uuid.NewV7()), DedupKey: "deposit:" + d.ID, Source: "cashier", Event: ev,
		ForeignClickID: ref, PlayerID: d.PlayerID, TransactionID: d.ID, Amount: d.Amount,
		Status: event.StatusApproved, OccurredAt: now, ReceivedAt: now,
	}
	v := outbound.ValuesOf(conv, money.Amount{})
	v.EventID = uuid.Must(uuid.NewV7()) // the delivery's ID: the same on every attempt
	dl, err := c.ep.Delivery(v, now)
	if err != nil {
		return uuid.Nil, err
	}
	_, err = c.outbox.WithTx(tx).RecordConversion(ctx, store.RecordConversionParams{Conversion: conv, Deliveries: []store.Delivery{dl}})
	if err != nil {
		return uuid.Nil, fmt.Errorf("operator: enqueue the postback of deposit %s: %w", d.ID, err)
	}
	return dl.ID, nil
}

// isCheckViolation reports whether err is PostgreSQL's check_violation (SQLSTATE 23514) of
// the named constraint, as the driver reports it.
func isCheckViolation(err error, constraint string) bool {
	var pe interface {
		SQLState() string
	}
	return errors.As(err, &pe) && pe.SQLState() == "23514" && strings.Contains(err.Error(), constraint)
}

// reference is the affiliate reference a visitor landed with: the tracker's click_id, or
// a btag.
type reference struct {
	Param string // "click_id" or "btag"; empty if none
	Value clickid.Foreign
}

// refCookie keeps a visitor's reference from the landing page to the sign-up.
const (
	refCookie = "s2s_ref"
	refMaxAge = 30 * 24 * time.Hour
)

type refKey struct{}

// captureRef is the middleware that keeps the affiliate reference of a landing URL
// (?click_id=... or ?btag=...) in a first-party cookie, and puts the visitor's reference
// (the URL's, else the cookie's) in the request's context for the handlers after it. A
// value that is not a plausible click ID (visible ASCII, at most clickid.MaxForeignLen
// bytes) is ignored, never stored.
func captureRef(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ref, ok := fromQuery(r)
		if ok {
			http.SetCookie(w, &http.Cookie{
				Name: refCookie, Value: ref.Param + "." + base64.RawURLEncoding.EncodeToString([]byte(ref.Value)),
				Path: "/", MaxAge: int(refMaxAge / time.Second), HttpOnly: true, Secure: r.TLS != nil,
				SameSite: http.SameSiteLaxMode,
			})
		} else {
			ref, ok = fromCookie(r)
		}
		if ok {
			r = r.WithContext(context.WithValue(r.Context(), refKey{}, ref))
		}
		next.ServeHTTP(w, r)
	})
}

func fromQuery(r *http.Request) (reference, bool) {
	q := r.URL.Query()
	for _, p := range []string{"click_id", "btag"} {
		if vs := q[p]; len(vs) == 1 {
			if f, err := clickid.ParseForeign(vs[0]); err == nil {
				return reference{Param: p, Value: f}, true
			}
		}
	}
	return reference{}, false
}

func fromCookie(r *http.Request) (reference, bool) {
	c, err := r.Cookie(refCookie)
	if err != nil {
		return reference{}, false
	}
	p, enc, _ := strings.Cut(c.Value, ".")
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || (p != "click_id" && p != "btag") {
		return reference{}, false
	}
	f, err := clickid.ParseForeign(string(b))
	if err != nil {
		return reference{}, false
	}
	return reference{Param: p, Value: f}, true
}

// handler serves the casino's pages: the landing page, the sign-up and the payment
// provider's deposit callback, behind captureRef. A real casino authenticates the sign-up
// (its own session) and the callback (the provider's signature); the example does not.
func (c *casino) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, "Welcome to the casino. POST /signup to play.")
	})
	mux.HandleFunc("POST /signup", func(w http.ResponseWriter, r *http.Request) {
		limit, err := parseAmount(r, "deposit_limit", "1000.00")
		if err != nil {
			answer(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		ref, _ := r.Context().Value(refKey{}).(reference)
		p := player{ID: "p-" + uuid.Must(uuid.NewV7()).String(), Ref: ref, DepositLimit: limit}
		if err := c.signup(r.Context(), p); err != nil {
			answer(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
			return
		}
		answer(w, http.StatusCreated, map[string]string{"player_id": p.ID, "ref": ref.Param})
	})
	mux.HandleFunc("POST /deposit", func(w http.ResponseWriter, r *http.Request) {
		amount, err := parseAmount(r, "amount", "")
		id := r.PostFormValue("deposit_id")
		if err == nil && (id == "" || len(id) > store.MaxKeyLen) {
			err = fmt.Errorf("%w: deposit_id", errBadInput)
		}
		if err != nil {
			answer(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		res, err := c.recordDeposit(r.Context(), deposit{ID: id, PlayerID: r.PostFormValue("player_id"), Amount: amount})
		switch {
		case errors.Is(err, errUnknownPlayer):
			answer(w, http.StatusNotFound, map[string]string{"error": "unknown player"})
		case errors.Is(err, errDepositLimit):
			answer(w, http.StatusUnprocessableEntity, map[string]string{"error": "deposit limit"})
		case errors.Is(err, errBadInput):
			answer(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		case err != nil:
			answer(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
		case res.Duplicate:
			answer(w, http.StatusOK, res)
		default:
			answer(w, http.StatusCreated, res)
		}
	})
	return captureRef(http.MaxBytesHandler(mux, 64<<10))
}

// parseAmount reads the form's amount field in the currency field (EUR by default), or
// def when the field is empty.
func parseAmount(r *http.Request, field, def string) (money.Amount, error) {
	s := r.PostFormValue(field)
	if s == "" {
		s = def
	}
	code := r.PostFormValue("currency")
	if code == "" {
		code = "EUR"
	}
	cur, err := money.ParseCurrency(code)
	if err != nil {
		return money.Amount{}, fmt.Errorf("%w: currency: %w", errBadInput, err)
	}
	a, err := money.Parse(s, cur, nil)
	if err != nil || a.Sign() <= 0 {
		return money.Amount{}, fmt.Errorf("%w: %s: not a positive amount", errBadInput, field)
	}
	return a, nil
}

func answer(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
