package attribution

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// Options are the settings of New. The zero Options (or nil) are the defaults.
type Options struct {
	// LoadLocation loads a campaign's IANA zone; time.LoadLocation if nil. Zones are loaded
	// once, by New: deciding reads no file.
	LoadLocation func(name string) (*time.Location, error)
	// Rules are custom rules, run in this order after the credited campaign's fraud bounds
	// on every decision that attribution did not reject: see Rule and the package doc,
	// # Fraud rules. New keeps a copy of the slice; a nil Rule is an error.
	Rules []Rule
}

// Decider makes attribution decisions under a Config. It is immutable and safe for
// concurrent use; New compiles and validates the Config once.
type Decider struct {
	model  Model
	rank   [4]uint8 // by methodIndex: lower wins
	skew   time.Duration
	dedup  Dedup
	def    *rules
	byID   map[string]*rules
	few    []*rules // the campaigns' rules when there are at most fewCampaigns, else nil
	config Config
	custom []Rule // Options.Rules
}

// rules are a campaign's Rules, compiled.
type rules struct {
	id    string
	loc   *time.Location
	zone  *zone // loc, compiled for calendar arithmetic; shared by the campaigns in loc
	fraud bool  // !Fraud.IsZero()
	Rules
}

// New validates cfg and returns a Decider for it. An invalid cfg is an error wrapping
// ErrInvalidConfig that names the field. New keeps a copy of cfg: changing cfg afterwards
// changes nothing.
func New(cfg Config, opts *Options) (*Decider, error) {
	return compile(&cfg, opts)
}

// Config returns a copy of the Config the Decider was made from.
func (d *Decider) Config() Config { return cloneConfig(d.config) }

func compile(c *Config, opts *Options) (*Decider, error) {
	load := time.LoadLocation
	if opts != nil && opts.LoadLocation != nil {
		load = opts.LoadLocation
	}
	var custom []Rule
	if opts != nil {
		for i, r := range opts.Rules {
			if r == nil {
				return nil, fmt.Errorf("%w: options: rules[%d] is nil", ErrInvalidConfig, i)
			}
		}
		custom = slices.Clone(opts.Rules)
	}
	var v validator
	c.validate(&v)
	d := &Decider{model: c.Model, skew: c.Skew.Duration(), dedup: c.Dedup, byID: make(map[string]*rules, len(c.Campaigns))}
	if d.model == "" {
		d.model = ModelLastClick
	}
	if d.skew == 0 {
		d.skew = DefaultSkew
	}
	prio := c.Priority
	for _, m := range DefaultPriority() {
		if !slices.Contains(prio, m) {
			prio = append(slices.Clip(prio), m)
		}
	}
	for i, m := range prio {
		if j, ok := methodIndex(m); ok {
			d.rank[j] = uint8(i)
		}
	}
	zones := map[*time.Location]*zone{}
	compileRules := func(path, id string, r *Rules) *rules {
		r.validate(&v, path)
		cr := &rules{id: id, Rules: *r, fraud: !r.Fraud.IsZero()}
		cr.Windows.Events = maps.Clone(r.Windows.Events)
		cr.Caps = cloneCaps(r.Caps)
		if r.Zone == "" {
			cr.loc = time.UTC
		} else if loc, err := load(r.Zone); err != nil || loc == nil {
			v.fail(path+".zone", "unknown IANA zone %q", r.Zone)
		} else {
			cr.loc = loc
		}
		if z, ok := zones[cr.loc]; ok {
			cr.zone = z
		} else if v.err == nil {
			cr.zone = newZone(cr.loc)
			zones[cr.loc] = cr.zone
		}
		return cr
	}
	d.def = compileRules("default", "", &c.Default)
	for i := range c.Campaigns {
		cp := &c.Campaigns[i]
		path := fmt.Sprintf("campaigns[%d]", i)
		v.key(path+".id", cp.ID, true)
		if _, dup := d.byID[cp.ID]; dup && cp.ID != "" {
			for j := range i {
				if c.Campaigns[j].ID == cp.ID {
					v.fail(path+".id", "duplicates campaigns[%d]", j)
				}
			}
		}
		d.byID[cp.ID] = compileRules(path, cp.ID, &cp.Rules)
	}
	c.validateSharedCaps(&v)
	if v.err != nil {
		return nil, v.err
	}
	if n := len(c.Campaigns); n > 0 && n <= fewCampaigns {
		for i := range c.Campaigns {
			d.few = append(d.few, d.byID[c.Campaigns[i].ID])
		}
	}
	d.dedup.Events = maps.Clone(c.Dedup.Events)
	d.config = cloneConfig(*c)
	d.custom = custom
	return d, nil
}

// cloneConfig returns a deep copy of c.
func cloneConfig(c Config) Config {
	c.Priority = slices.Clone(c.Priority)
	c.Dedup.Events = maps.Clone(c.Dedup.Events)
	c.Default.Windows.Events = maps.Clone(c.Default.Windows.Events)
	c.Default.Caps = cloneCaps(c.Default.Caps)
	c.Campaigns = slices.Clone(c.Campaigns)
	for i := range c.Campaigns {
		c.Campaigns[i].Windows.Events = maps.Clone(c.Campaigns[i].Windows.Events)
		c.Campaigns[i].Caps = cloneCaps(c.Campaigns[i].Caps)
	}
	return c
}

// methodIndex returns the index of a binding method in the rank table.
func methodIndex(m store.BindingMethod) (int, bool) {
	switch m {
	case store.BindByPromoCode:
		return 0, true
	case store.BindByToken:
		return 1, true
	case store.BindByClick:
		return clickRank, true
	case store.BindManually:
		return 3, true
	}
	return 0, false
}

// fewCampaigns is the most campaigns whose rules rulesOf finds by comparing IDs: for a
// handful, that is faster than hashing the ID for the map.
const fewCampaigns = 8

// rulesOf returns the compiled rules of a campaign: its own, or the default.
func (d *Decider) rulesOf(campaign string) *rules {
	if campaign == "" {
		return d.def
	}
	if d.few != nil {
		for _, r := range d.few {
			if r.id == campaign {
				return r
			}
		}
		return d.def
	}
	if r, ok := d.byID[campaign]; ok {
		return r
	}
	return d.def
}

// sortedKeys returns the keys of m in order, so that validation reports the same field
// whatever the map's order.
func sortedKeys[V any](m map[event.Type]V) []event.Type {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b event.Type) int { return cmp.Compare(a, b) })
	return keys
}
