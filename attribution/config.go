package attribution

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/internal/jsonfield"
	"github.com/s2skit/s2s/store"
)

// Config is a programme's attribution rules, as data: it round-trips through JSON
// ([Config.UnmarshalJSON] is strict) and [Config.Validate] names the field of the first
// problem. [New] compiles it into a [Decider].
//
// What decides between campaigns is the programme's (Model, Priority, Skew, Dedup): a
// player's clicks and claims may come from several campaigns, and the dedup key of an event
// must not depend on who wins it (a retry must meet its original whatever changed in
// between). What a campaign promises its affiliates is the campaign's (Rules: windows,
// lifetime binding, re-attribution, zone, caps, fraud bounds).
type Config struct {
	// Model chooses among a player's clicks: ModelLastClick (the default, also for "") or
	// ModelFirstClick.
	Model Model `json:"model,omitempty"`
	// Priority ranks the ways a player can be claimed when several apply to one event: the
	// first listed wins. The default is DefaultPriority (promo code, then signed token, then
	// click, then manual). Methods left out rank after those listed, in the default order.
	Priority []store.BindingMethod `json:"priority,omitempty"`
	// Skew is the clock-skew tolerance: an event that claims to occur more than Skew after
	// the receive time, or more than Skew before its click, is rejected (CodeEventInFuture,
	// CodeEventBeforeClick), never clamped. An exact duration, at most 24h; zero means
	// DefaultSkew.
	Skew Span `json:"skew,omitzero"`
	// Dedup is the dedup policy: which events count once, and by what.
	Dedup Dedup `json:"dedup,omitzero"`
	// Default are the rules of a campaign not listed in Campaigns, and of an event with no
	// campaign.
	Default Rules `json:"default,omitzero"`
	// Campaigns are the campaigns with rules of their own, by ID (unique, non-empty).
	Campaigns []Campaign `json:"campaigns,omitempty"`
}

// DefaultSkew is the clock-skew tolerance of a Config that sets none.
const DefaultSkew = 5 * time.Minute

// maxSkew is the largest clock-skew tolerance accepted.
const maxSkew = 24 * time.Hour

// DefaultPriority returns the default binding priority, in a new slice: promo code, then
// signed token (btag), then click, then manual.
func DefaultPriority() []store.BindingMethod {
	return []store.BindingMethod{store.BindByPromoCode, store.BindByToken, store.BindByClick, store.BindManually}
}

// Campaign is a campaign's ID and its rules. In JSON the rules' fields sit beside "id".
type Campaign struct {
	ID string `json:"id"` // required, unique in a Config; store.CheckKey rules
	Rules
}

// Rules are what a campaign promises its affiliates.
type Rules struct {
	// Zone is the campaign's IANA time zone ("Europe/Malta"): day windows and cap buckets are
	// calendar days in it. Empty is UTC.
	Zone string `json:"zone,omitempty"`
	// Windows are the attribution windows.
	Windows Windows `json:"windows,omitzero"`
	// Lifetime binds a player to the affiliate who acquired them: the first attributed event
	// of an unbound player creates a binding (Decision.Binding), and the player's later
	// events follow it rather than their latest click.
	Lifetime bool `json:"lifetime,omitempty"`
	// Reattribute, when set, lets a player bound in this campaign be re-attributed to a new
	// click after that long without activity (Input.LastActivity). Zero (the default) is
	// never.
	Reattribute Span `json:"reattribute,omitzero"`
	// Caps limit what the campaign credits per day, week, month or lifetime (at most
	// MaxCaps): see Cap and the package doc, # Caps.
	Caps []Cap `json:"caps,omitempty"`
	// Fraud are the fraud bounds: time to convert and self-referral (see Fraud and the
	// package doc, # Fraud rules).
	Fraud Fraud `json:"fraud,omitzero"`
}

// Window names an attribution window of a campaign: the JSON field of Windows that holds it.
type Window string

// The windows.
const (
	// WindowDefault is click → any event: the window of an event with none of its own.
	WindowDefault Window = "default"
	// WindowRegistration is click → registration.
	WindowRegistration Window = "registration"
	// WindowFTD is click → first-time deposit.
	WindowFTD Window = "ftd"
	// WindowRegistrationFTD is registration → first-time deposit, measured from the player's
	// binding (PlayerBinding.BoundAt).
	WindowRegistrationFTD Window = "registration_ftd"
	// WindowEvent is click → an event of Windows.Events.
	WindowEvent Window = "events"
)

