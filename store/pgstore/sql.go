package pgstore

import (
	"context"
	"database/sql"
	"encoding"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// How records meet their tables. Each record type has one table value that lists its columns
// by name, each with its SQL type and the field it holds. Every statement that writes or reads
// the record is made from that list (the single INSERT, the multi-row INSERT, the rows of
// RecordConversion's one statement, every SELECT and RETURNING), so a value meets its column
// by name, never by counting positions.

// A column is one column of a record's table.
type column[T any] struct {
	name string
	// typ is the SQL type: every parameter is cast to it, so a row reads the same in VALUES
	// or in SELECT.
	typ string
	// get returns the value to write, from a normalised record, as a plain string, int64,
	// time.Time or []byte (which every driver encodes without a detour); nil is NULL.
	get func(r *T) (any, error)
	// set returns a Scan destination that sets r's field; nil for a column that is written
	// and never read.
	set func(r *T) any
}

// A table is a record type's table: its name and its columns, in the order of every
// statement made from it.
type table[T any] struct {
	name     string
	columns  []column[T]
	names    string // the column names, comma-separated, for INSERT
	selected string // the names of the columns that are read, for SELECT and RETURNING
}

func newTable[T any](name string, cols ...[]column[T]) *table[T] {
	t := &table[T]{name: name}
	for _, cs := range cols {
		t.columns = append(t.columns, cs...)
	}
	var names, selected []string
	for _, c := range t.columns {
		names = append(names, c.name)
		if c.set != nil {
			selected = append(selected, c.name)
		}
	}
	t.names = strings.Join(names, ", ")
	t.selected = strings.Join(selected, ", ")
	return t
}

// embedded returns the columns of U as columns of T, whose field f is a U.
func embedded[T, U any](t *table[U], f func(*T) *U) []column[T] {
	out := make([]column[T], len(t.columns))
	for i, c := range t.columns {
		out[i] = column[T]{name: c.name, typ: c.typ, get: func(r *T) (any, error) { return c.get(f(r)) }}
		if c.set != nil {
			out[i].set = func(r *T) any { return c.set(f(r)) }
		}
	}
	return out
}

// optional returns the columns of U as columns of T, whose field f points to a U or is nil:
// a nil pointer writes NULL in every column, and a row with a value in any of them reads into
// a new U.
func optional[T, U any](t *table[U], f func(*T) **U) []column[T] {
	out := make([]column[T], len(t.columns))
	for i, c := range t.columns {
		out[i] = column[T]{name: c.name, typ: c.typ, get: func(r *T) (any, error) {
			if p := *f(r); p != nil {
				return c.get(p)
			}
			return nil, nil
		}, set: func(r *T) any { return optionalDest[U]{p: f(r), set: c.set} }}
	}
	return out
}

// optionalDest scans a column of an optional U: NULL leaves the pointer as it is, a value
// makes the U if there is none yet and scans into it. The column's destination must be a
// sql.Scanner.
type optionalDest[U any] struct {
	p   **U
	set func(*U) any
}

func (d optionalDest[U]) Scan(src any) error {
	if src == nil {
		return nil
	}
	if *d.p == nil {
		*d.p = new(U)
	}
	dest, ok := d.set(*d.p).(sql.Scanner)
	if !ok {
		return fmt.Errorf("pgstore: the column of an optional value scans into %T, not a sql.Scanner", dest)
	}
	return dest.Scan(src)
}

// dest returns the Scan destinations of r's columns that are read, in the order of
// t.selected.
func (t *table[T]) dest(r *T) []any {
	dest := make([]any, 0, len(t.columns))
	for _, c := range t.columns {
		if c.set != nil {
			dest = append(dest, c.set(r))
		}
	}
	return dest
}

// stmt is a statement being written, with its arguments. A parameter is written where its
// value is used, by arg, so that no value is placed by counting.
type stmt struct {
	b    strings.Builder
	args []any
	ctes int   // the common table expressions written so far
	err  error // the first error met while writing: a value that could not be encoded
}

// exec runs w on db.
func (w *stmt) exec(ctx context.Context, db dbtx) (sql.Result, error) {
	if w.err != nil {
		return nil, w.err
	}
	return db.ExecContext(ctx, w.String(), w.args...)
}

// query runs w on db.
func (w *stmt) query(ctx context.Context, db dbtx) (*sql.Rows, error) {
	if w.err != nil {
		return nil, w.err
	}
	return db.QueryContext(ctx, w.String(), w.args...)
}

// queryRow runs w, a query of one row, on db and scans the row into dest.
func (w *stmt) queryRow(ctx context.Context, db dbtx, dest ...any) error {
	if w.err != nil {
		return w.err
	}
	return db.QueryRowContext(ctx, w.String(), w.args...).Scan(dest...)
}

// with begins the common table expression name: "WITH name AS (" for the first, ", name AS ("
// for the others. The caller closes it.
func (w *stmt) with(name string) {
	if w.ctes == 0 {
		w.sql("WITH ", name, " AS (")
	} else {
		w.sql(", ", name, " AS (")
	}
	w.ctes++
}

// sql appends SQL text.
func (w *stmt) sql(parts ...string) *stmt {
	for _, p := range parts {
		w.b.WriteString(p)
	}
	return w
}

// arg adds the argument v, cast to the SQL type typ, and returns its placeholder. IDs are
// given to the driver as their text, as the columns' values are.
func (w *stmt) arg(v any, typ string) string {
	switch id := v.(type) {
	case uuid.UUID:
		v = id.String()
	case clickid.ID:
		v = id.UUIDString()
	}
	var b strings.Builder
	w.param(&b, v, typ)
	return b.String()
}

// param adds the argument v and writes its placeholder, cast to typ, to b.
func (w *stmt) param(b *strings.Builder, v any, typ string) {
	w.args = append(w.args, v)
	var num [20]byte
	b.WriteByte('$')
	b.Write(strconv.AppendInt(num[:0], int64(len(w.args)), 10))
	b.WriteString("::")
	b.WriteString(typ)
}

func (w *stmt) String() string { return w.b.String() }

// insertInto writes "INSERT INTO <table> (<columns>) " for the table t in the schema prefix p.
func insertInto[T any](w *stmt, p string, t *table[T]) {
	w.sql("INSERT INTO ", p, t.name, " (", t.names, ") ")
}

// values writes "VALUES (...), (...)": the rows of rs, one parameter per column.
func values[T any](w *stmt, t *table[T], rs []T) {
	if len(rs) > 1 {
		// A parameter takes about 16 bytes of SQL ("$1234::text, "), so a batch grows its
		// buffers once instead of doubling them many times.
		w.b.Grow(len(rs) * len(t.columns) * 16)
		w.args = slices.Grow(w.args, len(rs)*len(t.columns))
	}
	w.b.WriteString("VALUES ")
	for i := range rs {
		if i > 0 {
			w.b.WriteString(", ")
		}
		w.b.WriteByte('(')
		for j, c := range t.columns {
			if j > 0 {
				w.b.WriteString(", ")
			}
			v, err := c.get(&rs[i])
			if err != nil && w.err == nil {
				w.err = fmt.Errorf("pgstore: %s.%s: %w", t.name, c.name, err)
			}
			w.param(&w.b, v, c.typ)
		}
		w.b.WriteByte(')')
	}
}

// unnest writes "SELECT * FROM unnest($1::typ[], $2::typ[], ...)": the rows of rs, one
// array parameter per column, as values writes them one parameter per value. The statement's
// text is the same for any number of rows, so the driver prepares it once and PostgreSQL
// plans it once, where VALUES makes a statement of its own for each number of rows. Values
// are strings, integers, booleans, times and NULLs (a column of another kind, bytea or
// jsonb, is an error: use values).
func unnest[T any](w *stmt, t *table[T], rs []T) {
	w.b.WriteString("SELECT * FROM unnest(")
	var b []byte
	for j, c := range t.columns {
		if j > 0 {
			w.b.WriteString(", ")
		}
		b = append(b[:0], '{')
		for i := range rs {
			if i > 0 {
				b = append(b, ',')
			}
			v, err := c.get(&rs[i])
			if err == nil {
				b, err = appendArrayElem(b, v)
			}
			if err != nil && w.err == nil {
				w.err = fmt.Errorf("pgstore: %s.%s: %w", t.name, c.name, err)
			}
		}
		b = append(b, '}')
		w.param(&w.b, string(b), c.typ+"[]")
	}
	w.b.WriteByte(')')
}

// appendArrayElem appends v as an element of an array literal: NULL, or quoted text.
func appendArrayElem(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "NULL"...), nil
	case string:
		b = append(b, '"')
		for i := range len(x) {
			if c := x[i]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, x[i])
		}
		return append(b, '"'), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case time.Time:
		// Normalised already: UTC, whole microseconds, which the text keeps exactly.
		b = append(b, '"')
		b = x.UTC().AppendFormat(b, "2006-01-02 15:04:05.000000Z07:00")
		return append(b, '"'), nil
	}
	return b, fmt.Errorf("no array element of %T", v)
}

