package attribution_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

func readConfig(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/config.json")
	require.NoError(t, err)
	return b
}

func TestConfig_JSON(t *testing.T) {
	t.Parallel()
	var cfg attribution.Config
	require.NoError(t, json.Unmarshal(readConfig(t), &cfg))
	require.NoError(t, cfg.Validate())
	require.Equal(t, attribution.Days(30), cfg.Campaigns[0].Windows.FTD)
	require.Equal(t, attribution.Exactly(72*time.Hour), cfg.Campaigns[1].Windows.Events[event.Trade])
	require.Equal(t, attribution.Exactly(90*time.Minute), cfg.Campaigns[2].Windows.Default)
	require.Equal(t, attribution.DedupPlayerEvent, cfg.Dedup.Events[event.FTD])
	require.Equal(t, attribution.DefaultPriority(), cfg.Priority)
	require.Equal(t, attribution.Cap{Name: "monthly_budget", Scope: attribution.CapPerCampaign, Period: attribution.CapMonth,
		Amount: money.MustParse("50000.00", money.EUR), Over: attribution.CapHold}, cfg.Campaigns[0].Caps[1])
	require.Equal(t, []event.Type{event.FTD}, cfg.Campaigns[1].Caps[0].Events)

	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.JSONEq(t, string(readConfig(t)), string(out), "rule: a config encodes back as written")
	var back attribution.Config
	require.NoError(t, json.Unmarshal(out, &back))
	require.Equal(t, cfg, back)

	d, err := attribution.New(cfg, nil)
	require.NoError(t, err)
	require.Equal(t, cfg, d.Config())
	cfg.Campaigns[0].Windows.FTD = attribution.Days(1)
	cfg.Campaigns[0].Caps[0].Events[0] = event.Deposit
	cfg.Campaigns[0].Caps[1].Count = 3
	require.Equal(t, attribution.Days(30), d.Config().Campaigns[0].Windows.FTD, "rule: New keeps a copy")
	require.Equal(t, []event.Type{event.FTD}, d.Config().Campaigns[0].Caps[0].Events, "rule: New keeps a copy of the caps")
	require.Zero(t, d.Config().Campaigns[0].Caps[1].Count, "rule: New keeps a copy of the caps")
	got := d.Config()
	got.Campaigns[0].Caps[0].Events[0] = event.Trade
	require.Equal(t, []event.Type{event.FTD}, d.Config().Campaigns[0].Caps[0].Events, "rule: Config returns a copy")

	empty, err := json.Marshal(attribution.Config{})
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(empty))
}

// TestConfig_DecodeErrors: decoding is strict, and its errors name the field.
func TestConfig_DecodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ json, field string }{
		{`{"campaigns":[{"id":"a"},{"id":"b"},{"id":"c","windows":{"ftd":"30x"}}]}`, "campaigns[2].windows.ftd"},
		{`{"campaigns":[{"id":"a","lifetme":true}]}`, "campaigns[0].lifetme: unknown field"},
		{`{"modle":"first_click"}`, "modle: unknown field"},
		{`{"campaigns":[{"id":"a","windows":{"ftd":30}}]}`, "campaigns[0].windows.ftd: want a span"},
		{`{"campaigns":[{"id":"a","windows":{"events":{"trade":"-1h"}}}]}`, "campaigns[0].windows.events.trade"},
		{`{"campaigns":[{"id":"a","lifetime":"yes"}]}`, "campaigns[0].lifetime: want true or false"},
		{`{"campaigns":{"id":"a"}}`, "campaigns: want an array"},
		{`{"default":{"reattribute":"1.5d"}}`, "default.reattribute"},
		{`{"skew":"36601d"}`, "skew"},
		{`{"priority":"click"}`, "priority: want an array"},
		{`{"dedup":{"events":{"ftd":1}}}`, "dedup.events.ftd: want a string"},
		{`{"campaigns":[{"id":"a"},{"id":"b"},{"id":"c","caps":[{"name":"x","period":1}]}]}`, "campaigns[2].caps[0].period: want a string"},
		{`{"default":{"caps":[{"name":"x","limit":10}]}}`, "default.caps[0].limit: unknown field"},
		{`{"default":{"caps":[{"name":"x","count":"10"}]}}`, "default.caps[0].count: want a number"},
		{`{"default":{"caps":[{"name":"x","count":1.5}]}}`, "default.caps[0].count: 1.5: want an integer"},
		{`{"default":{"caps":[{"name":"x","count":9223372036854775808}]}}`, "default.caps[0].count: 9223372036854775808: want an integer"},
		{`{"default":{"caps":[{"name":"x","amount":{"amount":10,"currency":"EUR"}}]}}`, "default.caps[0].amount: money: "},
		{`{"default":{"caps":[{"name":"x","amount":{"amount":"10.00","currency":"XXY"}}]}}`, "default.caps[0].amount: money: "},
		{`{"default":{"caps":[{"name":"x","amount":{"amount":"10.00"}}]}}`, "default.caps[0].amount: money: "},
		{`{"default":{"caps":[{"name":"x","events":"ftd"}]}}`, "default.caps[0].events: want an array"},
		{`{"default":{"caps":{"name":"x"}}}`, "default.caps: want an array"},
		{`[]`, "config: want an object"},
		{`{} {}`, "data after the config"},
		{`{`, "invalid config"},
	} {
		var cfg attribution.Config
		err := cfg.UnmarshalJSON([]byte(tc.json))
		require.ErrorIs(t, err, attribution.ErrInvalidConfig, tc.json)
		require.Contains(t, err.Error(), tc.field, tc.json)
		require.True(t, strings.HasPrefix(err.Error(), "attribution: "), err.Error())
	}
	// encoding/json matches field names regardless of case; so does the check.
	var cfg attribution.Config
	require.NoError(t, json.Unmarshal([]byte(`{"Model":"first_click","Campaigns":[{"ID":"a","Lifetime":true}]}`), &cfg))
	require.True(t, cfg.Campaigns[0].Lifetime)
}