// Windows are a campaign's attribution windows: how long after its click (or the player's
// registration) an event may occur and still be attributed. Each is a [Span]: "30d" is 30
// calendar days in the campaign's zone, "72h" exact hours. The zero Span is no window: any
// time after the click. Ends are inclusive (Span.Contains).
type Windows struct {
	// Default is click → any event: the window of every event without one of its own below.
	Default Span `json:"default,omitzero"`
	// Registration is click → registration, overriding Default.
	Registration Span `json:"registration,omitzero"`
	// FTD is click → first-time deposit, overriding Default.
	FTD Span `json:"ftd,omitzero"`
	// RegistrationFTD is registration → first-time deposit: an FTD of a bound player more
	// than this after the binding is not attributed (CodeWindowExpired). Zero is none.
	RegistrationFTD Span `json:"registration_ftd,omitzero"`
	// Events are click → event windows for other event types (deposit, trade, a custom
	// goal...), overriding Default. Registration and FTD have their fields above, and are
	// refused here.
	Events map[event.Type]Span `json:"events,omitempty"`
}

// click returns the click window that applies to an event of type t, and its name.
// IsZero reports whether w sets no window (an empty Events map counts as none), so that JSON's
// omitzero leaves it out and a decoded config encodes back the same.
func (w Windows) IsZero() bool {
	return w.Default.IsZero() && w.Registration.IsZero() && w.FTD.IsZero() && w.RegistrationFTD.IsZero() && len(w.Events) == 0
}

func (w *Windows) click(t event.Type) (Span, Window) {
	switch t {
	case event.Registration:
		if !w.Registration.IsZero() {
			return w.Registration, WindowRegistration
		}
	case event.FTD:
		if !w.FTD.IsZero() {
			return w.FTD, WindowFTD
		}
	default:
		if s, ok := w.Events[t]; ok && !s.IsZero() {
			return s, WindowEvent
		}
	}
	return w.Default, WindowDefault
}

// Model names an attribution model: how a decision chose its affiliate. [Config.Model] is
// one of the click models; [Decision.Model] is any of them.
type Model string

// The models.
const (
	// ModelLastClick credits the player's latest eligible click (the default).
	ModelLastClick Model = "last_click"
	// ModelFirstClick credits the player's earliest eligible click.
	ModelFirstClick Model = "first_click"
	// ModelBinding credits the affiliate the player is bound to (lifetime binding).
	ModelBinding Model = "lifetime_binding"
	// ModelReattribution credits a new click of a bound player after the inactivity of
	// Rules.Reattribute: the player is bound anew.
	ModelReattribution Model = "reattribution"
	// ModelPromoCode credits the affiliate of a promo code claim.
	ModelPromoCode Model = "promo_code"
	// ModelToken credits the affiliate of a signed token (btag) claim.
	ModelToken Model = "token"
	// ModelManual credits the affiliate of an operator's claim.
	ModelManual Model = "manual"
	// ModelNone is the model of an unattributed decision: nobody is credited.
	ModelNone Model = "none"
)

// Dedup is the dedup policy: the Mode of every event, unless Events names another for its
// type. The zero Dedup is DedupEventTransaction for every event.
type Dedup struct {
	Mode   DedupMode                `json:"mode,omitempty"`
	Events map[event.Type]DedupMode `json:"events,omitempty"`
}

// mode returns the mode of events of type t.
// IsZero reports whether d is the default policy (an empty Events map counts as none), so that
// JSON's omitzero leaves it out and a decoded config encodes back the same.
func (d Dedup) IsZero() bool { return d.Mode == "" && len(d.Events) == 0 }

func (d *Dedup) mode(t event.Type) DedupMode {
	if m, ok := d.Events[t]; ok && m != "" {
		return m
	}
	if d.Mode == "" {
		return DedupEventTransaction
	}
	return d.Mode
}