// page writes the end of a listing ordered by (col, id): the rows after the cursor c (after
// the start when c is zero), at most limit of them. Every listing pages through it.
func (w *stmt) page(col string, c store.Cursor, from time.Time, limit int) {
	// The zero cursor is the position just before every row at from: (from, the nil UUID),
	// since no record has the nil UUID as its ID.
	at, id := store.NormalizeTime(from), uuid.Nil
	if c != (store.Cursor{}) {
		at, id = store.NormalizeTime(c.At), c.ID
	}
	w.sql(" AND (", col, ", id) > (", w.arg(at, "timestamptz"), ", ", w.arg(id, "uuid"),
		") ORDER BY ", col, ", id LIMIT ", w.arg(limit, "integer"))
}

// listOfAffiliate lists the rows of t (in the schema prefix p) of one affiliate whose column
// col (or expression, spelled as its index spells it) is in [from, to), ordered by (col, id),
// a page of at most limit (0 means 100) after the cursor c.
func listOfAffiliate[T any](ctx context.Context, db dbtx, p string, t *table[T], col, affiliate string,
	from, to time.Time, c store.Cursor, limit int) ([]T, error) {
	var w stmt
	w.sql("SELECT ", t.selected, " FROM ", p, t.name, " WHERE affiliate_id = ", w.arg(affiliate, "text"),
		" AND ", col, " >= ", w.arg(store.NormalizeTime(from), "timestamptz"),
		" AND ", col, " < ", w.arg(store.NormalizeTime(to), "timestamptz"))
	w.page(col, c, from, store.ListLimit(limit, 100))
	return list(ctx, db, t, &w)
}

