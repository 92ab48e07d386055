package s2s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// ErrInvalidConfig reports a Config that fails decoding or validation. The message names the
// field, such as `s2s: invalid config: routes[1].endpoints[0]: no endpoint "x"`, and the
// sub-package's own error (attribution.ErrInvalidConfig, commission.ErrInvalidPlan,
// outbound.ErrInvalidEndpoint) stays in the chain.
var ErrInvalidConfig = errors.New("s2s: invalid config")

// Config is a Tracker's configuration, as data: it round-trips through JSON
// ([Config.UnmarshalJSON] is strict: an unknown field is an error) and [Config.Validate]
// names the field of the first problem. Each part is the owning package's own type, decoded
// and validated by that package.
//
// Sources (the senders of inbound postbacks, with their secrets) make the Config secret: its
// JSON carries them, as outbound endpoints' secrets; fmt and slog of a Source never show them.
type Config struct {
	// Attribution are the programme's attribution rules: windows, models, dedup policy,
	// caps and fraud bounds per campaign.
	Attribution attribution.Config `json:"attribution"`
	// Commission is the commission programme; nil pays nothing. The Tracker computes the
	// per-event CPA line at receive time (see the package doc, # Commission); a CPA whose
	// baseline needs player state the store does not hold yet (deposit_window, within) or
	// country amounts is refused
	// by Validate rather than computed wrongly; so is an IB plan that needs trade data a
	// postback does not carry (min_hold, spread, symbol classes).
	Commission *commission.Program `json:"commission,omitempty"`
	// Endpoints are the outbound endpoints (the affiliates' trackers), by unique name.
	// Decoding compiles them; Validate compiles them too.
	Endpoints outbound.Endpoints `json:"endpoints,omitempty"`
	// Routes say which endpoints are told of which affiliate's conversions.
	Routes []Route `json:"routes,omitempty"`
	// Clicks are the campaigns' tracking links: destinations, click-ID forms, IP privacy
	// (see the package doc, # Clicks).
	Clicks ClickConfig `json:"clicks,omitzero"`
	// Rates are the recorded exchange rates the Tracker converts an event's amount into its
	// plan's currency with (see Rates); none means that an amount in another currency than
	// its plan's earns nothing.
	Rates Rates `json:"rates,omitempty"`
	// Sources are the senders of inbound postbacks, by unique name, each served at its own
	// path by [Tracker.PostbackHandler].
	Sources Sources `json:"sources,omitempty"`
	// Inbound configures the inbound log: its retention.
	Inbound InboundConfig `json:"inbound,omitzero"`
}

// Route sends the conversions credited to an affiliate (or in a campaign) to endpoints. A
// conversion goes to the endpoints of every route that matches it, each endpoint once.
type Route struct {
	// AffiliateID matches the conversions credited to this affiliate; empty matches every
	// affiliate.
	AffiliateID string `json:"affiliate,omitempty"`
	// CampaignID matches the conversions of this campaign; empty matches every campaign.
	CampaignID string `json:"campaign,omitempty"`
	// Endpoints are the names of the endpoints (Config.Endpoints) to notify: at least one.
	Endpoints []string `json:"endpoints"`
}

// UnmarshalJSON implements json.Unmarshaler strictly: a field Config does not define is an
// error, and so is any error of the parts' own decoders, wrapped in ErrInvalidConfig with
// the part's name in front of the sub-package's field path.
func (c *Config) UnmarshalJSON(b []byte) error {
	var raw struct {
		Attribution json.RawMessage   `json:"attribution"`
		Commission  json.RawMessage   `json:"commission"`
		Endpoints   json.RawMessage   `json:"endpoints"`
		Routes      json.RawMessage   `json:"routes"`
		Sources     []json.RawMessage `json:"sources"`
		Inbound     json.RawMessage   `json:"inbound"`
		Clicks      json.RawMessage   `json:"clicks"`
		Rates       json.RawMessage   `json:"rates"`
	}
	if err := strict(b, &raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	var out Config
	if len(raw.Attribution) > 0 {
		if err := json.Unmarshal(raw.Attribution, &out.Attribution); err != nil {
			return fmt.Errorf("%w: attribution: %w", ErrInvalidConfig, err)
		}
	}
	if len(raw.Commission) > 0 && !bytes.Equal(bytes.TrimSpace(raw.Commission), []byte("null")) {
		out.Commission = new(commission.Program)
		if err := json.Unmarshal(raw.Commission, out.Commission); err != nil {
			return fmt.Errorf("%w: commission: %w", ErrInvalidConfig, err)
		}
	}
	if len(raw.Endpoints) > 0 {
		if err := json.Unmarshal(raw.Endpoints, &out.Endpoints); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err) // its fields start with endpoints[i]
		}
	}
	if len(raw.Routes) > 0 {
		if err := strict(raw.Routes, &out.Routes); err != nil {
			return fmt.Errorf("%w: routes: %w", ErrInvalidConfig, err)
		}
	}
	for i, r := range raw.Sources {
		var s Source
		if err := s.UnmarshalJSON(r); err != nil {
			return fmt.Errorf("%w: sources[%d]: %w", ErrInvalidConfig, i, err)
		}
		out.Sources = append(out.Sources, s)
	}
	if len(raw.Inbound) > 0 {
		if err := strict(raw.Inbound, &out.Inbound); err != nil {
			return fmt.Errorf("%w: inbound: %w", ErrInvalidConfig, err)
		}
	}
	if len(raw.Clicks) > 0 {
		if err := strict(raw.Clicks, &out.Clicks); err != nil {
			return fmt.Errorf("%w: clicks: %w", ErrInvalidConfig, err)
		}
	}
	if len(raw.Rates) > 0 {
		if err := strict(raw.Rates, &out.Rates); err != nil {
			return fmt.Errorf("%w: rates: %w", ErrInvalidConfig, err)
		}
	}
	*c = out
	return nil
}