// DedupMode names a dedup mode: what makes two postbacks one event. Every key is namespaced
// by the source, so two senders' "T1" never meet; see the package doc, # Dedup.
type DedupMode string

// The dedup modes.
const (
	// DedupEventTransaction (the default) counts once per source, event and transaction ID:
	// one transaction may carry several events (a deposit, then its reversal). An event that
	// happens once for a player or a click (a registration, a verification, a vendor's main
	// conversion) may come without a transaction ID and then counts once per player, or
	// else per click; any other event without one is refused (CodeMissingTransactionID).
	// Its key is the one postback used to build: stored keys stay valid.
	DedupEventTransaction DedupMode = "event_transaction"
	// DedupTransaction counts once per source and transaction ID, whatever the event:
	// a later event of one transaction is the same conversion (a status update or a
	// conflict). Without a transaction ID the event is refused (CodeMissingTransactionID).
	DedupTransaction DedupMode = "transaction"
	// DedupPlayerEvent counts once per source, event and player: one registration, one FTD
	// per player, whatever the transaction IDs. Without a player ID the event is refused
	// (CodeMissingPlayerID).
	DedupPlayerEvent DedupMode = "player_event"
	// DedupEvery records every postback: its key is made of the conversion's own ID
	// (store.Conversion.ID, which the caller sets before deciding), so a sender's retry is a
	// new conversion while the caller's own retry of one write, with the same ID, is not.
	// Without an ID the event is refused (CodeMissingConversionID).
	DedupEvery DedupMode = "every"
)

// valid reports whether m is one of the modes.
func (m DedupMode) valid() bool {
	switch m {
	case DedupEventTransaction, DedupTransaction, DedupPlayerEvent, DedupEvery:
		return true
	}
	return false
}

// UnmarshalJSON implements json.Unmarshaler, strictly: a field Config does not define is an
// error (a misspelt "lifetme" would otherwise be a promise silently dropped), as is a value
// of the wrong JSON type or a Span that is not "30d" or a Go duration. The error wraps
// ErrInvalidConfig and names the field (`campaigns[2].windows.ftd: ...`). Decoding does not
// validate: call Validate, or New, which does.
func (c *Config) UnmarshalJSON(b []byte) error {
	type plain Config // Config without its methods
	var tree any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the config", ErrInvalidConfig)
	}
	if err := checkTree(tree, reflect.TypeFor[plain](), ""); err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v plain
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, ErrInvalidConfig) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	*c = Config(v)
	// An empty list of caps is none, so that a decoded config encodes back the same.
	if len(c.Default.Caps) == 0 {
		c.Default.Caps = nil
	}
	for i := range c.Campaigns {
		if len(c.Campaigns[i].Caps) == 0 {
			c.Campaigns[i].Caps = nil
		}
	}
	return nil
}

