package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/s2skit/s2s/store"
)

// DefaultSchema is the schema that holds s2s's tables unless Options say otherwise.
const DefaultSchema = "s2s"

// Options configures a [Store]. The zero value uses [DefaultSchema].
type Options struct {
	// Schema is the PostgreSQL schema of the tables, as given to [Migrate]; empty means
	// DefaultSchema. It must be a plain identifier (letters, digits, '_').
	Schema string
}

// Store is a PostgreSQL implementation of [store.Store] over database/sql. It is safe for
// concurrent use. [Store.WithTx] returns a view of it whose calls run in a transaction the
// host has begun.
type Store struct {
	db     *sql.DB
	prefix string // the quoted schema and a dot, before every table name

	// tx is set on a view made by WithTx: every call runs in it, writes in savepoints. mu
	// serialises the view's calls, as the transaction's one connection requires.
	tx     *sql.Tx
	mu     *sync.Mutex
	inView bool
}

var _ store.Store = (*Store)(nil)

// New returns a Store on db, whose schema must have been migrated with [Migrate]. db is the
// host's pool, opened with the driver of its choice (github.com/jackc/pgx/v5/stdlib or
// github.com/lib/pq); New does not take ownership of it.
func New(db *sql.DB, opts *Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("pgstore: db is nil")
	}
	schema := DefaultSchema
	if opts != nil && opts.Schema != "" {
		schema = opts.Schema
	}
	if err := checkSchema(schema); err != nil {
		return nil, err
	}
	return &Store{db: db, prefix: quoteIdent(schema) + "."}, nil
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

func checkSchema(schema string) error {
	if !identRE.MatchString(schema) {
		return fmt.Errorf("pgstore: schema %q is not a plain identifier (letters, digits and '_', at most 63)", schema)
	}
	return nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// dbtx is what *sql.DB, *sql.Tx and *sql.Conn have in common: every query runs on one of them,
// so a Store and its transaction-bound views share all their code.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// WithTx returns a view of s bound to tx, a transaction the host has begun on the same
// database: every call of the view runs in tx, so that the host's own rows (a deposit, say)
// and what s2s writes (the conversion, its ledger lines, its outbox entries) commit together
// or not at all. Nothing the view writes is visible to others before tx commits; the view's
// reads see tx's uncommitted rows.
//
// Each write of the view runs in a savepoint of tx: when it fails, with ErrDuplicate,
// ErrConflict, ErrInvalid, ErrLeaseLost or anything else, nothing of the call remains and tx
// is still usable, to commit the host's other work or to roll back.
//
// LeaseDeliveries in a view leases as part of tx: the leased rows stay locked until tx ends,
// so other workers skip them; the leases (their new fencing tokens) take effect when tx
// commits and never happened if it rolls back, and so do the attempts recorded under them.
// A worker that attempts HTTP deliveries should lease on s itself, so that no transaction
// stays open during a request; a view's lease still expires at its ExpiresAt.
//
// The view assumes that tx runs at READ COMMITTED, PostgreSQL's default: there, a write
// that meets a concurrent one (two records of one dedup key, two status changes from one
// status) waits for it to commit and then decides, exactly, between ErrDuplicate and
// ErrConflict. Under REPEATABLE READ or SERIALIZABLE the same meeting, with a row committed
// after tx's snapshot, aborts the call with SQLSTATE 40001 instead, which the view returns
// as [store.ErrSerialization] (the driver's error kept in the chain). The savepoint still
// leaves tx usable, but retrying the call in tx meets the same snapshot and fails again:
// the host must roll back and retry its whole transaction. The exactly-once guarantees
// hold at every level, since unique constraints and conditional updates, not the
// isolation level, protect them; only the error differs. Calls on s itself run at the
// database's default level; where that is stricter (CockroachDB is SERIALIZABLE), they may
// fail with ErrSerialization too, having written nothing, and may be retried as they are.
//
// The view is safe for concurrent use: its calls are serialised, since tx has one
// connection. The host must not use tx itself while a call of the view runs, and must not
// use the view after tx ends (calls then fail with sql.ErrTxDone). A nil tx gives a view
// whose every call fails with ErrInvalid.
func (s *Store) WithTx(tx *sql.Tx) store.Store {
	return &Store{db: s.db, prefix: s.prefix, tx: tx, mu: new(sync.Mutex), inView: true}
}

// atomicity says what a call needs to be atomic.
type atomicity uint8

const (
	read         atomicity = iota // reads only
	oneStatement                  // writes with one statement, atomic by itself
	statements                    // writes with several statements, atomic in a transaction
)

// run runs f on the connection a call of s uses: on the pool, in a new transaction for
// several statements; in a view, in the view's transaction, in a savepoint for a write.
//
// Every method validates its parameters before it calls run, and run checks the context
// before anything else, so that invalid parameters are ErrInvalid whatever the context, and a
// canceled context fails a valid call before it reaches the database.
func (s *Store) run(ctx context.Context, a atomicity, f func(db dbtx) error) error {
	if s.inView && s.tx == nil {
		return fmt.Errorf("pgstore: WithTx was given a nil transaction: %w", store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.inView {
		switch a {
		case statements:
			return s.inTx(ctx, f)
		default:
			return f(s.db)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a == read {
		return f(s.tx)
	}
	return inSavepoint(ctx, s.tx, f)
}

// inTx runs f in a new transaction on s.db, committing if f succeeds.
func (s *Store) inTx(ctx context.Context, f func(tx dbtx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pgstore: begin: %w", err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("pgstore: commit: %w", mapErr(err))
	}
	return nil
}

// inSavepoint runs f inside a savepoint of the caller's transaction, so that when f fails
// nothing it wrote remains and the caller's transaction stays usable.
func inSavepoint(ctx context.Context, tx *sql.Tx, f func(tx dbtx) error) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT s2s_call"); err != nil {
		return fmt.Errorf("pgstore: savepoint: %w", err)
	}
	if err := f(tx); err != nil {
		if _, rerr := tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT s2s_call"); rerr != nil {
			return errors.Join(err, fmt.Errorf("pgstore: rollback to savepoint: %w", rerr))
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT s2s_call"); err != nil {
		return fmt.Errorf("pgstore: release savepoint: %w", err)
	}
	return nil
}

// sqlStater is implemented by the errors of the PostgreSQL drivers (pgx's *pgconn.PgError,
// lib/pq's *pq.Error).
type sqlStater interface{ SQLState() string }

// SQLSTATE codes that map onto store sentinels.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// mapErr maps a driver error onto the store's sentinels, keeping it in the chain.
func mapErr(err error) error {
	var se sqlStater
	if errors.As(err, &se) {
		switch se.SQLState() {
		case uniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case foreignKeyViolation:
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		case serializationFailure, deadlockDetected:
			return fmt.Errorf("%w: %w", store.ErrSerialization, err)
		}
	}
	return err
}

// wrap adds context to a driver error and maps it.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("pgstore: "+format+": %w", append(args, mapErr(err))...)
}
