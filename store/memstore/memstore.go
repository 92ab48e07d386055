package memstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	mbits "math/bits"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
)

// clickShards is the number of click shards: a power of two, indexed by a random byte of the
// click ID, so that readers of different clicks rarely share a lock.
const clickShards = 64

// foreignShards is the number of shards of the index of clicks by foreign click ID: a power
// of two, indexed by a hash of the foreign ID.
const foreignShards = 64

// Store is an in-memory implementation of [store.Store]. It is safe for concurrent use. Its
// zero value is not usable: create one with [New].
type Store struct {
	clicks [clickShards]clickShard

	// foreign indexes the clicks that carry a foreign click ID, by that ID. A write takes its
	// click shards' locks before its foreign shards', each set in index order, and a reader
	// holds one lock at a time, so that no two writers deadlock and a click is in the index
	// by the time its click shard is unlocked.
	foreign     [foreignShards]foreignShard
	foreignSeed maphash.Seed

	// bindings holds the player bindings in shards, by a hash of the player ID, and counters
	// the counters, by a hash of their name, each shard under a lock of its own. A write
	// takes the counter shards it needs (in index order), then its player's binding shard,
	// then mu; so that no two writers deadlock, and a reader of one counter or binding waits
	// only for the writes of that shard. RecordConversion and ChangeStatus check their
	// increments and rebinds before they take mu, and apply them after they release it,
	// still holding the shards: a record's counters and binding are written with it,
	// atomically, and mu is held for its conversion's indexes alone.
	bindings  [bindingShards]bindingShard
	counters  [counterShards]counterShard
	shardSeed maphash.Seed

	// mu guards conversions, ledger lines, deliveries and endpoints together, so that a
	// conversion and what it causes are written atomically, and an attempt with the state of
	// its endpoint.
	mu          sync.RWMutex
	conversions map[uuid.UUID]*store.Conversion
	byKey       map[string]uuid.UUID
	byTxn       map[sourceTxn][]*store.Conversion // the conversions of a transaction: by ReceivedAt, then ID
	activity    map[string]activity               // the event times of a player's conversions
	ledger      map[uuid.UUID]*store.LedgerLine
	lineOf      map[uuid.UUID][]uuid.UUID // the IDs of each conversion's ledger lines, by conversion
	deliveryOf  map[uuid.UUID][]*delivery // each conversion's deliveries, by conversion
	deliveries  map[uuid.UUID]*delivery
	endpoints   map[string]*endpoint // every endpoint with a delivery, or disabled (see due.go)
	due         dueIndex             // the pending deliveries, by when they are due (see due.go)

	// The parked events, under mu too, so that a status change resolves them atomically.
	parked        map[uuid.UUID]*store.ParkedEvent
	parkedByKey   map[string]*store.ParkedEvent
	parkedByTxn   map[sourceTxn][]*store.ParkedEvent // oldest first: by ParkedAt, then ID
	parkedWaiting map[*store.ParkedEvent]struct{}    // the unresolved ones

	inbound inboundLog // under a lock of its own (see inbound.go)

	revenue revenueFacts // under a lock of its own (see revenue.go)

	closes []store.PeriodClose // the closed periods, in order, under mu (see period.go)
}

// sourceTxn is a transaction of a source: what a parked event is found again by.
type sourceTxn struct{ source, txn string }

// clickShard holds the clicks whose ID's last byte, mod clickShards, is its index. A stored
// click is never modified, so GetClick copies it after releasing the lock; the map holds
// pointers, so that a lookup copies the click once, straight into the caller's result.
type clickShard struct {
	mu sync.RWMutex
	m  map[clickid.ID]*store.Click
	_  [32]byte // keep neighbouring shards' locks on separate cache lines
}

// foreignShard holds the index entries of the foreign click IDs that hash to its index: for
// each, the clicks that carry it, oldest first (by CreatedAt, then ID), so that the latest
// is found from the end. A foreign ID is carried by one click, or by the few of a visitor who
// clicked twice with it.
type foreignShard struct {
	mu sync.RWMutex
	m  map[clickid.Foreign][]*store.Click
	_  [32]byte // keep neighbouring shards' locks on separate cache lines
}

// bindingShards is the number of binding shards, and counterShards of counter shards: powers
// of two. A record takes one binding shard and the counter shards of its increments (an FTD's
// five or six), so that the counters have more shards: two concurrent records of different
// players rarely share one.
const (
	bindingShards = 64
	counterShards = 256
)

// bindingShard holds the bindings of the players whose ID hashes to its index.
type bindingShard struct {
	mu sync.Mutex
	m  map[string]store.PlayerBinding
	_  [40]byte // keep neighbouring shards' locks on separate cache lines
}

// counterShard holds the counters whose name hashes to its index.
type counterShard struct {
	mu sync.Mutex
	m  map[string]int64
	_  [40]byte // keep neighbouring shards' locks on separate cache lines
}

// bindingShard returns the shard of player's binding.
func (s *Store) bindingShard(player string) *bindingShard {
	return &s.bindings[maphash.String(s.shardSeed, player)%bindingShards]
}

// counterShard returns the index of the shard of counter.
func (s *Store) counterShard(counter string) int {
	return int(maphash.String(s.shardSeed, counter) % counterShards)
}

// counterLocks is a set of counter shards, by index.
type counterLocks [counterShards / 64]uint64

// lockCounters locks the shards of the counters of incs, in index order, and returns them.
func (s *Store) lockCounters(incs []store.Increment) counterLocks {
	var held counterLocks
	for _, inc := range incs {
		i := s.counterShard(inc.Counter)
		held[i/64] |= 1 << (i % 64)
	}
	for w, bits := range held {
		for ; bits != 0; bits &= bits - 1 {
			s.counters[w*64+mbits.TrailingZeros64(bits)].mu.Lock()
		}
	}
	return held
}

// unlock unlocks the counter shards of held.
func (held *counterLocks) unlock(s *Store) {
	for w, bits := range held {
		for ; bits != 0; bits &= bits - 1 {
			s.counters[w*64+mbits.TrailingZeros64(bits)].mu.Unlock()
		}
	}
}

// counter returns the value of counter. Its shard is locked.
func (s *Store) counter(counter string) int64 {
	return s.counters[s.counterShard(counter)].m[counter]
}

// delivery is a stored delivery with its lease and its place in the due index.
type delivery struct {
	d            store.Delivery
	ep           *endpoint // the endpoint of d.Endpoint
	token        int64     // the fencing token of the latest lease
	leaseExpires time.Time // zero when not leased
	readyPos     int       // 1 + its index in ep.ready, 0 when not there
	leasedPos    int       // 1 + its index in due.leased, 0 when not there
}