// getRow runs w, a query of one row, and scans it into a T. No row is sql.ErrNoRows.
func getRow[T any](ctx context.Context, db dbtx, t *table[T], w *stmt) (T, error) {
	var v T
	err := w.queryRow(ctx, db, t.dest(&v)...)
	return v, err
}

// list runs w, a query of rows of t, and scans every row into a T: the one scanner of every
// listing. The rows are closed when it returns, so the connection is free for the next query.
func list[T any](ctx context.Context, db dbtx, t *table[T], w *stmt) ([]T, error) {
	rows, err := w.query(ctx, db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(t.dest(&v)...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// textArray returns IDs in their text form as a PostgreSQL array literal, for
// "= ANY($n::uuid[])": one parameter for any number of IDs, with every driver.
func textArray(ids []string) string {
	return "{" + strings.Join(ids, ",") + "}"
}

// A batch inserts records of one table all or nothing, and tells a retry from a conflict.
type batch[T any, K comparable] struct {
	what  string            // the record's name, for errors
	table *table[T]         // the records' table, whose key column is id
	ids   *table[K]         // the table of the key alone, for RETURNING id
	key   func(*T) K        // a record's key
	text  func(K) string    // a key's text, for an array of keys
	equal func(a, b T) bool // whether a stored record is the one given again
}

// insert inserts rs, in multi-row INSERTs of at most per rows that skip the records whose key
// exists (ON CONFLICT DO NOTHING) instead of aborting. If any was skipped, the stored ones
// decide the error: ErrConflict if one of them differs, otherwise ErrDuplicate (the batch is a
// retry). The caller rolls back on error, so that a refused batch stores nothing.
func (b batch[T, K]) insert(ctx context.Context, db dbtx, p string, rs []T, per int) error {
	var inserted []K
	for start := 0; start < len(rs); start += per {
		chunk := rs[start:min(start+per, len(rs))]
		var w stmt
		insertInto(&w, p, b.table)
		values(&w, b.table, chunk)
		w.sql(" ON CONFLICT (id) DO NOTHING RETURNING id")
		ks, err := list(ctx, db, b.ids, &w)
		if err != nil {
			return wrap(err, "insert %d %ss", len(chunk), b.what)
		}
		inserted = append(inserted, ks...)
	}
	if len(inserted) == len(rs) {
		return nil
	}
	done := make(map[K]bool, len(inserted))
	for _, k := range inserted {
		done[k] = true
	}
	var skipped []T
	var keys []string
	for i := range rs {
		if k := b.key(&rs[i]); !done[k] {
			skipped = append(skipped, rs[i])
			keys = append(keys, b.text(k))
		}
	}
	var w stmt
	w.sql("SELECT ", b.table.selected, " FROM ", p, b.table.name, " WHERE id = ANY(", w.arg(textArray(keys), "uuid[]"), ")")
	stored, err := list(ctx, db, b.table, &w)
	if err != nil {
		return wrap(err, "read %d %ss", len(skipped), b.what)
	}
	byKey := make(map[K]T, len(stored))
	for i := range stored {
		byKey[b.key(&stored[i])] = stored[i]
	}
	for i := range skipped {
		k := b.key(&skipped[i])
		if old, ok := byKey[k]; !ok || !b.equal(old, skipped[i]) {
			return fmt.Errorf("pgstore: %s %v exists with other content: %w", b.what, k, store.ErrConflict)
		}
	}
	return fmt.Errorf("pgstore: %d %ss of the batch exist already: %w", len(skipped), b.what, store.ErrDuplicate)
}

// Columns by kind of field. Each says how a Go field is kept: its SQL type, its NULL, its
// encoding.

// plain is a column whose field database/sql writes and scans as it is: a string, an int, an
// int64.
func plain[T, F any](name, typ string, f func(*T) *F) column[T] {
	return column[T]{name: name, typ: typ, get: func(r *T) (any, error) { return *f(r), nil }, set: func(r *T) any { return f(r) }}
}

// text is a text column of a named string type (event.Type, clickid.Foreign...), written and
// read as the plain string, whatever the type's own Scan would check.
func text[T any, S ~string](name string, f func(*T) *S) column[T] {
	return column[T]{name: name, typ: "text", get: func(r *T) (any, error) { return string(*f(r)), nil }, set: func(r *T) any { return stringDest[S]{f(r)} }}
}

// uuidCol is a uuid column; optional, the nil UUID is NULL. (uuid.UUID scans NULL as nil.)
func uuidCol[T any](name string, optional bool, f func(*T) *uuid.UUID) column[T] {
	return column[T]{name: name, typ: "uuid", get: func(r *T) (any, error) {
		if id := *f(r); !optional || id != uuid.Nil {
			return id.String(), nil
		}
		return nil, nil
	}, set: func(r *T) any { return f(r) }}
}

// clickID is a uuid column of a click ID; optional, the zero ID is NULL.
func clickID[T any](name string, optional bool, f func(*T) *clickid.ID) column[T] {
	return column[T]{name: name, typ: "uuid", get: func(r *T) (any, error) {
		if id := *f(r); !optional || !id.IsZero() {
			return id.UUIDString(), nil
		}
		return nil, nil
	}, set: func(r *T) any { return clickIDDest{f(r)} }}
}

// timestamp is a timestamptz column: the zero time is NULL, and a time reads back normalised.
func timestamp[T any](name string, f func(*T) *time.Time) column[T] {
	return column[T]{name: name, typ: "timestamptz", get: func(r *T) (any, error) {
		if t := *f(r); !t.IsZero() {
			return t, nil
		}
		return nil, nil
	}, set: func(r *T) any { return timeDest{f(r)} }}
}

// strs is a jsonb column of strings (sub IDs): NULL when there are none.
func strs[T any](name string, f func(*T) *[]string) column[T] {
	return column[T]{name: name, typ: "jsonb", get: func(r *T) (any, error) { return stringsJSON(*f(r)) }, set: func(r *T) any { return jsonDest[[]string]{f(r)} }}
}

// jsonCol is a jsonb column of any JSON-encodable field: NULL when the field encodes as
// null, [] or {}.
func jsonCol[T, F any](name string, f func(*T) *F) column[T] {
	return column[T]{name: name, typ: "jsonb", get: func(r *T) (any, error) { return jsonValue(*f(r)) }, set: func(r *T) any { return jsonDest[F]{f(r)} }}
}

// derived is a column written from a value computed from the record (for an index), never
// read back.
func derived[T any](name, typ string, get func(*T) any) column[T] {
	return column[T]{name: name, typ: typ, get: func(r *T) (any, error) { return get(r), nil }}
}

// textual is a text column of a type that encodes itself as text (commission.Kind,
// money.RoundingMode...): written with MarshalText, read with UnmarshalText.
func textual[T any, F encoding.TextMarshaler, PF interface {
	*F
	encoding.TextUnmarshaler
}](name string, f func(*T) *F) column[T] {
	return column[T]{name: name, typ: "text", get: func(r *T) (any, error) {
		b, err := (*f(r)).MarshalText()
		return string(b), err
	}, set: func(r *T) any { return textDest[PF]{PF(f(r))} }}
}

// rate is a numeric column of an exact rate: the zero Rate is NULL.
func rate[T any](name string, f func(*T) *money.Rate) column[T] {
	return column[T]{name: name, typ: "numeric", get: func(r *T) (any, error) {
		if x := *f(r); !x.IsZero() {
			return x.String(), nil
		}
		return nil, nil
	}, set: func(r *T) any { return rateDest{f(r)} }}
}

// bytea is a bytea column: an empty slice is NULL, and NULL reads back as nil.
func bytea[T any](name string, f func(*T) *[]byte) column[T] {
	return column[T]{name: name, typ: "bytea", get: func(r *T) (any, error) {
		if b := *f(r); len(b) > 0 {
			return b, nil
		}
		return nil, nil
	}, set: func(r *T) any { return f(r) }}
}

// inet is an inet column of an address: the zero Addr is NULL.
func inet[T any](name string, f func(*T) *netip.Addr) column[T] {
	return column[T]{name: name, typ: "inet", get: func(r *T) (any, error) {
		if a := *f(r); a.IsValid() {
			return a.Unmap().String(), nil
		}
		return nil, nil
	}, set: func(r *T) any { return addrDest{f(r)} }}
}

// amount is the two columns of an amount, BIGINT minor units and a currency code: both NULL
// for the zero Amount (an amount that is optional).
func amount[T any](minor, currency string, f func(*T) *money.Amount) []column[T] {
	return []column[T]{
		{name: minor, typ: "bigint", get: func(r *T) (any, error) {
			if a := *f(r); a != (money.Amount{}) {
				return a.Minor(), nil
			}
			return nil, nil
		}, set: func(r *T) any { return minorDest{f(r)} }},
		{name: currency, typ: "text", get: func(r *T) (any, error) {
			if a := *f(r); a != (money.Amount{}) {
				return a.Currency().String(), nil
			}
			return nil, nil
		}, set: func(r *T) any { return currencyDest{f(r)} }},
	}
}

// Scan destinations and values for the columns above.

// asBytes returns a text or bytea value as bytes.
func asBytes(src any) ([]byte, error) {
	switch v := src.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("pgstore: cannot scan %T as text", src)
}

type stringDest[S ~string] struct{ p *S }

func (d stringDest[S]) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = ""
	case string:
		*d.p = S(v)
	case []byte:
		*d.p = S(v)
	default:
		return fmt.Errorf("pgstore: cannot scan %T as text", src)
	}
	return nil
}

// textDest reads text into a value that decodes itself from text.
type textDest[P encoding.TextUnmarshaler] struct{ p P }

func (d textDest[P]) Scan(src any) error {
	b, err := asBytes(src)
	if err != nil {
		return err
	}
	return d.p.UnmarshalText(b)
}

type rateDest struct{ p *money.Rate }

func (d rateDest) Scan(src any) error {
	if src == nil {
		*d.p = money.Rate{}
		return nil
	}
	b, err := asBytes(src)
	if err != nil {
		return err
	}
	r, err := money.ParseRate(string(b))
	if err != nil {
		return fmt.Errorf("pgstore: rate: %w", err)
	}
	*d.p = r
	return nil
}

type clickIDDest struct{ p *clickid.ID }

func (d clickIDDest) Scan(src any) error {
	if src == nil {
		*d.p = clickid.ID{}
		return nil
	}
	return d.p.Scan(src)
}

type timeDest struct{ p *time.Time }

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = time.Time{}
	case time.Time:
		*d.p = store.NormalizeTime(v)
	default:
		return fmt.Errorf("pgstore: cannot scan %T as a time", src)
	}
	return nil
}

