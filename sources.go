package s2s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// Source is a sender of inbound postbacks (an operator, a network), as configuration: its
// name (the {source} of its postback URL, and part of every dedup key of its postbacks),
// how it proves its postbacks genuine, and how to read them. The Tracker builds a
// postback.Source of each (see postback.NewSource for the rules) and serves it at its own
// path ([Tracker.PostbackHandler]).
//
// A Source holds secrets: its JSON form ([Source.MarshalJSON]) carries them, as the
// configuration it is; [Source.String], GoString and LogValue never show them.
type Source struct {
	// Name names the source: required, unique among the sources, under store.CheckKey's rules.
	Name string
	// Auth is how the source's postbacks are verified.
	Auth SourceAuth
	// Dialect is the sender's parameter mapping: "native" (the library's own, the default
	// when empty) or the name of a preset (postback.PresetNames). In JSON, "dialect" is that
	// name, or an object: an inline dialect ([Source.CustomDialect]).
	Dialect string
	// CustomDialect is an inline dialect (the JSON of postback.ParseDialect), instead of
	// Dialect: set one of the two.
	CustomDialect *postback.Dialect
	// DefaultCurrency, if set, is the ISO 4217 currency of amounts sent without one: it sets
	// the dialect's DefaultCurrency, which the presets of senders whose postbacks carry no
	// currency (CAKE, TUNE, Everflow...) need.
	DefaultCurrency string
	// ClickKinds are the kinds of click ID accepted: "native", "signed", "foreign", "token"
	// (see postback.SourceOptions.ClickKinds). A source verifies signed click IDs and tokens
	// with the click path's keys (Config.Clicks.Keys) when the configuration has keys and
	// its ClickKinds are empty or include "signed" or "token": then a value with the form of
	// a signed ID or token is verified, and refused if its signature fails, and empty
	// ClickKinds mean signed and token only. Without keys, empty means native and foreign.
	ClickKinds []postback.ClickKind
	// Tolerance is how far a signed timestamp may be from the Tracker's clock, in whole
	// seconds; zero means postback.DefaultTolerance (300s). In JSON a Go duration ("300s").
	Tolerance time.Duration
	// AllowIPs, if not empty, are the only client addresses accepted: prefixes such as
	// "203.0.113.0/24", or single addresses.
	AllowIPs []netip.Prefix
	// TrustedProxies are the proxies whose X-Forwarded-For is believed (see
	// postback.SourceOptions.TrustedProxies).
	TrustedProxies []netip.Prefix
	// OKBody, if set, is the plain-text body of Accepted and Duplicate answers, for senders
	// that expect one such as "OK" (postback.HandlerOptions.OKBody).
	OKBody string
}

// Sources are the sources of a Config. Its JSON form is an array of Source; String and
// LogValue show each source as Source's do, never a secret.
type Sources []Source

// String returns the sources' Strings, in brackets.
func (ss Sources) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// GoString returns String(), so that %#v shows no secret either.
func (ss Sources) GoString() string { return ss.String() }

// LogValue implements slog.LogValuer: each source's LogValue, by name.
func (ss Sources) LogValue() slog.Value {
	attrs := make([]slog.Attr, len(ss))
	for i, s := range ss {
		attrs[i] = slog.Any(s.Name, s.LogValue())
	}
	return slog.GroupValue(attrs...)
}

// SourceAuth is a Source's authentication: postback.Auth as data.
type SourceAuth struct {
	// Method is required: postback.MethodSignedQuery ("signed_query" in JSON),
	// MethodStandardWebhooks ("standard_webhooks"), MethodToken ("token") or MethodNone
	// ("none", which must be chosen explicitly).
	Method postback.Method
	// Keys are the HMAC keys of signed_query and standard_webhooks.
	Keys []SourceKey
	// Token is the static token of the token method.
	Token string
	// AllowShortToken, TokenHeader and TokenParam are postback.Auth's.
	AllowShortToken bool
	TokenHeader     string
	TokenParam      string
}

// SourceKey is one HMAC key of a source (postback.Key as data).
type SourceKey struct {
	// ID names the key (the kid of a signed query); it may be empty for a single key.
	ID string
	// Secret is the shared secret. For signed_query it is the secret's bytes as written (at
	// least postback.MinSecretLen); for standard_webhooks it is the secret as Standard
	// Webhooks writes it, base64 with or without the "whsec_" prefix.
	Secret string
	// NotBefore and NotAfter bound the key's activity (zero: unbounded), for rotations.
	NotBefore, NotAfter time.Time
}