var (
	spanType        = reflect.TypeFor[Span]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkTree checks the decoded JSON value v against the type t it decodes into, so that an
// error names the field where encoding/json would not: an unknown field, a Span that does
// not parse, a value of the wrong JSON type, a value its type's own decoder refuses.
func checkTree(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := path
	if name == "" {
		name = "config"
	}
	bad := func(format string, args ...any) error {
		return &configError{field: name, problem: fmt.Sprintf(format, args...)}
	}
	if v == nil { // null leaves the field as it is, as encoding/json does
		return nil
	}
	switch {
	case t == actionType:
		s, ok := v.(string)
		if !ok {
			return bad("want an action (allow, flag, hold or reject), not %s", jsonKind(v))
		}
		if _, ok := parseAction(s); !ok {
			return bad("action %q: want allow, flag, hold or reject", s)
		}
		return nil
	case t == spanType:
		s, ok := v.(string)
		if !ok {
			return bad("want a span such as \"30d\" or \"72h\", not %s", jsonKind(v))
		}
		if _, ok := parseSpan(s); !ok {
			return bad("span %q: want whole days like \"30d\" (at most %d) or a Go duration like \"72h\"", s, MaxSpanDays)
		}
		return nil
	case reflect.PointerTo(t).Implements(unmarshalerType):
		// A type with a decoder of its own (money.Amount): decode the value here, so that its
		// error names the field.
		b, err := json.Marshal(v)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b)
		}
		if err != nil {
			return bad("%v", err)
		}
		return nil
	case reflect.PointerTo(t).Implements(textType):
		s, ok := v.(string)
		if !ok {
			return bad("want a string, not %s", jsonKind(v))
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return bad("%v", err)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return bad("want a string, not %s", jsonKind(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return bad("want true or false, not %s", jsonKind(v))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return bad("want a number, not %s", jsonKind(v))
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return bad("%s: want an integer of at most %d bits", n, t.Bits())
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return bad("want an array, not %s", jsonKind(v))
		}
		for i, e := range list {
			if err := checkTree(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("want an object, not %s", jsonKind(v))
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if err := checkTree(obj[k], t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("want an object, not %s", jsonKind(v))
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			f, ok := jsonfield.ByName(t, k)
			if !ok {
				return &configError{field: join(path, k), problem: "unknown field"}
			}
			if err := checkTree(obj[k], f.Type, join(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// join appends a key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// Validate checks c and returns an error wrapping ErrInvalidConfig that names the first bad
// field, such as `attribution: config: campaigns[2].windows.ftd: invalid span`.
func (c Config) Validate() error {
	_, err := compile(&c, nil)
	return err
}

// validator collects the first validation error.
type validator struct{ err error }

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = &configError{field: field, problem: fmt.Sprintf(format, args...)}
	}
}

func (v *validator) span(field string, s Span) {
	if !s.Valid() {
		v.fail(field, "invalid span")
	}
}

func (v *validator) key(field, s string, required bool) {
	if s == "" {
		if required {
			v.fail(field, "empty")
		}
		return
	}
	if err := store.CheckKey(s); err != nil {
		v.fail(field, "%v", err)
	}
}

func (c *Config) validate(v *validator) {
	switch c.Model {
	case "", ModelLastClick, ModelFirstClick:
	default:
		v.fail("model", "%q is not a click model (want %q or %q)", c.Model, ModelLastClick, ModelFirstClick)
	}
	for i, m := range c.Priority {
		switch m {
		case store.BindByClick, store.BindByToken, store.BindByPromoCode, store.BindManually:
		default:
			v.fail(fmt.Sprintf("priority[%d]", i), "unknown binding method %q", m)
		}
		for j := range i {
			if c.Priority[j] == m {
				v.fail(fmt.Sprintf("priority[%d]", i), "duplicates priority[%d]", j)
			}
		}
	}
	switch {
	case !c.Skew.Valid():
		v.fail("skew", "invalid span")
	case c.Skew.Days() != 0:
		v.fail("skew", "%s: want an exact duration such as \"5m\", not days", c.Skew)
	case c.Skew.Duration() > maxSkew:
		v.fail("skew", "%s is more than %s", c.Skew, Exactly(maxSkew))
	}
	if c.Dedup.Mode != "" && !c.Dedup.Mode.valid() {
		v.fail("dedup.mode", "unknown mode %q", c.Dedup.Mode)
	}
	for _, t := range sortedKeys(c.Dedup.Events) {
		f := "dedup.events." + string(t)
		v.key(f, string(t), true)
		if m := c.Dedup.Events[t]; !m.valid() {
			v.fail(f, "unknown mode %q", m)
		}
	}
}

func (r *Rules) validate(v *validator, path string) {
	r.Fraud.validate(v, path+".fraud")
	r.Windows.validate(v, path+".windows")
	v.span(path+".reattribute", r.Reattribute)
	validateCaps(v, path, r.Caps)
}

func (w *Windows) validate(v *validator, path string) {
	v.span(path+".default", w.Default)
	v.span(path+".registration", w.Registration)
	v.span(path+".ftd", w.FTD)
	v.span(path+".registration_ftd", w.RegistrationFTD)
	for _, t := range sortedKeys(w.Events) {
		f := path + ".events." + string(t)
		v.key(f, string(t), true)
		v.span(f, w.Events[t])
		// A registration's and an FTD's windows have fields of their own; one here would be
		// silently ignored (Windows.click never reads it), a promise dropped.
		switch t {
		case event.Registration:
			v.fail(f, "set the registration window in %s.registration", path)
		case event.FTD:
			v.fail(f, "set the FTD window in %s.ftd", path)
		}
	}
}