type addrDest struct{ p *netip.Addr }

func (d addrDest) Scan(src any) error {
	if src == nil {
		*d.p = netip.Addr{}
		return nil
	}
	b, err := asBytes(src)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return fmt.Errorf("pgstore: inet: %w", err)
	}
	*d.p = a
	return nil
}

// minorDest and currencyDest each set their half of an amount, in either order.
type minorDest struct{ p *money.Amount }

func (d minorDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case int64:
		*d.p = money.New(v, d.p.Currency())
		return nil
	}
	return fmt.Errorf("pgstore: cannot scan %T as minor units", src)
}

type currencyDest struct{ p *money.Amount }

func (d currencyDest) Scan(src any) error {
	if src == nil {
		return nil
	}
	b, err := asBytes(src)
	if err != nil {
		return err
	}
	cur, err := money.ParseCurrency(string(b))
	if err != nil {
		return fmt.Errorf("pgstore: currency: %w", err)
	}
	*d.p = money.New(d.p.Minor(), cur)
	return nil
}

// stringsJSON returns sub IDs as a JSON array, or nil (NULL) when there are none. Strings
// that need no escaping (the common case) are copied as they are, the others go through
// encoding/json.
func stringsJSON(ss []string) (any, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	b := make([]byte, 0, 64)
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		if !needsEscape(s) {
			b = append(append(append(b, '"'), s...), '"')
			continue
		}
		q, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		b = append(b, q...)
	}
	return string(append(b, ']')), nil
}

// needsEscape reports whether s has a byte that a JSON string must escape. (Validate has
// already checked that s is valid UTF-8.)
func needsEscape(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

// jsonValue returns v as JSON, or nil (NULL) when it encodes as null, [] or {}.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	switch string(b) {
	case "null", "[]", "{}":
		return nil, nil
	}
	return string(b), nil
}

// jsonDest scans jsonb into a field; NULL is the field's zero value.
type jsonDest[F any] struct{ p *F }

func (d jsonDest[F]) Scan(src any) error {
	var zero F
	*d.p = zero
	if src == nil {
		return nil
	}
	b, err := asBytes(src)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, d.p); err != nil {
		return fmt.Errorf("pgstore: jsonb: %w", err)
	}
	return nil
}