// sourceJSON is the JSON form of a Source.
type sourceJSON struct {
	Name            string          `json:"name"`
	Auth            sourceAuthJSON  `json:"auth"`
	Dialect         json.RawMessage `json:"dialect,omitempty"`
	DefaultCurrency string          `json:"default_currency,omitempty"`
	ClickKinds      []string        `json:"click_kinds,omitempty"`
	Tolerance       string          `json:"tolerance,omitempty"`
	AllowIPs        []string        `json:"allow_ips,omitempty"`
	TrustedProxies  []string        `json:"trusted_proxies,omitempty"`
	OKBody          string          `json:"ok_body,omitempty"`
}

type sourceAuthJSON struct {
	Method          string          `json:"method"`
	Keys            []sourceKeyJSON `json:"keys,omitempty"`
	Token           string          `json:"token,omitempty"`
	AllowShortToken bool            `json:"allow_short_token,omitempty"`
	TokenHeader     string          `json:"token_header,omitempty"`
	TokenParam      string          `json:"token_param,omitempty"`
}

type sourceKeyJSON struct {
	ID        string     `json:"id,omitempty"`
	Secret    string     `json:"secret"`
	NotBefore *time.Time `json:"not_before,omitempty"`
	NotAfter  *time.Time `json:"not_after,omitempty"`
}

// methods are the JSON names of the authentication methods.
var methods = []postback.Method{postback.MethodSignedQuery, postback.MethodStandardWebhooks, postback.MethodToken, postback.MethodNone}

// clickKinds are the click kinds a source may accept.
var clickKinds = []postback.ClickKind{postback.ClickNative, postback.ClickSigned, postback.ClickForeign, postback.ClickToken}