// strict decodes b into v, refusing unknown fields and trailing data.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Validate checks c: each part by its own package (compiling the endpoints), then what ties
// them together: every route names configured endpoints, the commission programme asks
// for nothing the Tracker cannot compute exactly yet, and the click campaigns' destinations
// compile. The error wraps ErrInvalidConfig and
// names the field.
func (c *Config) Validate() error {
	if err := c.Attribution.Validate(); err != nil {
		return fmt.Errorf("%w: attribution: %w", ErrInvalidConfig, err)
	}
	if c.Commission != nil {
		if err := c.Commission.Validate(); err != nil {
			return fmt.Errorf("%w: commission: %w", ErrInvalidConfig, err)
		}
		if err := supported(c.Commission); err != nil {
			return err
		}
	}
	if err := c.Rates.Validate(); err != nil {
		return err
	}
	if err := c.Endpoints.Compile(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	names := make(map[string]bool, len(c.Endpoints))
	for _, e := range c.Endpoints {
		names[e.Name] = true
	}
	for i, r := range c.Routes {
		path := fmt.Sprintf("routes[%d]", i)
		if r.AffiliateID != "" {
			if err := store.CheckKey(r.AffiliateID); err != nil {
				return fmt.Errorf("%w: %s.affiliate: %w", ErrInvalidConfig, path, err)
			}
		}
		if r.CampaignID != "" {
			if err := store.CheckKey(r.CampaignID); err != nil {
				return fmt.Errorf("%w: %s.campaign: %w", ErrInvalidConfig, path, err)
			}
		}
		if len(r.Endpoints) == 0 {
			return fmt.Errorf("%w: %s.endpoints: at least one endpoint is required", ErrInvalidConfig, path)
		}
		for j, n := range r.Endpoints {
			if !names[n] {
				return fmt.Errorf("%w: %s.endpoints[%d]: no endpoint %q in endpoints", ErrInvalidConfig, path, j, n)
			}
		}
	}
	clicks, err := c.Clicks.compile()
	if err != nil {
		return err
	}
	if _, err := buildSources(c.Sources, sourceEnv{now: time.Now, log: slog.New(slog.DiscardHandler), signer: clicks.signer}); err != nil {
		return err
	}
	if !c.Inbound.Retention.Valid() {
		return fmt.Errorf("%w: inbound.retention: invalid", ErrInvalidConfig)
	}
	return nil
}

// supportedIB refuses the IB terms that need more of a trade than a postback carries (its
// lots and symbol): its open and close times, spread and instrument class.
func supportedIB(name string, i int, ib *commission.IB) error {
	if ib == nil {
		return nil
	}
	path := fmt.Sprintf("commission: %s[%d].plan.ib", name, i)
	for _, f := range []struct {
		field string
		set   bool
	}{
		{"min_hold", ib.MinHold != 0},
		{"spread", ib.Spread != nil},
	} {
		if f.set {
			return fmt.Errorf("%w: %s.%s: not supported by the Tracker yet (it needs trade data a postback does not carry)", ErrInvalidConfig, path, f.field)
		}
	}
	for j, sr := range ib.Symbols {
		if sr.Class != "" {
			return fmt.Errorf("%w: %s.symbols[%d].class: not supported by the Tracker yet (a postback carries no instrument class)", ErrInvalidConfig, path, j)
		}
	}
	return nil
}

// supported refuses the CPA terms that need player state the store does not hold yet, so
// that the Tracker never pays a CPA that commission.Replay over the same history would not.
func supported(g *commission.Program) error {
	check := func(name string, h []commission.Version) error {
		for i := range h {
			if err := supportedIB(name, i, h[i].Plan.IB); err != nil {
				return err
			}
			cpa := h[i].Plan.CPA
			if cpa == nil {
				continue
			}
			path := fmt.Sprintf("commission: %s[%d].plan.cpa", name, i)
			b := &cpa.Baseline
			for _, f := range []struct {
				field string
				set   bool
			}{
				{"countries", len(cpa.Countries) > 0},
				{"baseline.deposit_window", b.DepositWindow != 0},
				{"baseline.within", b.Within != 0},
			} {
				if f.set {
					return fmt.Errorf("%w: %s.%s: not supported by the Tracker yet (it needs player state the store does not keep)", ErrInvalidConfig, path, f.field)
				}
			}
		}
		return nil
	}
	if err := check("default", g.Default); err != nil {
		return err
	}
	for _, a := range slices.Sorted(maps.Keys(g.Affiliates)) {
		if err := check(fmt.Sprintf("affiliates[%q]", a), g.Affiliates[a]); err != nil {
			return err
		}
	}
	return nil
}

// LogValue implements slog.LogValuer: the names of the parts that hold secrets (the
// sources, the endpoints, the click path's keys) and how many routes there are, never a
// secret, so that a Config given to a logger (a JSON handler would encode its secrets) shows
// what it configures and nothing that would let a reader sign a postback.
func (c Config) LogValue() slog.Value {
	eps := make([]string, 0, len(c.Endpoints))
	for _, e := range c.Endpoints {
		if e != nil {
			eps = append(eps, e.Name)
		}
	}
	return slog.GroupValue(slog.Any("sources", c.Sources), slog.Any("endpoints", eps),
		slog.Int("routes", len(c.Routes)), slog.Any("clicks", c.Clicks))
}