var _ store.Store = (*Store)(nil)
var _ store.AttemptRecorder = (*Store)(nil)
var _ store.ParkedReporter = (*Store)(nil)

// Options configures a [Store]. It has no settings yet: a memstore needs no clock, no
// randomness and no logger, and sizes itself as it fills. It exists so that settings can
// come without changing New's signature; nil and the zero value are the defaults.
type Options struct{}

// New returns an empty Store. opts may be nil. New cannot fail: it returns no error.
func New(opts *Options) *Store {
	_ = opts // no settings yet
	s := &Store{
		conversions: make(map[uuid.UUID]*store.Conversion),
		byKey:       make(map[string]uuid.UUID),
		byTxn:       make(map[sourceTxn][]*store.Conversion),
		activity:    make(map[string]activity),
		ledger:      make(map[uuid.UUID]*store.LedgerLine),
		lineOf:      make(map[uuid.UUID][]uuid.UUID),
		deliveryOf:  make(map[uuid.UUID][]*delivery),
		deliveries:  make(map[uuid.UUID]*delivery),
		endpoints:   make(map[string]*endpoint),
		due:         newDueIndex(),

		parked:        make(map[uuid.UUID]*store.ParkedEvent),
		parkedByKey:   make(map[string]*store.ParkedEvent),
		parkedByTxn:   make(map[sourceTxn][]*store.ParkedEvent),
		parkedWaiting: make(map[*store.ParkedEvent]struct{}),

		inbound: newInboundLog(),
		revenue: newRevenueFacts(),
	}
	for i := range s.clicks {
		s.clicks[i].m = make(map[clickid.ID]*store.Click)
	}
	s.shardSeed = maphash.MakeSeed()
	for i := range s.bindings {
		s.bindings[i].m = make(map[string]store.PlayerBinding)
	}
	for i := range s.counters {
		s.counters[i].m = make(map[string]int64)
	}
	s.foreignSeed = maphash.MakeSeed()
	for i := range s.foreign {
		s.foreign[i].m = make(map[clickid.Foreign][]*store.Click)
	}
	return s
}

func (s *Store) shard(id clickid.ID) *clickShard {
	return &s.clicks[id[15]%clickShards]
}

// foreignShard returns the index of the foreign shard of f.
func (s *Store) foreignShard(f clickid.Foreign) int {
	return int(maphash.String(s.foreignSeed, string(f)) % foreignShards)
}

// indexForeign adds the stored clicks cs that carry a foreign click ID to the foreign index,
// locking the shards they need in index order. The caller holds the clicks' shard locks, so
// that a click is in the index before anyone can read it by its ID.
func (s *Store) indexForeign(cs ...*store.Click) {
	var used [foreignShards]bool
	some := false
	for _, c := range cs {
		if c.ForeignClickID != "" {
			used[s.foreignShard(c.ForeignClickID)], some = true, true
		}
	}
	if !some {
		return
	}
	for i := range s.foreign {
		if used[i] {
			s.foreign[i].mu.Lock()
			defer s.foreign[i].mu.Unlock()
		}
	}
	for _, c := range cs {
		if c.ForeignClickID == "" {
			continue
		}
		m := s.foreign[s.foreignShard(c.ForeignClickID)].m
		carried := m[c.ForeignClickID]
		i, _ := slices.BinarySearchFunc(carried, c, compareClicks) // at the end, for a click newer than the others
		m[c.ForeignClickID] = slices.Insert(carried, i, c)
	}
}

// compareClicks orders clicks by CreatedAt, then ID.
func compareClicks(a, b *store.Click) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), bytes.Compare(a.ID[:], b.ID[:]))
}

// InsertClick implements [store.ClickStore].
func (s *Store) InsertClick(ctx context.Context, c store.Click) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c = c.Normalize()
	sh := s.shard(c.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[c.ID]; ok {
		return clickExists(*old, c)
	}
	sh.m[c.ID] = &c
	s.indexForeign(&c)
	return nil
}

func clickExists(old, c store.Click) error {
	if old.Equal(c) {
		return fmt.Errorf("memstore: click %s: %w", c.ID, store.ErrDuplicate)
	}
	return fmt.Errorf("memstore: click %s exists with other content: %w", c.ID, store.ErrConflict)
}

// InsertClicks implements [store.ClickStore]. It locks the shards of the batch in index
// order, so the batch appears all at once and concurrent batches cannot deadlock.
func (s *Store) InsertClicks(ctx context.Context, p store.InsertClicksParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p = p.Normalize()
	var used [clickShards]bool
	for _, c := range p.Clicks {
		used[c.ID[15]%clickShards] = true
	}
	for i := range s.clicks {
		if used[i] {
			s.clicks[i].mu.Lock()
			defer s.clicks[i].mu.Unlock()
		}
	}
	var exists error
	for _, c := range p.Clicks {
		if old, ok := s.shard(c.ID).m[c.ID]; ok {
			if err := clickExists(*old, c); exists == nil || errors.Is(err, store.ErrConflict) {
				exists = err
			}
		}
	}
	if exists != nil {
		return exists
	}
	stored := make([]*store.Click, len(p.Clicks))
	for i := range p.Clicks {
		stored[i] = &p.Clicks[i] // p.Clicks is the batch's own copy
		s.shard(p.Clicks[i].ID).m[p.Clicks[i].ID] = stored[i]
	}
	s.indexForeign(stored...)
	return nil
}

// GetClick implements [store.ClickStore]. It is the hot read path: its rare branches live in
// functions of their own, so that its frame stays small.
func (s *Store) GetClick(ctx context.Context, id clickid.ID) (store.Click, error) {
	sh := s.shard(id)
	sh.mu.RLock()
	p := sh.m[id] // nil for the zero ID, which no stored click has
	sh.mu.RUnlock()
	if p == nil || ctx.Err() != nil {
		return store.Click{}, clickMiss(ctx, id)
	}
	if p.SubIDs != nil {
		return withOwnSubIDs(p), nil
	}
	return *p, nil
}

// withOwnSubIDs returns a copy of *p whose SubIDs the caller may modify.
//
//go:noinline
func withOwnSubIDs(p *store.Click) store.Click {
	c := *p
	c.SubIDs = slices.Clone(c.SubIDs)
	return c
}

