package postback

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// Dialect maps a sender's parameter names and vocabulary onto a [Postback]. Each field lists
// the parameter names (aliases) that carry it; a postback that sends one field under two
// aliases is rejected (ReasonRepeatedKey). Parameters mapped to nothing go to Postback.Extra,
// or are rejected with RejectUnknown.
//
// A Dialect is plain data: build one in code, load one with [ParseDialect], or start from a
// [Preset] and change it. A [Source] compiles it when created; later changes do not affect
// the source.
type Dialect struct {
	// Name names the dialect in logs.
	Name string `json:"name,omitempty"`

	ClickID       []string `json:"click_id,omitempty"`
	PlayerID      []string `json:"player_id,omitempty"`
	Event         []string `json:"event,omitempty"`
	Status        []string `json:"status,omitempty"`
	Amount        []string `json:"amount,omitempty"`
	Currency      []string `json:"currency,omitempty"`
	TransactionID []string `json:"transaction_id,omitempty"`
	// OccurredAt carries the event time: Unix seconds or RFC 3339, after 1970-01-01T00:00:00Z
	// (0 is no time) and before the year 10000.
	OccurredAt []string `json:"occurred_at,omitempty"`
	// Subs[i] is the parameter that carries sub ID i+1; at most MaxSubs.
	Subs []string `json:"subs,omitempty"`
	// Lots carries the volume of a trade in lots ("0.5"), positive, with the grammar of
	// money.ParseRate without a unit; Symbol its instrument ("EURUSD"), an identifier.
	Lots   []string `json:"lots,omitempty"`
	Symbol []string `json:"symbol,omitempty"`
	// AccountSize carries the account size of a prop-firm challenge purchase, in the
	// currency of the amount, not negative.
	AccountSize []string `json:"account_size,omitempty"`
	// Rounds carries the number of rounds of a wager: decimal digits, at most MaxRounds.
	Rounds []string `json:"rounds,omitempty"`

	// Events maps sent event values to events; a value not in it is kept as a custom event.
	Events map[string]event.Type `json:"events,omitempty"`
	// DefaultEvent is the event of a postback that sends none. Empty means such a postback
	// is rejected (ReasonMissingEvent).
	DefaultEvent event.Type `json:"default_event,omitempty"`
	// Statuses maps sent status values to statuses. Nil means the values are the
	// event.Status constants' own names ("approved", "pending", "rejected", "reversed").
	Statuses map[string]event.Status `json:"statuses,omitempty"`
	// DefaultStatus is the status of a postback that sends none; empty means
	// event.StatusApproved.
	DefaultStatus event.Status `json:"default_status,omitempty"`
	// UnknownStatus is the status given to a value not in Statuses (the value is kept in
	// OriginalStatus). Empty means such a postback is rejected (ReasonUnknownStatus).
	UnknownStatus event.Status `json:"unknown_status,omitempty"`
	// DefaultCurrency is the ISO 4217 code of amounts sent without a currency, for senders
	// whose amounts are in the offer's currency. A dialect that reads an amount but no
	// currency parameter needs it: without one NewSource (and ParseDialect) refuse the
	// dialect, which could read no amount at all. Where the dialect has a currency
	// parameter, empty means that an amount sent without one is rejected
	// (ReasonMissingCurrency): a sender's omission is reported, never papered over with a
	// guess.
	DefaultCurrency string `json:"default_currency,omitempty"`
	// DecimalComma also accepts ',' as the decimal separator of amounts ("12,34").
	DecimalComma bool `json:"decimal_comma,omitempty"`
	// RejectUnknown rejects parameters mapped to no field (ReasonUnknownParam) instead of
	// keeping them in Postback.Extra.
	RejectUnknown bool `json:"reject_unknown,omitempty"`
	// TokenParam is the parameter that carries the static token of a MethodToken source when
	// Auth.TokenParam is empty.
	TokenParam string `json:"token_param,omitempty"`
}