// TestConfig_Validate: every rule, with the field path of its error.
func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	base := func() attribution.Config {
		var cfg attribution.Config
		require.NoError(t, json.Unmarshal(readConfig(t), &cfg))
		return cfg
	}
	for _, tc := range []struct {
		field  string
		mutate func(*attribution.Config)
	}{
		{"model", func(c *attribution.Config) { c.Model = attribution.ModelBinding }},
		{"priority[1]", func(c *attribution.Config) { c.Priority = []store.BindingMethod{"click", "coupon"} }},
		{"priority[2]: duplicates priority[0]", func(c *attribution.Config) { c.Priority = []store.BindingMethod{"click", "token", "click"} }},
		{"skew: 1d: want an exact duration", func(c *attribution.Config) { c.Skew = attribution.Days(1) }},
		{"skew: 25h is more than 24h", func(c *attribution.Config) { c.Skew = attribution.Exactly(25 * time.Hour) }},
		{"skew: invalid", func(c *attribution.Config) { c.Skew = attribution.Exactly(-1) }},
		{"dedup.mode", func(c *attribution.Config) { c.Dedup.Mode = "per_click" }},
		{"dedup.events.ftd", func(c *attribution.Config) { c.Dedup.Events[event.FTD] = "once" }},
		{"dedup.events.: empty", func(c *attribution.Config) { c.Dedup.Events[""] = attribution.DedupEvery }},
		{"default.windows.default", func(c *attribution.Config) { c.Default.Windows.Default = attribution.Days(-1) }},
		{"default.zone", func(c *attribution.Config) { c.Default.Zone = "Mars/Olympus" }},
		{"campaigns[2].windows.ftd", func(c *attribution.Config) { c.Campaigns[2].Windows.FTD = attribution.Exactly(-time.Hour) }},
		{"campaigns[1].windows.registration", func(c *attribution.Config) { c.Campaigns[1].Windows.Registration = attribution.Days(99999) }},
		{"campaigns[0].windows.registration_ftd", func(c *attribution.Config) { c.Campaigns[0].Windows.RegistrationFTD = attribution.Days(-3) }},
		{"campaigns[1].windows.events.trade", func(c *attribution.Config) { c.Campaigns[1].Windows.Events[event.Trade] = attribution.Exactly(-1) }},
		{"campaigns[1].windows.events.ftd: set the FTD window in campaigns[1].windows.ftd", func(c *attribution.Config) {
			c.Campaigns[1].Windows.Events[event.FTD] = attribution.Days(7)
		}},
		{"default.windows.events.registration: set the registration window", func(c *attribution.Config) {
			c.Default.Windows.Events = map[event.Type]attribution.Span{event.Registration: attribution.Days(7)}
		}},
		{"campaigns[0].reattribute", func(c *attribution.Config) { c.Campaigns[0].Reattribute = attribution.Days(-1) }},
		{"campaigns[1].zone: unknown IANA zone", func(c *attribution.Config) { c.Campaigns[1].Zone = "Europe/Atlantis" }},
		{"campaigns[2].id: empty", func(c *attribution.Config) { c.Campaigns[2].ID = "" }},
		{"campaigns[2].id: duplicates campaigns[0]", func(c *attribution.Config) { c.Campaigns[2].ID = c.Campaigns[0].ID }},
		{"campaigns[1].id", func(c *attribution.Config) { c.Campaigns[1].ID = "a\nb" }},
		{"campaigns[0].caps[0].period: unknown period \"daily\"", func(c *attribution.Config) { c.Campaigns[0].Caps[0].Period = "daily" }},
		{"campaigns[0].caps[1].period: unknown period \"\"", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Period = "" }},
		{"campaigns[1].caps[1].scope: unknown scope \"player\"", func(c *attribution.Config) { c.Campaigns[1].Caps[1].Scope = "player" }},
		{"campaigns[0].caps[0].over: unknown policy \"drop\"", func(c *attribution.Config) { c.Campaigns[0].Caps[0].Over = "drop" }},
		{"campaigns[0].caps[0].over: unknown policy \"\"", func(c *attribution.Config) { c.Campaigns[0].Caps[0].Over = "" }},
		{"campaigns[1].caps[1].count: -5: want a positive limit", func(c *attribution.Config) { c.Campaigns[1].Caps[1].Count = -5 }},
		{"campaigns[1].caps[1]: set count (a count cap) or amount", func(c *attribution.Config) { c.Campaigns[1].Caps[1].Count = 0 }},
		{"campaigns[0].caps[1]: both count and amount", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Count = 5 }},
		{"campaigns[0].caps[1]: both count and amount", func(c *attribution.Config) {
			c.Campaigns[0].Caps[1].Count, c.Campaigns[0].Caps[1].Amount = 5, money.New(0, money.EUR)
		}},
		{"campaigns[0].caps[1].amount: an amount cap needs a currency", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Amount = money.New(5000, 0) }},
		{"campaigns[0].caps[1].amount: 0.00 EUR: want a positive limit", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Amount = money.New(0, money.EUR) }},
		{"campaigns[0].caps[1].amount: -1.00 EUR: want a positive limit", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Amount = money.New(-100, money.EUR) }},
		{"campaigns[0].caps[1].name: empty", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Name = "" }},
		{"campaigns[0].caps[1].name: \"a:b\": want ASCII letters", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Name = "a:b" }},
		{"campaigns[0].caps[1].name: 65 bytes, at most 64", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Name = strings.Repeat("x", 65) }},
		{"campaigns[0].caps[1].name: \"daily_ftd\" duplicates campaigns[0].caps[0]", func(c *attribution.Config) { c.Campaigns[0].Caps[1].Name = "daily_ftd" }},
		{"campaigns[0].caps[0].events[0]: reversals", func(c *attribution.Config) { c.Campaigns[0].Caps[0].Events = []event.Type{event.Reversal} }},
		{"campaigns[0].caps[0].events[1]: duplicates events[0]", func(c *attribution.Config) { c.Campaigns[0].Caps[0].Events = []event.Type{"ftd", "ftd"} }},
		{"campaigns[0].caps[0].events[0]: empty", func(c *attribution.Config) { c.Campaigns[0].Caps[0].Events = []event.Type{""} }},
		{"campaigns[2].caps: 9 caps, at most 8", func(c *attribution.Config) {
			for i := range attribution.MaxCaps + 1 {
				c.Campaigns[2].Caps = append(c.Campaigns[2].Caps, attribution.Cap{Name: fmt.Sprint("c", i), Scope: "campaign", Period: "day", Count: 1, Over: "reject"})
			}
		}},
		{"campaigns[1].caps[0]: cap \"daily_ftd\" per affiliate shares its counters with campaigns[0].caps[0]", func(c *attribution.Config) {
			c.Campaigns[1].Caps[0].Count = 20
		}},
		{"campaigns[1].caps[0]: cap \"daily_ftd\" per affiliate shares its counters with campaigns[0].caps[0]", func(c *attribution.Config) {
			c.Campaigns[1].Caps[0].Events = nil
		}},
		{"campaigns[0].caps[0]: cap \"daily_ftd\" per affiliate shares its counters with default.caps[0]", func(c *attribution.Config) {
			c.Default.Caps = []attribution.Cap{c.Campaigns[1].Caps[0]}
			c.Default.Caps[0].Count = 5
		}},
	} {
		cfg := base()
		tc.mutate(&cfg)
		err := cfg.Validate()
		require.ErrorIs(t, err, attribution.ErrInvalidConfig, tc.field)
		require.Contains(t, err.Error(), "attribution: config: "+tc.field, tc.field)
		_, err = attribution.New(cfg, nil)
		require.ErrorIs(t, err, attribution.ErrInvalidConfig, tc.field)
	}
	require.NoError(t, attribution.Config{}.Validate(), "rule: the zero Config is valid")
	shared := base()
	shared.Campaigns[1].Caps[0].Period = attribution.CapWeek
	require.NoError(t, shared.Validate(), "rule: caps of one name but other periods have other counters, and may differ")
	shared = base()
	shared.Campaigns[1].Caps[1].Name = "monthly_budget"
	require.NoError(t, shared.Validate(), "rule: caps of one name counted per campaign never share a counter, and may differ")
	loads := 0
	_, err := attribution.New(base(), &attribution.Options{LoadLocation: func(name string) (*time.Location, error) {
		loads++
		return nil, errors.New("no zones here")
	}})
	require.ErrorContains(t, err, "campaigns[0].zone")
	require.Positive(t, loads, "rule: zones come from Options.LoadLocation")
}