// clickMiss returns the error of a GetClick that returns no click, in the contract's order:
// ErrInvalid for the zero ID, which no click can have; then the context's error; else
// ErrNotFound.
//
//go:noinline
func clickMiss(ctx context.Context, id clickid.ID) error {
	if id.IsZero() {
		return fmt.Errorf("memstore: get click: the zero click ID: %w", store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("memstore: click %s: %w", id, store.ErrNotFound)
}

// GetClickByForeign implements [store.ClickStore] on the foreign index: it walks the clicks
// that carry the foreign ID back from the latest, O(log k) to AsOf and then one step per
// click of another campaign, for the k clicks that carry it.
func (s *Store) GetClickByForeign(ctx context.Context, p store.GetClickByForeignParams) (store.Click, error) {
	if err := p.Validate(); err != nil {
		return store.Click{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Click{}, err
	}
	asOf := store.NormalizeTime(p.AsOf)
	sh := &s.foreign[s.foreignShard(p.ForeignClickID)]
	sh.mu.RLock()
	carried := sh.m[p.ForeignClickID]
	end := len(carried)
	if !asOf.IsZero() {
		// The first click created after asOf: every click before it was created at or before.
		end, _ = slices.BinarySearchFunc(carried, asOf, func(c *store.Click, t time.Time) int {
			if c.CreatedAt.After(t) {
				return 1
			}
			return -1
		})
	}
	var found *store.Click
	for i := end - 1; i >= 0; i-- {
		if p.CampaignID == "" || carried[i].CampaignID == p.CampaignID {
			found = carried[i]
			break
		}
	}
	sh.mu.RUnlock()
	if found == nil {
		return store.Click{}, fmt.Errorf("memstore: click with foreign id %q: %w", p.ForeignClickID, store.ErrNotFound)
	}
	return withOwnSubIDs(found), nil
}

// checkLookup checks a key that a Get method looks up: one that a record can have.
func checkLookup(what, key string) error {
	if err := store.CheckLookupKey(key); err != nil {
		return fmt.Errorf("memstore: get %s: %w", what, err)
	}
	return nil
}

// checkID checks an ID that a Get method looks up: not the zero ID, which no record has.
func checkID(what string, id uuid.UUID) error {
	if id == uuid.Nil {
		return fmt.Errorf("memstore: get %s: the zero ID: %w", what, store.ErrInvalid)
	}
	return nil
}

// BindPlayer implements [store.BindingStore].
func (s *Store) BindPlayer(ctx context.Context, b store.PlayerBinding) (store.PlayerBinding, error) {
	if err := b.Validate(); err != nil {
		return store.PlayerBinding{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.PlayerBinding{}, err
	}
	b = b.Normalize()
	sh := s.bindingShard(b.PlayerID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[b.PlayerID]; ok {
		if old.SameBinding(b) {
			return old, fmt.Errorf("memstore: player %q: %w", b.PlayerID, store.ErrDuplicate)
		}
		return old, fmt.Errorf("memstore: player %q is bound to affiliate %q: %w", b.PlayerID, old.AffiliateID, store.ErrConflict)
	}
	sh.m[b.PlayerID] = b
	return b, nil
}

// GetBinding implements [store.BindingStore].
func (s *Store) GetBinding(ctx context.Context, playerID string) (store.PlayerBinding, error) {
	if err := checkLookup("binding", playerID); err != nil {
		return store.PlayerBinding{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.PlayerBinding{}, err
	}
	sh := s.bindingShard(playerID)
	sh.mu.Lock()
	b, ok := sh.m[playerID]
	sh.mu.Unlock()
	if !ok {
		return store.PlayerBinding{}, errNoBinding // a new player's, on every first postback: allocates nothing
	}
	return b, nil
}

// errNoBinding is GetBinding's answer for a player with no binding: the usual answer for a
// new player, so it is made once.
var errNoBinding = fmt.Errorf("memstore: no binding of the player: %w", store.ErrNotFound)

// RecordConversion implements [store.ConversionStore]. It makes what it stores before it
// takes a lock (newRecord), and holds mu for the conversion's indexes alone: its counters and
// binding are checked and written under their shards' locks, taken before mu (see Store).
func (s *Store) RecordConversion(ctx context.Context, p store.RecordConversionParams) (store.Conversion, error) {
	c, _, err := s.RecordConversionParked(ctx, p)
	return c, err
}

// RecordConversionParked implements [store.ParkedReporter]: the parked events are looked up
// under the lock that records the conversion, so the answer is exact.
func (s *Store) RecordConversionParked(ctx context.Context, p store.RecordConversionParams) (store.Conversion, bool, error) {
	if err := p.Validate(); err != nil {
		return store.Conversion{}, false, err
	}
	if err := ctx.Err(); err != nil {
		return store.Conversion{}, false, err
	}
	r := newRecord(&p)

	held := s.lockCounters(p.Increments)
	defer held.unlock(s)
	// The write's refusals, in the contract's order: a duplicate or conflict of its dedup key,
	// an ID that exists, a rebind from a binding that moved, a counter at its limit. The last
	// two are known before mu, and answered after the first two.
	var later error
	var sh *bindingShard
	if p.Binding != nil {
		sh = s.bindingShard(p.Binding.PlayerID)
		sh.mu.Lock()
		defer sh.mu.Unlock()
		later = rebindError(sh, &p)
	}
	if later == nil {
		if err := s.checkIncrements(p.Increments); err != nil {
			later = fmt.Errorf("memstore: conversion %q: %w", r.c.DedupKey, err)
		}
	}
	// The caller's copy, made before the record is stored (a status change may change it
	// then): its History is the record's returned entry, which the store never reads.
	out := r.c
	out.History = r.returned[:]
	out.SubIDs = slices.Clone(r.c.SubIDs)
	waiting, old, err := s.insertRecord(r, &p, later)
	if err != nil {
		return old, false, err
	}
	s.applyIncrements(p.Increments)
	if b := p.Binding; b != nil {
		if _, bound := sh.m[b.PlayerID]; !bound || p.RebindFrom != nil {
			sh.m[b.PlayerID] = b.Normalize() // the first binding wins, unless it is replaced as seen
		}
	}
	return out, waiting, nil
}

// rebindError returns the refusal of p's rebind (RebindFrom) if the player's binding is not the
// one it replaces, else nil. p's binding shard sh is locked.
func rebindError(sh *bindingShard, p *store.RecordConversionParams) error {
	from := p.RebindFrom
	if from == nil {
		return nil
	}
	if old, ok := sh.m[from.PlayerID]; !ok {
		return fmt.Errorf("memstore: conversion %q: %w", p.Conversion.DedupKey, &store.RebindError{PlayerID: from.PlayerID})
	} else if !old.Equal(from.Normalize()) {
		return fmt.Errorf("memstore: conversion %q: %w", p.Conversion.DedupKey, &store.RebindError{PlayerID: from.PlayerID, Stored: &old})
	}
	return nil
}

// record is a stored conversion with the first entries of what indexes it, in one
// allocation: its history's first entry, the returned copy's, its place in the index of its
// transaction (while it is the transaction's only conversion), its first ledger line and that
// line's ID in lineOf.
type record struct {
	c        store.Conversion
	history  [1]store.StatusChange
	returned [1]store.StatusChange
	txn      [1]*store.Conversion
	lineID   [1]uuid.UUID
	line     [1]store.LedgerLine
	lines    []store.LedgerLine // the conversion's ledger lines, normalised
}

// newRecord makes the record of valid parameters p, normalised, sharing nothing with p.
func newRecord(p *store.RecordConversionParams) *record {
	r := new(record)
	r.c = p.Conversion.NormalizeIn(r.history[:])
	r.returned = r.history
	r.lines = r.line[:0]
	for _, l := range p.Ledger {
		r.lines = append(r.lines, l.Normalize())
	}
	return r
}

// insertRecord stores the conversion of record r, with its ledger lines and deliveries (from
// p), under mu, unless its dedup key or an ID exists, or later (its binding's or counters'
// refusal) is not nil. It returns whether parked events of the conversion's transaction wait,
// and the stored conversion a duplicate or conflict is of.
func (s *Store) insertRecord(r *record, p *store.RecordConversionParams, later error) (bool, store.Conversion, error) {
	c := &r.c
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byKey[c.DedupKey]; ok {
		old := cloneConversion(s.conversions[id])
		if old.SameContent(*c) {
			return false, old, fmt.Errorf("memstore: conversion %q: %w", c.DedupKey, store.ErrDuplicate)
		}
		return false, old, fmt.Errorf("memstore: conversion %q exists with other content: %w", c.DedupKey, store.ErrConflict)
	}
	if err := s.checkNewIDs(c.ID, r.lines, p.Deliveries); err != nil {
		return false, store.Conversion{}, err
	}
	if later != nil {
		return false, store.Conversion{}, later
	}
	s.conversions[c.ID] = c
	s.byKey[c.DedupKey] = c.ID
	s.indexTxn(r)
	s.indexActivity(c)
	for i := range r.lines {
		l := &r.lines[i]
		s.ledger[l.ID] = l
		if i == 0 {
			r.lineID[0] = l.ID
			s.lineOf[c.ID] = r.lineID[:1:1] // a record's lines are its conversion's first
		} else {
			s.lineOf[c.ID] = append(s.lineOf[c.ID], l.ID)
		}
	}
	s.addDeliveries(normalizedDeliveries(p.Deliveries))
	return s.parkedWait(c.Source, c.TransactionID), store.Conversion{}, nil
}

// parkedWait reports whether unresolved parked events of transaction txn of source are
// stored. s.mu is held.
func (s *Store) parkedWait(source, txn string) bool {
	if source == "" || txn == "" {
		return false
	}
	for _, e := range s.parkedByTxn[sourceTxn{source, txn}] {
		if !e.Resolved() {
			return true
		}
	}
	return false
}

// normalizedDeliveries returns ds normalised, in a slice of their own.
func normalizedDeliveries(ds []store.Delivery) []store.Delivery {
	if len(ds) == 0 {
		return nil
	}
	out := make([]store.Delivery, len(ds))
	for i, d := range ds {
		out[i] = d.Normalize()
	}
	return out
}

// indexTxn adds the conversion of the stored record r to the index of its transaction, in
// order: a transaction's first in the record itself. s.mu is held for writing.
func (s *Store) indexTxn(r *record) {
	c := &r.c
	if c.Source == "" || c.TransactionID == "" {
		return // no lookup can name it: both are required
	}
	k := sourceTxn{c.Source, c.TransactionID}
	cs, ok := s.byTxn[k]
	if !ok {
		r.txn[0] = c
		s.byTxn[k] = r.txn[:1:1]
		return
	}
	i, _ := slices.BinarySearchFunc(cs, c, compareReceived)
	s.byTxn[k] = slices.Insert(cs, i, c)
}

// activity is the event times of a player's conversions: one, without a slice (a player's
// first conversion costs no allocation of its own), or all of them in order.
type activity struct {
	one time.Time   // the only one, while all is nil
	all []time.Time // every one, in order, from the second on
}

// indexActivity adds the event time of the stored conversion c to its player's, in order.
// s.mu is held for writing.
func (s *Store) indexActivity(c *store.Conversion) {
	if c.PlayerID == "" {
		return
	}
	at := c.EventTime()
	a, ok := s.activity[c.PlayerID]
	switch {
	case !ok:
		a.one = at
	case a.all == nil:
		a.all = []time.Time{a.one, at}
		if at.Before(a.one) {
			a.all[0], a.all[1] = at, a.one
		}
	default:
		i, _ := slices.BinarySearchFunc(a.all, at, time.Time.Compare)
		a.all = slices.Insert(a.all, i, at)
	}
	s.activity[c.PlayerID] = a
}

// LastActivity implements [store.ConversionStore].
func (s *Store) LastActivity(ctx context.Context, p store.LastActivityParams) (time.Time, error) {
	if err := p.Validate(); err != nil {
		return time.Time{}, err
	}
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.activity[p.PlayerID]
	asOf := store.NormalizeTime(p.AsOf)
	switch {
	case !ok:
		return time.Time{}, nil
	case a.all == nil:
		if a.one.After(asOf) {
			return time.Time{}, nil
		}
		return a.one, nil
	}
	i := sort.Search(len(a.all), func(i int) bool { return a.all[i].After(asOf) }) // the first after AsOf
	if i == 0 {
		return time.Time{}, nil
	}
	return a.all[i-1], nil
}

// compareReceived orders conversions by ReceivedAt, then ID.
func compareReceived(a, b *store.Conversion) int {
	return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), bytes.Compare(a.ID[:], b.ID[:]))
}

// ListConversionsByTransaction implements [store.ConversionStore].
func (s *Store) ListConversionsByTransaction(ctx context.Context, p store.ListConversionsByTransactionParams) ([]store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := store.ListLimit(p.Limit, 100)
	s.mu.RLock()
	defer s.mu.RUnlock()
	cs := s.byTxn[sourceTxn{p.Source, p.TransactionID}]
	i := 0
	if p.After != (store.Cursor{}) {
		i = sort.Search(len(cs), func(i int) bool { return after(cs[i].ReceivedAt, cs[i].ID, p.After) })
	}
	cs = truncate(cs[i:], limit)
	var out []store.Conversion
	for _, c := range cs {
		out = append(out, cloneConversion(c))
	}
	return out, nil
}

// checkIncrements fails with a *store.LimitError if an increment would take its counter past
// its limit. The counters' shards are locked (lockCounters), so the values it checks are the
// ones applyIncrements increments.
//
// Of several increments past their limits, it fails with the counter first by name: the one
// the increments sorted by counter (store.RecordConversionParams.Normalize) meet first.
func (s *Store) checkIncrements(incs []store.Increment) error {
	var first error
	var name string
	for _, inc := range incs {
		if err := inc.Check(s.counter(inc.Counter)); err != nil && (first == nil || inc.Counter < name) {
			first, name = err, inc.Counter
		}
	}
	return first
}

// applyIncrements applies checked increments. Their counters' shards are locked.
func (s *Store) applyIncrements(incs []store.Increment) {
	for _, inc := range incs {
		s.counters[s.counterShard(inc.Counter)].m[inc.Counter] += inc.Delta
	}
}

// checkNewIDs fails if a conversion, ledger line or delivery ID exists already. s.mu is held.
func (s *Store) checkNewIDs(conversion uuid.UUID, ledger []store.LedgerLine, deliveries []store.Delivery) error {
	if conversion != uuid.Nil {
		if _, ok := s.conversions[conversion]; ok {
			return fmt.Errorf("memstore: conversion id %s exists under another dedup key: %w", conversion, store.ErrConflict)
		}
	}
	for _, l := range ledger {
		if _, ok := s.ledger[l.ID]; ok {
			return fmt.Errorf("memstore: ledger line %s exists: %w", l.ID, store.ErrConflict)
		}
	}
	for _, d := range deliveries {
		if _, ok := s.deliveries[d.ID]; ok {
			return fmt.Errorf("memstore: delivery %s exists: %w", d.ID, store.ErrConflict)
		}
	}
	return nil
}

// addCaused stores ledger lines and deliveries. s.mu is held and the IDs are new.
func (s *Store) addCaused(ledger []store.LedgerLine, deliveries []store.Delivery) {
	for _, l := range ledger {
		s.addLine(l)
	}
	s.addDeliveries(deliveries)
}

// addDeliveries stores deliveries. s.mu is held and their IDs are new.
func (s *Store) addDeliveries(deliveries []store.Delivery) {
	for _, d := range deliveries {
		sd := &delivery{d: d, ep: s.endpoint(d.Endpoint)}
		s.deliveries[d.ID] = sd
		s.due.ready(sd)
		s.deliveryOf[d.ConversionID] = append(s.deliveryOf[d.ConversionID], sd)
	}
}

// endpoint returns the endpoint of the given name, making it (unknown, enabled) if it has
// none yet. s.mu is held for writing.
func (s *Store) endpoint(name string) *endpoint {
	e, ok := s.endpoints[name]
	if !ok {
		e = newEndpoint(name)
		s.endpoints[name] = e
	}
	return e
}

func cloneConversion(c *store.Conversion) store.Conversion {
	out := *c
	out.SubIDs = slices.Clone(c.SubIDs)
	out.History = slices.Clone(c.History)
	return out
}

// GetConversion implements [store.ConversionStore].
func (s *Store) GetConversion(ctx context.Context, id uuid.UUID) (store.Conversion, error) {
	if err := checkID("conversion", id); err != nil {
		return store.Conversion{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Conversion{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.conversions[id]
	if !ok {
		return store.Conversion{}, fmt.Errorf("memstore: conversion %s: %w", id, store.ErrNotFound)
	}
	return cloneConversion(c), nil
}

// GetConversionByKey implements [store.ConversionStore].
func (s *Store) GetConversionByKey(ctx context.Context, dedupKey string) (store.Conversion, error) {
	if err := checkLookup("conversion", dedupKey); err != nil {
		return store.Conversion{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Conversion{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byKey[dedupKey]
	if !ok {
		return store.Conversion{}, fmt.Errorf("memstore: conversion %q: %w", dedupKey, store.ErrNotFound)
	}
	return cloneConversion(s.conversions[id]), nil
}

// ChangeStatus implements [store.ConversionStore].
func (s *Store) ChangeStatus(ctx context.Context, p store.ChangeStatusParams) (store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return store.Conversion{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Conversion{}, err
	}
	p = p.Normalize()
	held := s.lockCounters(p.Increments)
	defer held.unlock(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conversions[p.ConversionID]
	if !ok {
		return store.Conversion{}, fmt.Errorf("memstore: conversion %s: %w", p.ConversionID, store.ErrNotFound)
	}
	if c.Status != p.From {
		return cloneConversion(c), fmt.Errorf("memstore: conversion %s is %s, not %s: %w", c.ID, c.Status, p.From, store.ErrConflict)
	}
	if err := s.checkNewIDs(uuid.Nil, p.Ledger, p.Deliveries); err != nil {
		return store.Conversion{}, err
	}
	if err := s.checkWaiting(p.Resolve); err != nil {
		err = fmt.Errorf("memstore: status change of %s: %w", c.ID, err)
		if errors.Is(err, store.ErrConflict) {
			return cloneConversion(c), err
		}
		return store.Conversion{}, err
	}
	if err := s.checkIncrements(p.Increments); err != nil {
		return store.Conversion{}, fmt.Errorf("memstore: status change of %s: %w", c.ID, err)
	}
	c.Status = p.To
	c.History = append(c.History, store.StatusChange{Status: p.To, Reason: p.Reason, At: p.At})
	s.addCaused(p.Ledger, p.Deliveries)
	s.applyIncrements(p.Increments)
	s.resolve(p.Resolve, p.At, c.ID)
	return cloneConversion(c), nil
}

// checkWaiting fails with ErrNotFound if one of the parked events ids does not exist, else
// with ErrConflict if one is resolved already. s.mu is held.
func (s *Store) checkWaiting(ids []uuid.UUID) error {
	for _, id := range ids {
		if _, ok := s.parked[id]; !ok {
			return fmt.Errorf("parked event %s: %w", id, store.ErrNotFound)
		}
	}
	for _, id := range ids {
		if e := s.parked[id]; e.Resolved() {
			return fmt.Errorf("parked event %s was resolved at %s: %w", id, e.ResolvedAt.Format(time.RFC3339Nano), store.ErrConflict)
		}
	}
	return nil
}

// resolve marks the parked events ids, checked by checkWaiting, resolved at at, applied to
// the conversion appliedTo. s.mu is held for writing.
func (s *Store) resolve(ids []uuid.UUID, at time.Time, appliedTo uuid.UUID) {
	for _, id := range ids {
		e := s.parked[id]
		e.ResolvedAt, e.AppliedTo = at, appliedTo
		delete(s.parkedWaiting, e)
	}
}

// cloneParked returns a copy of e that shares nothing with the store.
func cloneParked(e *store.ParkedEvent) store.ParkedEvent {
	out := *e
	out.Conversion.SubIDs = slices.Clone(e.Conversion.SubIDs)
	return out
}

// compareParked orders parked events by ParkedAt, then ID.
func compareParked(a, b *store.ParkedEvent) int {
	return cmp.Or(a.ParkedAt.Compare(b.ParkedAt), slices.Compare(a.ID[:], b.ID[:]))
}

// ParkEvent implements [store.ParkedStore].
func (s *Store) ParkEvent(ctx context.Context, p store.ParkedEvent) (store.ParkedEvent, error) {
	if err := p.Validate(); err != nil {
		return store.ParkedEvent{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.ParkedEvent{}, err
	}
	p = p.Normalize()
	key := p.Conversion.DedupKey
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.parkedByKey[key]; ok {
		if old.Conversion.SameContent(p.Conversion) {
			return cloneParked(old), fmt.Errorf("memstore: parked event %q: %w", key, store.ErrDuplicate)
		}
		return cloneParked(old), fmt.Errorf("memstore: parked event %q exists with other content: %w", key, store.ErrConflict)
	}
	if _, ok := s.parked[p.ID]; ok {
		return store.ParkedEvent{}, fmt.Errorf("memstore: parked event id %s exists under another dedup key: %w", p.ID, store.ErrConflict)
	}
	e := &p
	s.parked[e.ID] = e
	s.parkedByKey[key] = e
	st := sourceTxn{e.Conversion.Source, e.Conversion.TransactionID}
	ofTxn := s.parkedByTxn[st]
	i, _ := slices.BinarySearchFunc(ofTxn, e, compareParked)
	s.parkedByTxn[st] = slices.Insert(ofTxn, i, e)
	s.parkedWaiting[e] = struct{}{}
	return cloneParked(e), nil
}

// ListParked implements [store.ParkedStore]. A listing of one transaction reads the events of
// that transaction alone; the others sort what they select: the unresolved events (a sweep's
// listing), O(u log u) for the u that wait, or every parked event, O(n log n).
func (s *Store) ListParked(ctx context.Context, p store.ListParkedParams) ([]store.ParkedEvent, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := store.ListLimit(p.Limit, 100)
	keep := func(e *store.ParkedEvent) bool {
		return (p.Source == "" || e.Conversion.Source == p.Source) && !(p.Unresolved && e.Resolved()) &&
			after(e.ParkedAt, e.ID, p.After)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var selected []*store.ParkedEvent
	switch {
	case p.TransactionID != "":
		for _, e := range s.parkedByTxn[sourceTxn{p.Source, p.TransactionID}] {
			if keep(e) {
				selected = append(selected, e)
			}
		}
	case p.Unresolved:
		for e := range s.parkedWaiting {
			if keep(e) {
				selected = append(selected, e)
			}
		}
		slices.SortFunc(selected, compareParked)
	default:
		for _, e := range s.parked {
			if keep(e) {
				selected = append(selected, e)
			}
		}
		slices.SortFunc(selected, compareParked)
	}
	selected = truncate(selected, limit)
	out := make([]store.ParkedEvent, len(selected))
	for i, e := range selected {
		out[i] = cloneParked(e)
	}
	return out, nil
}

// ResolveParked implements [store.ParkedStore].
func (s *Store) ResolveParked(ctx context.Context, p store.ResolveParkedParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(p.IDs) == 0 {
		return nil
	}
	p = p.Normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.AppliedTo != uuid.Nil {
		if _, ok := s.conversions[p.AppliedTo]; !ok {
			return fmt.Errorf("memstore: resolve parked: conversion %s does not exist: %w", p.AppliedTo, store.ErrInvalid)
		}
	}
	if err := s.checkWaiting(p.IDs); err != nil {
		return fmt.Errorf("memstore: resolve parked: %w", err)
	}
	s.resolve(p.IDs, p.At, p.AppliedTo)
	return nil
}

// GetCounter implements [store.CounterStore].
func (s *Store) GetCounter(ctx context.Context, counter string) (int64, error) {
	if err := store.CheckCounter(counter); err != nil {
		return 0, fmt.Errorf("memstore: get counter: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	sh := &s.counters[s.counterShard(counter)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[counter], nil
}

// after reports whether (at, id) comes after the cursor.
func after(at time.Time, id uuid.UUID, c store.Cursor) bool {
	if c.At.IsZero() && c.ID == uuid.Nil {
		return true
	}
	if d := at.Compare(store.NormalizeTime(c.At)); d != 0 {
		return d > 0
	}
	return slices.Compare(id[:], c.ID[:]) > 0
}

// ListConversions implements [store.ConversionStore].
func (s *Store) ListConversions(ctx context.Context, p store.ListConversionsParams) ([]store.Conversion, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	from, to := store.NormalizeTime(p.From), store.NormalizeTime(p.To)
	s.mu.RLock()
	var out []store.Conversion
	for _, c := range s.conversions {
		t := c.EventTime()
		if c.AffiliateID == p.AffiliateID && !t.Before(from) && t.Before(to) && after(t, c.ID, p.After) {
			out = append(out, cloneConversion(c))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b store.Conversion) int {
		return cmp.Or(a.EventTime().Compare(b.EventTime()), slices.Compare(a.ID[:], b.ID[:]))
	})
	return truncate(out, store.ListLimit(p.Limit, 100)), nil
}

func truncate[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n:n]
	}
	return s
}

// InsertLedgerLines implements [store.LedgerStore].
func (s *Store) InsertLedgerLines(ctx context.Context, p store.InsertLedgerLinesParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p = p.Normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	var exists error
	for _, l := range p.Lines {
		if l.ConversionID != uuid.Nil {
			if _, ok := s.conversions[l.ConversionID]; !ok {
				return fmt.Errorf("memstore: ledger line %s: conversion %s does not exist: %w", l.ID, l.ConversionID, store.ErrInvalid)
			}
		}
		if old, ok := s.ledger[l.ID]; ok {
			if !old.Equal(l) {
				exists = fmt.Errorf("memstore: ledger line %s exists with other content: %w", l.ID, store.ErrConflict)
			} else if exists == nil {
				exists = fmt.Errorf("memstore: ledger line %s: %w", l.ID, store.ErrDuplicate)
			}
		}
	}
	if exists != nil {
		return exists
	}
	for _, l := range p.Lines {
		s.addLine(l)
	}
	return nil
}

// addLine stores a new ledger line. s.mu is held.
func (s *Store) addLine(l store.LedgerLine) {
	s.ledger[l.ID] = &l
	if l.ConversionID != uuid.Nil {
		s.lineOf[l.ConversionID] = append(s.lineOf[l.ConversionID], l.ID)
	}
}

// ListConversionLines implements [store.LedgerStore].
func (s *Store) ListConversionLines(ctx context.Context, p store.ListConversionLinesParams) ([]store.LedgerLine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []store.LedgerLine
	for _, id := range s.lineOf[p.ConversionID] {
		if l := s.ledger[id]; after(l.CreatedAt, l.ID, p.After) {
			out = append(out, l.Normalize()) // a copy that shares nothing with the store
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b store.LedgerLine) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), slices.Compare(a.ID[:], b.ID[:]))
	})
	return truncate(out, store.ListLimit(p.Limit, 100)), nil
}

// ListLedgerLines implements [store.LedgerStore].
func (s *Store) ListLedgerLines(ctx context.Context, p store.ListLedgerLinesParams) ([]store.LedgerLine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	from, to := store.NormalizeTime(p.From), store.NormalizeTime(p.To)
	s.mu.RLock()
	var out []store.LedgerLine
	for _, l := range s.ledger {
		t := p.By.ListTime(*l)
		if l.AffiliateID == p.AffiliateID && !t.Before(from) && t.Before(to) && after(t, l.ID, p.After) {
			out = append(out, l.Normalize()) // a copy that shares nothing with the store
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b store.LedgerLine) int {
		return cmp.Or(p.By.ListTime(a).Compare(p.By.ListTime(b)), slices.Compare(a.ID[:], b.ID[:]))
	})
	return truncate(out, store.ListLimit(p.Limit, 100)), nil
}

func cloneDelivery(d *store.Delivery) store.Delivery {
	out := *d
	out.Header = d.Header.Clone()
	out.Body = slices.Clone(d.Body)
	out.Attempts = slices.Clone(d.Attempts)
	return out
}

// LeaseDeliveries implements [store.DeliveryStore].
func (s *Store) LeaseDeliveries(ctx context.Context, p store.LeaseParams) ([]store.Lease, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := store.NormalizeTime(p.Now)
	expires := store.NormalizeTime(p.Now.Add(p.LeaseFor))
	var excluded map[string]bool
	if len(p.Exclude) > 0 {
		excluded = make(map[string]bool, len(p.Exclude))
		for _, name := range p.Exclude {
			excluded[name] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	due := s.due.lease(now, expires, store.ListLimit(p.Limit, 10), excluded)
	leases := make([]store.Lease, len(due))
	for i, d := range due {
		leases[i] = store.Lease{Delivery: cloneDelivery(&d.d), Token: d.token, ExpiresAt: expires}
	}
	return leases, nil
}

// RecordAttempt implements [store.DeliveryStore].
func (s *Store) RecordAttempt(ctx context.Context, p store.RecordAttemptParams) (store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return store.Delivery{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recordAttempt(p)
}

// RecordAttempts implements [store.AttemptRecorder]: the attempts are recorded one by one, in
// the order of their FinishedAt, under one hold of the store's lock, so that a reader sees
// all of them recorded or none.
func (s *Store) RecordAttempts(ctx context.Context, ps []store.RecordAttemptParams) ([]store.Delivery, []error) {
	out, errs := make([]store.Delivery, len(ps)), make([]error, len(ps))
	order := make([]int, 0, len(ps))
	for i, p := range ps {
		switch {
		case len(ps) > store.MaxLines:
			errs[i] = fmt.Errorf("memstore: record attempts: %d attempts, at most %d in one call: %w", len(ps), store.MaxLines, store.ErrInvalid)
		default:
			errs[i] = p.Validate()
		}
		if errs[i] == nil {
			order = append(order, i)
		}
	}
	if err := ctx.Err(); err != nil {
		for _, i := range order {
			errs[i] = err
		}
		return out, errs
	}
	slices.SortStableFunc(order, func(i, j int) int { return ps[i].Attempt.FinishedAt.Compare(ps[j].Attempt.FinishedAt) })
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range order {
		out[i], errs[i] = s.recordAttempt(ps[i])
	}
	return out, errs
}

// recordAttempt records the attempt of valid parameters p, under s.mu.
func (s *Store) recordAttempt(p store.RecordAttemptParams) (store.Delivery, error) {
	a := p.Attempt.Normalize()
	d, ok := s.deliveries[p.DeliveryID]
	if !ok {
		return store.Delivery{}, fmt.Errorf("memstore: delivery %s: %w", p.DeliveryID, store.ErrNotFound)
	}
	if d.token != p.Token || d.d.Status != store.DeliveryPending || !a.FinishedAt.Before(d.leaseExpires) {
		return store.Delivery{}, fmt.Errorf("memstore: delivery %s, lease %d: %w", p.DeliveryID, p.Token, store.ErrLeaseLost)
	}
	d.d.Attempts = append(d.d.Attempts, a)
	d.leaseExpires = time.Time{}
	d.d.Status = p.Status
	s.due.done(d)
	switch p.Status {
	case store.DeliveryPending:
		d.d.NextAttemptAt = store.NormalizeTime(p.NextAttemptAt)
		s.due.ready(d)
	case store.DeliveryDead:
		d.ep.dead[d] = struct{}{}
	}
	d.ep.attempted(a.FinishedAt, p.Status == store.DeliveryDelivered)
	return cloneDelivery(&d.d), nil
}

// attempted updates e's state with an attempt that finished at finished, as
// [store.DeliveryStore.RecordAttempt] says: by FinishedAt, so that an attempt recorded late
// never moves the state back.
func (e *endpoint) attempted(finished time.Time, delivered bool) {
	st := &e.state
	e.known = true
	if delivered {
		if finished.After(st.LastSuccessAt) {
			st.LastSuccessAt = finished
		}
		if !st.FailingSince.After(finished) {
			st.FailingSince = time.Time{}
		}
		return
	}
	if finished.After(st.LastSuccessAt) && !finished.Before(st.EnabledAt) &&
		(st.FailingSince.IsZero() || finished.Before(st.FailingSince)) {
		st.FailingSince = finished
	}
}

// GetDelivery implements [store.DeliveryStore].
func (s *Store) GetDelivery(ctx context.Context, id uuid.UUID) (store.Delivery, error) {
	if err := checkID("delivery", id); err != nil {
		return store.Delivery{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.deliveries[id]
	if !ok {
		return store.Delivery{}, fmt.Errorf("memstore: delivery %s: %w", id, store.ErrNotFound)
	}
	return cloneDelivery(&d.d), nil
}

// ListDeliveries implements [store.DeliveryStore].
func (s *Store) ListDeliveries(ctx context.Context, p store.ListDeliveriesParams) ([]store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []store.Delivery
	for _, d := range s.deliveries {
		if d.d.Status == p.Status && (p.Endpoint == "" || d.d.Endpoint == p.Endpoint) && after(d.d.CreatedAt, d.d.ID, p.After) {
			out = append(out, cloneDelivery(&d.d))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b store.Delivery) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), slices.Compare(a.ID[:], b.ID[:]))
	})
	return truncate(out, store.ListLimit(p.Limit, 100)), nil
}

// ListConversionDeliveries implements [store.DeliveryStore]: O(k log k) for the
// conversion's k deliveries.
func (s *Store) ListConversionDeliveries(ctx context.Context, p store.ListConversionDeliveriesParams) ([]store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []store.Delivery
	for _, d := range s.deliveryOf[p.ConversionID] {
		if after(d.d.CreatedAt, d.d.ID, p.After) {
			out = append(out, cloneDelivery(&d.d))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b store.Delivery) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), slices.Compare(a.ID[:], b.ID[:]))
	})
	return truncate(out, store.ListLimit(p.Limit, 100)), nil
}

// ReplayDelivery implements [store.DeliveryStore].
func (s *Store) ReplayDelivery(ctx context.Context, p store.ReplayDeliveryParams) (store.Delivery, error) {
	if err := p.Validate(); err != nil {
		return store.Delivery{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deliveries[p.DeliveryID]
	if !ok {
		return store.Delivery{}, fmt.Errorf("memstore: delivery %s: %w", p.DeliveryID, store.ErrNotFound)
	}
	if d.d.Status != store.DeliveryDead {
		return cloneDelivery(&d.d), fmt.Errorf("memstore: delivery %s is %s, only a dead delivery is replayed: %w", p.DeliveryID, d.d.Status, store.ErrConflict)
	}
	s.replay(d, store.NormalizeTime(p.At))
	return cloneDelivery(&d.d), nil
}

// replay makes the dead delivery d pending again, due at at, replayed at at. s.mu is held
// for writing.
func (s *Store) replay(d *delivery, at time.Time) {
	delete(d.ep.dead, d)
	d.d.Status = store.DeliveryPending
	d.d.NextAttemptAt, d.d.ReplayedAt = at, at
	s.due.ready(d)
}

// ReplayDeliveries implements [store.DeliveryStore]. It costs O(r log n) for the r dead
// deliveries of the endpoint, which it finds without a scan of the others.
func (s *Store) ReplayDeliveries(ctx context.Context, p store.ReplayDeliveriesParams) (int, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	before, at := store.NormalizeTime(p.CreatedBefore), store.NormalizeTime(p.At)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[p.Endpoint]
	if !ok {
		return 0, nil
	}
	var replayed []*delivery // collected first: replay changes e.dead
	for d := range e.dead {
		if before.IsZero() || d.d.CreatedAt.Before(before) {
			replayed = append(replayed, d)
		}
	}
	for _, d := range replayed {
		s.replay(d, at)
	}
	return len(replayed), nil
}

// checkEndpoint checks the name of an endpoint that a method looks up.
func checkEndpoint(name string) error {
	if err := store.CheckLookupKey(name); err != nil {
		return fmt.Errorf("memstore: get endpoint: %w", err)
	}
	return nil
}

// GetEndpoint implements [store.EndpointStore].
func (s *Store) GetEndpoint(ctx context.Context, name string) (store.EndpointState, error) {
	if err := checkEndpoint(name); err != nil {
		return store.EndpointState{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.EndpointState{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e, ok := s.endpoints[name]; ok {
		return e.state, nil // an endpoint never disabled nor attempted has the zero state
	}
	return store.EndpointState{Name: name}, nil
}

// ListEndpoints implements [store.EndpointStore]. It sorts the endpoints the store knows:
// O(e log e) for e endpoints, which are configured, so few.
func (s *Store) ListEndpoints(ctx context.Context, p store.ListEndpointsParams) ([]store.EndpointState, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []store.EndpointState
	for name, e := range s.endpoints {
		if e.known && name > p.After {
			out = append(out, e.state)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b store.EndpointState) int { return cmp.Compare(a.Name, b.Name) })
	return truncate(out, store.ListLimit(p.Limit, 100)), nil
}

// DisableEndpoint implements [store.EndpointStore]. Its deliveries stay where they are: the
// endpoint leaves the due index's heads, so leasing no longer looks at them.
func (s *Store) DisableEndpoint(ctx context.Context, p store.DisableEndpointParams) (store.EndpointState, error) {
	if err := p.Validate(); err != nil {
		return store.EndpointState{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.EndpointState{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.endpoint(p.Name)
	if e.state.Disabled {
		return e.state, fmt.Errorf("memstore: endpoint %q is disabled already: %w", p.Name, store.ErrDuplicate)
	}
	e.known = true
	e.state.Disabled, e.state.DisabledReason, e.state.DisabledAt = true, p.Reason, store.NormalizeTime(p.At)
	s.due.settle(e)
	return e.state, nil
}

// EnableEndpoint implements [store.EndpointStore].
func (s *Store) EnableEndpoint(ctx context.Context, p store.EnableEndpointParams) (store.EndpointState, error) {
	if err := p.Validate(); err != nil {
		return store.EndpointState{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.EndpointState{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[p.Name]
	if !ok || !e.state.Disabled {
		state := store.EndpointState{Name: p.Name}
		if ok {
			state = e.state
		}
		return state, fmt.Errorf("memstore: endpoint %q is enabled already: %w", p.Name, store.ErrDuplicate)
	}
	e.state.Disabled, e.state.DisabledReason, e.state.DisabledAt = false, "", time.Time{}
	e.state.EnabledAt, e.state.FailingSince = store.NormalizeTime(p.At), time.Time{}
	s.due.settle(e)
	return e.state, nil
}