// ParseDialect decodes a Dialect from JSON, with the field names of its struct tags (such
// as {"name":"acme","click_id":["cid"],"amount":["payout"]}), and checks it. Unknown JSON
// fields are errors wrapping ErrConfig.
func ParseDialect(data []byte) (*Dialect, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	d := new(Dialect)
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("%w: dialect: %v", ErrConfig, err)
	}
	if _, err := d.compile(); err != nil {
		return nil, err
	}
	return d, nil
}

type fieldKind uint8

const (
	fNone fieldKind = iota
	fClick
	fPlayer
	fEvent
	fStatus
	fAmount
	fCurrency
	fTxn
	fOccurred
	fLots
	fSymbol
	fAccountSize
	fRounds
	fSub    // + sub index 0..MaxSubs-1
	nFields = fSub + MaxSubs
)

// compiled is a Dialect ready for use.
type compiled struct {
	name          string
	fields        fieldTable
	events        map[string]event.Type
	statuses      map[string]event.Status
	defaultEvent  event.Type
	defaultStatus event.Status
	unknownStatus event.Status
	currency      money.Currency
	amountOpts    money.ParseOptions
	rejectUnknown bool
	tokenParam    string
}

func (d *Dialect) compile() (*compiled, error) {
	names, err := d.names()
	if err != nil {
		return nil, err
	}
	if err := d.checkValues(); err != nil {
		return nil, err
	}
	c := &compiled{
		name:          d.Name,
		fields:        newFieldTable(names),
		events:        maps.Clone(d.Events),
		statuses:      maps.Clone(d.Statuses),
		defaultEvent:  d.DefaultEvent,
		defaultStatus: d.DefaultStatus,
		unknownStatus: d.UnknownStatus,
		amountOpts:    money.ParseOptions{DecimalComma: d.DecimalComma},
		rejectUnknown: d.RejectUnknown,
		tokenParam:    d.TokenParam,
	}
	if c.defaultStatus == "" {
		c.defaultStatus = event.StatusApproved
	}
	if d.DefaultCurrency != "" {
		if c.currency, err = money.ParseCurrency(d.DefaultCurrency); err != nil {
			return nil, fmt.Errorf("%w: dialect %q: %w", ErrConfig, d.Name, err)
		}
	}
	return c, nil
}