// FuzzConfig_UnmarshalJSON: decoding never panics; a config that decodes and validates
// encodes back to one that decodes to the same config, and encodes the same again.
func FuzzConfig_UnmarshalJSON(f *testing.F) {
	f.Add(readConfig(f))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"campaigns":[{"id":"a","windows":{"ftd":"30d","events":{"x":"1h"}}}],"skew":"1m"}`))
	f.Add([]byte(`{"dedup":{"mode":"every","events":{"ftd":"player_event"}},"priority":["manual"]}`))
	f.Add([]byte(`{"default":{"zone":"UTC","reattribute":"0d","lifetime":false}}`))
	f.Add([]byte(`{"default":{"caps":[{"name":"d","events":["ftd"],"scope":"affiliate","period":"day","count":10,"over":"unpaid"}]}}`))
	f.Add([]byte(`{"campaigns":[{"id":"a","zone":"Europe/Malta","caps":[{"name":"m","scope":"campaign","period":"week","amount":{"minor":100,"currency":"JPY"},"over":"hold"}]}]}`))
	f.Add([]byte(`{"default":{"caps":[{"name":"x","scope":"affiliate_campaign","period":"lifetime","amount":{"amount":"0.50","currency":"eur"},"count":0,"over":"reject"}]}}`))
	f.Add([]byte(`{"default":{"fraud":{"ftd":{"min":"10s","too_fast":"reject","max":"30d","too_slow":"hold"},"self_referral":"flag"}}}`))
	f.Add([]byte(`{"campaigns":[{"id":"a","fraud":{"registration":{"max":"1h","too_slow":"allow"},"self_referral":"allow"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var cfg attribution.Config
		if err := cfg.UnmarshalJSON(b); err != nil {
			require.ErrorIs(t, err, attribution.ErrInvalidConfig)
			require.True(t, strings.HasPrefix(err.Error(), "attribution: "), err.Error())
			return
		}
		if _, err := attribution.New(cfg, &attribution.Options{LoadLocation: fakeZones}); err != nil {
			require.ErrorIs(t, err, attribution.ErrInvalidConfig)
			require.True(t, strings.HasPrefix(err.Error(), "attribution: config: "), err.Error())
			return
		}
		out, err := json.Marshal(cfg)
		require.NoError(t, err)
		var back attribution.Config
		require.NoError(t, json.Unmarshal(out, &back), "%s", out)
		again, err := json.Marshal(back)
		require.NoError(t, err)
		require.Equal(t, string(out), string(again))
	})
}

// fakeZones knows a few zones without reading the system's database on every input.
func fakeZones(name string) (*time.Location, error) {
	switch name {
	case "UTC", "Europe/Malta", "America/Toronto":
		return time.LoadLocation(name)
	}
	return nil, errors.New("unknown zone")
}