// MarshalJSON implements json.Marshaler: the fields under their snake_case names, empty ones
// left out, the method and click kinds by name, the tolerance as a Go duration ("300s").
// Secrets are included: the JSON is the source's configuration, to be kept as secret as they
// are (String and LogValue, for logs, leave them out).
func (s Source) MarshalJSON() ([]byte, error) {
	j := sourceJSON{
		Name: s.Name, DefaultCurrency: s.DefaultCurrency, OKBody: s.OKBody,
		Auth: sourceAuthJSON{Method: s.Auth.Method.String(), Token: s.Auth.Token, AllowShortToken: s.Auth.AllowShortToken,
			TokenHeader: s.Auth.TokenHeader, TokenParam: s.Auth.TokenParam},
	}
	for _, k := range s.Auth.Keys {
		kj := sourceKeyJSON{ID: k.ID, Secret: k.Secret}
		if !k.NotBefore.IsZero() {
			kj.NotBefore = &k.NotBefore
		}
		if !k.NotAfter.IsZero() {
			kj.NotAfter = &k.NotAfter
		}
		j.Auth.Keys = append(j.Auth.Keys, kj)
	}
	switch {
	case s.CustomDialect != nil:
		b, err := json.Marshal(s.CustomDialect)
		if err != nil {
			return nil, err
		}
		j.Dialect = b
	case s.Dialect != "":
		j.Dialect, _ = json.Marshal(s.Dialect)
	}
	for _, k := range s.ClickKinds {
		j.ClickKinds = append(j.ClickKinds, k.String())
	}
	if s.Tolerance != 0 {
		j.Tolerance = s.Tolerance.String()
	}
	for _, p := range s.AllowIPs {
		j.AllowIPs = append(j.AllowIPs, p.String())
	}
	for _, p := range s.TrustedProxies {
		j.TrustedProxies = append(j.TrustedProxies, p.String())
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler, strictly: an unknown field is an error, in the
// source and in an inline dialect. It decodes; Config.Validate checks. The error names the
// field, as in `auth.method: "hmac": want one of signed_query, standard_webhooks, token,
// none`; Config's decoder puts `sources[i].` in front.
func (s *Source) UnmarshalJSON(b []byte) error {
	var j sourceJSON
	if err := strict(b, &j); err != nil {
		return err
	}
	n := Source{
		Name: j.Name, DefaultCurrency: j.DefaultCurrency, OKBody: j.OKBody,
		Auth: SourceAuth{Token: j.Auth.Token, AllowShortToken: j.Auth.AllowShortToken,
			TokenHeader: j.Auth.TokenHeader, TokenParam: j.Auth.TokenParam},
	}
	if j.Auth.Method != "" {
		m, ok := parseMethod(j.Auth.Method)
		if !ok {
			return fmt.Errorf("auth.method: %q: want one of signed_query, standard_webhooks, token, none", j.Auth.Method)
		}
		n.Auth.Method = m
	}
	for _, k := range j.Auth.Keys {
		sk := SourceKey{ID: k.ID, Secret: k.Secret}
		if k.NotBefore != nil {
			sk.NotBefore = *k.NotBefore
		}
		if k.NotAfter != nil {
			sk.NotAfter = *k.NotAfter
		}
		n.Auth.Keys = append(n.Auth.Keys, sk)
	}
	if d := bytes.TrimSpace(j.Dialect); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		if d[0] == '{' {
			cd, err := postback.ParseDialect(d)
			if err != nil {
				return fmt.Errorf("dialect: %w", err)
			}
			n.CustomDialect = cd
		} else if err := json.Unmarshal(d, &n.Dialect); err != nil {
			return errors.New("dialect: want a dialect's name or an inline dialect (an object)")
		}
	}
	for i, k := range j.ClickKinds {
		ck, ok := parseClickKind(k)
		if !ok {
			return fmt.Errorf("click_kinds[%d]: %q: want native, signed, foreign or token", i, k)
		}
		n.ClickKinds = append(n.ClickKinds, ck)
	}
	if j.Tolerance != "" {
		d, err := time.ParseDuration(j.Tolerance)
		if err != nil {
			return fmt.Errorf("tolerance: %q: want a Go duration such as \"300s\"", j.Tolerance)
		}
		n.Tolerance = d
	}
	var err error
	if n.AllowIPs, err = parsePrefixes("allow_ips", j.AllowIPs); err != nil {
		return err
	}
	if n.TrustedProxies, err = parsePrefixes("trusted_proxies", j.TrustedProxies); err != nil {
		return err
	}
	*s = n
	return nil
}

func parseMethod(v string) (postback.Method, bool) {
	for _, m := range methods {
		if m.String() == v {
			return m, true
		}
	}
	return 0, false
}

func parseClickKind(v string) (postback.ClickKind, bool) {
	for _, k := range clickKinds {
		if k.String() == v {
			return k, true
		}
	}
	return 0, false
}

// parsePrefixes parses prefixes ("10.0.0.0/8") and single addresses ("192.0.2.1", a /32 or
// /128).
func parsePrefixes(field string, vs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, v := range vs {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return nil, fmt.Errorf("%s[%d]: %q: want an address or a prefix such as \"203.0.113.0/24\"", field, i, v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}

// String returns the source's name, method and dialect, never a secret: fmt's %v, %+v and
// %s of a Source show this.
func (s Source) String() string {
	return "source " + s.Name + " (" + s.Auth.Method.String() + ", dialect " + s.dialectName() + ")"
}

// GoString returns String(), so that %#v shows no secret either.
func (s Source) GoString() string { return s.String() }

// LogValue implements slog.LogValuer: the name, method, key IDs and dialect, never a secret.
func (s Source) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("name", s.Name), slog.String("method", s.Auth.Method.String()),
		slog.String("dialect", s.dialectName())}
	if len(s.Auth.Keys) > 0 {
		ids := make([]string, len(s.Auth.Keys))
		for i, k := range s.Auth.Keys {
			ids[i] = k.ID
		}
		attrs = append(attrs, slog.Any("key_ids", ids))
	}
	return slog.GroupValue(attrs...)
}

// String returns the method and key IDs, never a secret or the token.
func (a SourceAuth) String() string {
	var b strings.Builder
	b.WriteString(a.Method.String())
	for i, k := range a.Keys {
		if i == 0 {
			b.WriteString(" keys ")
		} else {
			b.WriteString(",")
		}
		b.WriteString(k.String())
	}
	return b.String()
}

// GoString returns String().
func (a SourceAuth) GoString() string { return a.String() }

// LogValue implements slog.LogValuer with String's text.
func (a SourceAuth) LogValue() slog.Value { return slog.StringValue(a.String()) }

// String returns the key's ID, never its secret.
func (k SourceKey) String() string { return "key " + k.ID }

// GoString returns String().
func (k SourceKey) GoString() string { return k.String() }

// LogValue implements slog.LogValuer with String's text.
func (k SourceKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

func (s *Source) dialectName() string {
	switch {
	case s.CustomDialect != nil && s.CustomDialect.Name != "":
		return s.CustomDialect.Name
	case s.CustomDialect != nil:
		return "custom"
	case s.Dialect == "":
		return "native"
	}
	return s.Dialect
}

// sourceEnv is what the built sources take from the Tracker.
type sourceEnv struct {
	now    func() time.Time
	log    *slog.Logger
	signer *clickid.Signer // of Config.Clicks.Keys; nil without keys
}

// builtSource is a Source as the Tracker serves it.
type builtSource struct {
	src     *postback.Source
	handler *postback.Handler
	okBody  string
	redact  []string // the names of parameters whose values the inbound log blanks, beside the usual ones
}

// buildSources checks the sources and builds their postback.Sources. Errors wrap
// ErrInvalidConfig and name the field, as in `sources[1].auth.keys[0].secret`.
func buildSources(list []Source, env sourceEnv) (map[string]*builtSource, error) {
	out := make(map[string]*builtSource, len(list))
	seen := make(map[string]int, len(list))
	for i := range list {
		s := &list[i]
		path := fmt.Sprintf("sources[%d]", i)
		if j, ok := seen[s.Name]; ok && s.Name != "" {
			return nil, fmt.Errorf("%w: %s.name: %q repeats sources[%d].name", ErrInvalidConfig, path, s.Name, j)
		}
		seen[s.Name] = i
		b, err := buildSource(s, env)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%w", ErrInvalidConfig, path, err)
		}
		out[s.Name] = b
	}
	return out, nil
}

// buildSource builds one source. Its error starts with the field, for buildSources to prefix.
func buildSource(s *Source, env sourceEnv) (*builtSource, error) {
	switch {
	case s.Name == "":
		return nil, errors.New("name: required: it is the source's path and part of every dedup key")
	case store.CheckKey(s.Name) != nil:
		return nil, fmt.Errorf("name: %w", store.CheckKey(s.Name))
	case strings.ContainsAny(s.Name, "/?#%"):
		return nil, fmt.Errorf("name: %q: a source's name is a path segment: no '/', '?', '#' or '%%'", s.Name)
	}
	auth, err := s.Auth.build()
	if err != nil {
		return nil, fmt.Errorf("auth.%w", err)
	}
	opts := &postback.SourceOptions{ClickKinds: s.ClickKinds, Tolerance: s.Tolerance, AllowIPs: s.AllowIPs,
		TrustedProxies: s.TrustedProxies, Now: env.now, Logger: env.log}
	if opts.Dialect, err = s.dialect(); err != nil {
		return nil, err
	}
	if s.Tolerance < 0 || s.Tolerance%time.Second != 0 {
		return nil, fmt.Errorf("tolerance: %s: want a positive whole number of seconds", s.Tolerance)
	}
	signed := len(s.ClickKinds) == 0
	for i, k := range s.ClickKinds {
		if _, ok := parseClickKind(k.String()); !ok {
			return nil, fmt.Errorf("click_kinds[%d]: no click kind %d", i, k)
		}
		if k == postback.ClickSigned || k == postback.ClickToken {
			if env.signer == nil {
				return nil, fmt.Errorf("click_kinds[%d]: %s click IDs need the click path's keys (clicks.keys)", i, k)
			}
			signed = true
		}
	}
	if signed {
		opts.ClickSigner = env.signer
	}
	src, err := postback.NewSource(s.Name, auth, opts)
	if err != nil {
		return nil, err // postback's message names the rule; the path is the source's
	}
	b := &builtSource{src: src, okBody: s.OKBody}
	for _, p := range []string{s.Auth.TokenParam, opts.Dialect.TokenParam} {
		if p != "" {
			b.redact = append(b.redact, p)
		}
	}
	return b, nil
}

// dialect returns the source's dialect, a copy of its own.
func (s *Source) dialect() (*postback.Dialect, error) {
	var d *postback.Dialect
	switch {
	case s.CustomDialect != nil && s.Dialect != "":
		return nil, errors.New("dialect: give a dialect's name or an inline dialect, not both")
	case s.CustomDialect != nil:
		b, err := json.Marshal(s.CustomDialect)
		if err != nil {
			return nil, fmt.Errorf("dialect: %w", err)
		}
		if d, err = postback.ParseDialect(b); err != nil {
			return nil, fmt.Errorf("dialect: %w", err)
		}
	case s.Dialect == "" || s.Dialect == "native":
		d = postback.Native()
	default:
		var err error
		if d, err = postback.Preset(s.Dialect); err != nil {
			return nil, fmt.Errorf("dialect: %q: want \"native\" or one of %s", s.Dialect, strings.Join(postback.PresetNames(), ", "))
		}
	}
	if s.DefaultCurrency != "" {
		d.DefaultCurrency = s.DefaultCurrency
	}
	return d, nil
}

// build returns a's postback.Auth, its secrets copied. Its error starts with the field.
func (a *SourceAuth) build() (postback.Auth, error) {
	out := postback.Auth{Method: a.Method, AllowShortToken: a.AllowShortToken, TokenHeader: a.TokenHeader, TokenParam: a.TokenParam}
	if _, ok := parseMethod(a.Method.String()); !ok {
		return out, errors.New("method: required: signed_query, standard_webhooks, token or none")
	}
	signed := a.Method == postback.MethodSignedQuery || a.Method == postback.MethodStandardWebhooks
	switch {
	case signed && len(a.Keys) == 0:
		return out, fmt.Errorf("keys: method %s needs at least one key", a.Method)
	case !signed && len(a.Keys) > 0:
		return out, fmt.Errorf("keys: method %s takes no keys", a.Method)
	case len(a.Keys) > postback.MaxKeys:
		return out, fmt.Errorf("keys: %d keys, at most %d", len(a.Keys), postback.MaxKeys)
	case a.Method != postback.MethodToken && (a.Token != "" || a.AllowShortToken):
		return out, fmt.Errorf("token: method %s takes no token", a.Method)
	case a.Method == postback.MethodToken && a.Token == "":
		return out, errors.New("token: required by method token")
	case a.Method == postback.MethodToken && len(a.Token) < postback.MinSecretLen && !a.AllowShortToken:
		return out, fmt.Errorf("token: %d bytes, at least %d required (allow_short_token accepts a legacy sender's shorter one)", len(a.Token), postback.MinSecretLen)
	}
	ids := map[string]int{}
	for i, k := range a.Keys {
		path := fmt.Sprintf("keys[%d]", i)
		if err := store.CheckKey(k.ID); err != nil {
			return out, fmt.Errorf("%s.id: %w", path, err)
		}
		if j, ok := ids[k.ID]; ok {
			return out, fmt.Errorf("%s.id: %q repeats keys[%d].id", path, k.ID, j)
		}
		ids[k.ID] = i
		secret := []byte(k.Secret)
		if a.Method == postback.MethodStandardWebhooks {
			var err error
			if secret, err = postback.WebhookSecret(k.Secret); err != nil {
				return out, fmt.Errorf("%s.secret: not a Standard Webhooks secret (base64, with or without \"whsec_\")", path)
			}
		}
		if len(secret) < postback.MinSecretLen {
			return out, fmt.Errorf("%s.secret: %d bytes, at least %d required", path, len(secret), postback.MinSecretLen)
		}
		if !k.NotBefore.IsZero() && !k.NotAfter.IsZero() && !k.NotAfter.After(k.NotBefore) {
			return out, fmt.Errorf("%s.not_after: not after not_before", path)
		}
		out.Keys = append(out.Keys, postback.Key{ID: k.ID, Secret: secret, NotBefore: k.NotBefore, NotAfter: k.NotAfter})
	}
	if a.Method == postback.MethodToken {
		out.Token = []byte(a.Token)
	}
	return out, nil
}

// InboundConfig configures the inbound log (see [Tracker.PostbackHandler]).
type InboundConfig struct {
	// Retention is how long the records of the inbound log are kept: [Tracker.PruneInbound]
	// deletes older ones. Zero means DefaultInboundRetention. A day is 24 hours here. In
	// JSON, "30d" or a Go duration ("720h").
	Retention attribution.Span `json:"retention,omitzero"`
}

// DefaultInboundRetention is the retention of the inbound log when InboundConfig sets none.
const DefaultInboundRetention = 30 * 24 * time.Hour

// retention returns the configured retention as elapsed time.
func (c InboundConfig) retention() time.Duration {
	switch {
	case c.Retention.Days() > 0:
		return time.Duration(c.Retention.Days()) * 24 * time.Hour
	case c.Retention.Duration() > 0:
		return c.Retention.Duration()
	}
	return DefaultInboundRetention
}