// names returns the field that each parameter name of d carries. A dialect maps a click ID
// or a player ID, at most MaxSubs sub IDs, and each name once.
func (d *Dialect) names() (map[string]fieldKind, error) {
	if len(d.ClickID) == 0 && len(d.PlayerID) == 0 {
		return nil, fmt.Errorf("%w: dialect %q maps neither click ID nor player ID", ErrConfig, d.Name)
	}
	if len(d.Subs) > MaxSubs {
		return nil, fmt.Errorf("%w: dialect %q: %d subs, at most %d", ErrConfig, d.Name, len(d.Subs), MaxSubs)
	}
	names := map[string]fieldKind{}
	add := func(kind fieldKind, list ...string) error {
		for _, n := range list {
			if n == "" {
				return fmt.Errorf("%w: dialect %q: empty parameter name", ErrConfig, d.Name)
			}
			if _, dup := names[n]; dup {
				return fmt.Errorf("%w: dialect %q: parameter %q mapped twice", ErrConfig, d.Name, n)
			}
			names[n] = kind
		}
		return nil
	}
	for _, f := range []struct {
		k     fieldKind
		names []string
	}{
		{fClick, d.ClickID}, {fPlayer, d.PlayerID}, {fEvent, d.Event}, {fStatus, d.Status},
		{fAmount, d.Amount}, {fCurrency, d.Currency}, {fTxn, d.TransactionID}, {fOccurred, d.OccurredAt},
		{fLots, d.Lots}, {fSymbol, d.Symbol}, {fAccountSize, d.AccountSize}, {fRounds, d.Rounds},
	} {
		if err := add(f.k, f.names...); err != nil {
			return nil, err
		}
	}
	for i, n := range d.Subs {
		if err := add(fSub+fieldKind(i), n); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// checkValues checks the values d maps to: statuses of package event, events that a store
// accepts as identifiers, a currency for the amounts it reads.
func (d *Dialect) checkValues() error {
	for _, s := range append(slices.Collect(maps.Values(d.Statuses)), d.DefaultStatus, d.UnknownStatus) {
		if s != "" && !s.Valid() {
			return fmt.Errorf("%w: dialect %q: unknown status %q", ErrConfig, d.Name, s)
		}
	}
	for _, e := range append(slices.Collect(maps.Values(d.Events)), d.DefaultEvent) {
		if err := store.CheckKey(string(e)); err != nil {
			return fmt.Errorf("%w: dialect %q: event: %w", ErrConfig, d.Name, err)
		}
	}
	for sent, e := range d.Events {
		if e == "" {
			return fmt.Errorf("%w: dialect %q: event %q maps to no event", ErrConfig, d.Name, sent)
		}
	}
	if d.DefaultCurrency == "" && len(d.Amount) > 0 && len(d.Currency) == 0 {
		return fmt.Errorf("%w: dialect %q reads an amount but no currency: set DefaultCurrency to the currency its amounts are in", ErrConfig, d.Name)
	}
	return nil
}

// fieldTable finds the field a parameter name carries. It is an open-addressed table keyed
// by the name's first eight bytes and its length, which split has already computed for
// sorting (prefix8): a lookup costs a multiplication and, for most names, one comparison of
// integers, where a map would hash the string again. BenchmarkLookup measures it beside a map.
type fieldTable struct {
	slots []fieldSlot
	mask  uint // len(slots)-1
}

type fieldSlot struct {
	pfx  uint64 // prefix8(name)
	name string
	kind fieldKind // fNone for an empty slot
}

// newFieldTable returns the table of names, at most a quarter full.
func newFieldTable(names map[string]fieldKind) fieldTable {
	size := 16
	for size < 4*len(names) {
		size *= 2
	}
	t := fieldTable{slots: make([]fieldSlot, size), mask: uint(size - 1)}
	for name, kind := range names {
		pfx := prefix8(name)
		i := fieldHash(pfx, len(name)) & t.mask
		for t.slots[i].kind != fNone {
			i = (i + 1) & t.mask
		}
		t.slots[i] = fieldSlot{pfx, name, kind}
	}
	return t
}

// fieldHash hashes a parameter name by its prefix8 and its length.
func fieldHash(pfx uint64, n int) uint {
	return uint((pfx ^ uint64(n)) * 0x9E3779B97F4A7C15 >> 40)
}

// lookup returns the field that parameter k carries; pfx is prefix8(k). A name of at most
// eight bytes is known by its prefix and length alone.
func (t *fieldTable) lookup(k string, pfx uint64) (fieldKind, bool) {
	for i := fieldHash(pfx, len(k)); ; i++ {
		s := &t.slots[i&t.mask]
		if s.pfx == pfx && len(s.name) == len(k) && (len(k) <= 8 || s.name[8:] == k[8:]) || s.kind == fNone {
			return s.kind, s.kind != fNone
		}
	}
}

// Native returns the library's own dialect, the one the s2s v1 examples use: click_id,
// player_id, event, status, amount, currency, txn_id, occurred_at, lots, symbol,
// account_size, rounds and sub1 to sub15, with the
// names of package event's constants as values ("ftd", "revenue", "approved"...). A postback
// must send an event.
func Native() *Dialect {
	return &Dialect{
		Name:          "s2s",
		ClickID:       []string{"click_id"},
		PlayerID:      []string{"player_id"},
		Event:         []string{"event"},
		Status:        []string{"status"},
		Amount:        []string{"amount"},
		Currency:      []string{"currency"},
		TransactionID: []string{"txn_id"},
		OccurredAt:    []string{"occurred_at"},
		Lots:          []string{"lots"},
		Symbol:        []string{"symbol"},
		AccountSize:   []string{"account_size"},
		Rounds:        []string{"rounds"},
		Subs:          numbered("sub", 1, MaxSubs),
	}
}

func numbered(prefix string, from, to int) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, prefix+strconv.Itoa(i))
	}
	return s
}

// PresetNames returns the names that [Preset] knows, sorted.
func PresetNames() []string {
	return slices.Sorted(maps.Keys(presets))
}

// Preset returns a new copy of the dialect of a well-known sender: "affise", "binom",
// "cake", "everflow", "keitaro", "myaffiliates", "redtrack", "scaleo", "tune" (TUNE /
// HasOffers) or "voluum". The presets of senders whose postbacks carry no currency (the
// amount is in the offer's currency: Affise, CAKE, Everflow, RedTrack, Scaleo, TUNE) need
// DefaultCurrency set before use, or NewSource refuses them. Binom's cnv_currency is
// optional: set DefaultCurrency to its account currency unless every postback URL sends
// cnv_currency, or a payout without it is rejected (ReasonMissingCurrency). The error wraps
// ErrConfig.
func Preset(name string) (*Dialect, error) {
	f, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("%w: no preset %q", ErrConfig, name)
	}
	return f(), nil
}

// presets builds each preset afresh, so that no caller can change another's copy.
var presets = map[string]func() *Dialect{
	// Everflow: GET ?nid=&transaction_id=&amount=&event_id=&order_id=&adv1..adv10=
	// &verification_token=; amounts in the offer currency, "12,34" accepted.
	"everflow": func() *Dialect {
		return &Dialect{
			Name: "everflow", ClickID: []string{"transaction_id"}, PlayerID: []string{"user_id"},
			Event: []string{"event_id", "adv_event_id"}, Amount: []string{"amount"},
			TransactionID: []string{"order_id"}, Subs: numbered("adv", 1, 10),
			DefaultEvent: event.Conversion, DecimalComma: true, TokenParam: "verification_token",
		}
	},
	// TUNE / HasOffers: GET /aff_lsr?transaction_id=&amount=&adv_sub=&goal_id=&security_token=
	"tune": func() *Dialect {
		return &Dialect{
			Name: "tune", ClickID: []string{"transaction_id"}, Amount: []string{"amount"},
			TransactionID: []string{"adv_sub"}, Event: []string{"goal_id"},
			Subs:         append([]string{"aff_sub"}, append(numbered("aff_sub", 2, 5), numbered("adv_sub", 2, 5)...)...),
			DefaultEvent: event.Conversion, TokenParam: "security_token",
		}
	},
	// CAKE: GET p.ashx?o=&e=&f=pb&r=REQID&t=TRANSACTION&p=PRICE, or ?click_id=&amount=
	"cake": func() *Dialect {
		return &Dialect{
			Name: "cake", ClickID: []string{"r", "reqid", "click_id"}, Amount: []string{"p", "amount"},
			TransactionID: []string{"t"}, Event: []string{"e"}, Subs: numbered("s", 1, 5),
			DefaultEvent: event.Conversion,
		}
	},
	// Affise: GET /postback?clickid=&action_id=&goal=&sum=&status=&secure=&custom_field1..15=
	// with statuses 1 approved, 2 pending, 3 declined, 5 hold.
	"affise": func() *Dialect {
		return &Dialect{
			Name: "affise", ClickID: []string{"clickid", "click_id", "afclick"}, PlayerID: []string{"user_id"},
			TransactionID: []string{"action_id"}, Event: []string{"goal"}, Amount: []string{"sum"},
			Status: []string{"status"}, Subs: numbered("custom_field", 1, 15),
			Statuses:     map[string]event.Status{"1": event.StatusApproved, "2": event.StatusPending, "3": event.StatusRejected, "5": event.StatusPending},
			DefaultEvent: event.Conversion, TokenParam: "secure",
		}
	},
	// Scaleo: GET /track/conv?click_id=&token=&goal_id=&goal_alias=&conv_status=&amount=
	// &adv_order_id=&adv_user_id=&sub_id1..5=&aff_param1..5=
	"scaleo": func() *Dialect {
		return &Dialect{
			Name: "scaleo", ClickID: []string{"click_id"}, PlayerID: []string{"adv_user_id"},
			Event: []string{"goal_id", "goal_alias"}, Status: []string{"conv_status"}, Amount: []string{"amount"},
			TransactionID: []string{"adv_order_id"},
			Subs:          append(numbered("sub_id", 1, 5), numbered("aff_param", 1, 5)...),
			Statuses: map[string]event.Status{
				"approved": event.StatusApproved, "pending": event.StatusPending, "rejected": event.StatusRejected, "hold": event.StatusPending,
			},
			DefaultEvent: event.Conversion, TokenParam: "token",
		}
	},
	// Voluum: GET /postback?cid=&payout=&txid=&currency=&et=&param1..5=
	"voluum": func() *Dialect {
		return &Dialect{
			Name: "voluum", ClickID: []string{"cid"}, Amount: []string{"payout"}, TransactionID: []string{"txid"},
			Currency: []string{"currency"}, Event: []string{"et"}, Subs: numbered("param", 1, 5),
			DefaultEvent: event.Conversion,
		}
	},
	// Keitaro: GET /{key}/postback?subid=&tid=&payout=&status=&currency=&sub_id_1..15=
	// (revenue is an alias of payout; status lead, sale, rejected or rebill, sale by default).
	"keitaro": func() *Dialect {
		return &Dialect{
			Name: "keitaro", ClickID: []string{"subid"}, TransactionID: []string{"tid"},
			Amount: []string{"payout", "revenue"}, Status: []string{"status"}, Currency: []string{"currency"},
			Subs: numbered("sub_id_", 1, 15),
			Statuses: map[string]event.Status{
				"lead": event.StatusPending, "sale": event.StatusApproved, "rejected": event.StatusRejected, "rebill": event.StatusApproved,
			},
			DefaultEvent: event.Conversion,
		}
	},
	// Binom: GET click.php?cnv_id=&payout=&cnv_status=&cnv_currency= (cnv_status is free
	// text: unknown values become pending, the value is kept; cnv_currency is optional, see
	// Preset).
	"binom": func() *Dialect {
		return &Dialect{
			Name: "binom", ClickID: []string{"cnv_id", "clickid"}, Amount: []string{"payout"},
			Status: []string{"cnv_status"}, Currency: []string{"cnv_currency"},
			Statuses: map[string]event.Status{
				"approved": event.StatusApproved, "sale": event.StatusApproved, "pending": event.StatusPending, "lead": event.StatusPending,
				"hold": event.StatusPending, "rejected": event.StatusRejected, "declined": event.StatusRejected,
			},
			UnknownStatus: event.StatusPending, DefaultEvent: event.Conversion,
		}
	},
	// RedTrack: GET /postback?clickid=&sum=&type=&rdtk_event_id=
	"redtrack": func() *Dialect {
		return &Dialect{
			Name: "redtrack", ClickID: []string{"clickid"}, Amount: []string{"sum"}, Event: []string{"type"},
			TransactionID: []string{"rdtk_event_id"}, DefaultEvent: event.Conversion,
		}
	},
	// MyAffiliates: the receiver writes the URL with MyAffiliates' tokens, one of {payload},
	// {s2s.req_id} or {s2s.pub_id} (not interchangeable) as the click ID, for example
	// ?payload={payload}&player_id={player_id}&event=registration.
	"myaffiliates": func() *Dialect {
		return &Dialect{
			Name: "myaffiliates", ClickID: []string{"payload", "req_id", "pub_id"}, PlayerID: []string{"player_id"},
			Event: []string{"event"}, Amount: []string{"amount"}, Currency: []string{"currency"},
			TransactionID: []string{"txn_id"}, DefaultEvent: event.Registration,
		}
	},
}
