package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// Errors of endpoints and their templates.
var (
	// ErrInvalidEndpoint reports an endpoint that fails validation, its templates included.
	// The error is an *EndpointError that names the field (and, in a template, the byte
	// offset and the macro), as in
	// `outbound: invalid endpoint "aff1": url: byte 42: {subacc4}: unknown macro "subacc4"`.
	ErrInvalidEndpoint = errors.New("outbound: invalid endpoint")
	// ErrRender reports a delivery that cannot be made: values a template cannot carry (a
	// missing event ID, invalid UTF-8 in a JSON body, a URL over store.MaxURLLen), or, in
	// Request, a delivery that does not match the endpoint (another endpoint's, or one that
	// needs a secret the endpoint no longer has).
	ErrRender = errors.New("outbound: cannot render")

	// errNoSecret (wrapping ErrRender) reports a stored delivery that needs a secret its
	// endpoint no longer has: a configuration error, which a Worker waits out rather than
	// dead-letter the delivery.
	errNoSecret = fmt.Errorf("%w: the delivery needs a secret the endpoint does not have", ErrRender)
)

// EndpointError is a validation error of an Endpoint. It wraps ErrInvalidEndpoint.
type EndpointError struct {
	Endpoint string // the endpoint's name, if it has one
	// Field is the path of the field at fault, in the JSON names: "url", "status_map.approved",
	// "secrets.token"; in a list, "endpoints[1].url".
	Field string
	// Offset is the byte offset of the problem in a template (url, body), -1 elsewhere.
	Offset int
	// Macro is the macro at fault, with its delimiters ("{subacc4}"), if any.
	Macro   string
	Problem string
}

func (e *EndpointError) Error() string {
	var b strings.Builder
	b.WriteString("outbound: invalid endpoint")
	if e.Endpoint != "" {
		b.WriteString(" " + strconv.Quote(e.Endpoint))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	if e.Offset >= 0 {
		b.WriteString(": byte " + strconv.Itoa(e.Offset))
	}
	if e.Macro != "" {
		b.WriteString(": " + e.Macro)
	}
	b.WriteString(": " + e.Problem)
	return b.String()
}

// Unwrap returns ErrInvalidEndpoint.
func (e *EndpointError) Unwrap() error { return ErrInvalidEndpoint }

// Endpoint is one receiver of outbound postbacks, as configuration: where and how its
// postbacks go, rendered from templates (see the package documentation, section Templates).
// It is plain data with a JSON form.
//
// An Endpoint is compiled once: [Endpoint.Compile] checks it and compiles its templates, and
// decoding one from JSON compiles it. Delivery and Request refuse an endpoint never compiled.
// A compiled Endpoint may be used by many goroutines at once; change one only by setting its
// fields and compiling it again, while nobody uses it (or, better, build a new one).
type Endpoint struct {
	// Name names the endpoint: required, under store.CheckKey's rules. It is the
	// Delivery.Endpoint of its deliveries.
	Name string
	// Preset names a receiver preset (see Presets): "everflow", "voluum", "keitaro",
	// "binom", "redtrack", "affise", "cake", "tune" or "scaleo". With a preset, URL is the
	// receiver's base URL (scheme, host, an optional path prefix and the account's constant
	// parameters, no macros) and the preset appends its path and parameters.
	Preset string
	// Dialect names the macro syntax of URL and Body: "braces" ({x}, the default),
	// "double_braces" ({{x}}), "hash" (#x#), "brackets" ([x]), "double_brackets" ([[x]]),
	// "percent" (%x%) or "dollar" (${x}). A preset's own templates have their own.
	Dialect string
	// Method is "GET" (the default) or "POST".
	Method string
	// URL is the URL template (with a Preset: the receiver's base URL).
	URL string
	// Body is the body template of a POST; empty means no body.
	Body string
	// BodyType is "json" or "form" when Body is set.
	BodyType string
	// AllowHTTP allows an http:// URL; otherwise only https:// is accepted.
	AllowHTTP bool
	// Secrets are secret values by name, used in templates as {secret:name} (or, in a query
	// string, {query_secret:name}). They are never rendered into a stored Delivery: it holds
	// a placeholder that Request fills in when the delivery is sent. Secrets are part of the
	// configuration: its JSON form carries them.
	Secrets map[string]string
	// Signing says how requests are signed; the zero value signs nothing.
	Signing Signing
	// StatusMap maps statuses to the receiver's words for {status}. A status it leaves out
	// is sent as the preset's word, else as its own name ("approved").
	StatusMap map[event.Status]string
	// Zone is the IANA zone of the time macros; empty means UTC.
	Zone string
	// RetryClientErrors retries 4xx responses (other than 410) instead of dead-lettering.
	RetryClientErrors bool
	// Concurrency is the most attempts in flight at once, per process; 0 means 4.
	Concurrency int
	// RatePerSecond is the most attempts started per second, per process; 0 means no limit.
	RatePerSecond int
	// SendDelay is how long a new delivery waits before its first attempt. In JSON it is a
	// Go duration string ("30s").
	SendDelay time.Duration

	c *compiled // set by Compile
}

// compiled is what Compile makes of an Endpoint. It is never modified.
type compiled struct {
	origin      string // the scheme and host (with any port) every URL of the endpoint has
	method      string
	url         *template
	body        *template // nil: no body
	contentType string
	loc         *time.Location
	status      map[event.Status]string
}

// Compile checks e and compiles its templates; until then, Delivery and Request refuse e.
// The error is an *EndpointError wrapping ErrInvalidEndpoint that names the field, and in a
// template the byte offset and the macro.
func (e *Endpoint) Compile() error {
	c, err := e.compile()
	if err != nil {
		err.Endpoint = e.Name
		return err
	}
	e.c = c
	return nil
}

// fieldError returns the error of field (Offset -1).
func fieldError(field, format string, args ...any) *EndpointError {
	return &EndpointError{Field: field, Offset: -1, Problem: fmt.Sprintf(format, args...)}
}

func (e *Endpoint) compile() (*compiled, *EndpointError) {
	if e.Name == "" {
		return nil, fieldError("name", "required")
	}
	if err := store.CheckKey(e.Name); err != nil {
		return nil, fieldError("name", "%s", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	d, ok := dialectNamed(e.Dialect)
	if !ok {
		return nil, fieldError("dialect", "unknown dialect %q: want one of %s", e.Dialect, dialectNames())
	}
	var p *preset
	if e.Preset != "" {
		if p, ok = presetNamed(e.Preset); !ok {
			return nil, fieldError("preset", "unknown preset %q: want one of %s", e.Preset, strings.Join(Presets(), ", "))
		}
	}
	c := &compiled{method: e.Method}
	if c.method == "" {
		c.method = http.MethodGet
		if p != nil && p.method != "" {
			c.method = p.method
		}
	}
	if c.method != http.MethodGet && c.method != http.MethodPost {
		return nil, fieldError("method", "%q: want GET or POST", e.Method)
	}
	for _, name := range slices.Sorted(maps.Keys(e.Secrets)) {
		v := e.Secrets[name]
		switch {
		case !isIdent(name):
			return nil, fieldError("secrets", "name %q: want lowercase letters, digits and '_', starting with a letter", name)
		case v == "":
			return nil, fieldError("secrets."+name, "empty")
		case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return nil, fieldError("secrets."+name, "not valid UTF-8, or has a control character")
		}
	}
	for _, s := range slices.Sorted(maps.Keys(e.StatusMap)) {
		w := e.StatusMap[s]
		switch {
		case !s.Valid():
			return nil, fieldError("status_map", "unknown status %q: want pending, approved, rejected or reversed", s)
		case w == "":
			return nil, fieldError("status_map."+string(s), "empty")
		case store.CheckKey(w) != nil || strings.Contains(w, placeholderOpen):
			return nil, fieldError("status_map."+string(s), "%q: at most %d bytes of UTF-8 without control characters", w, store.MaxKeyLen)
		}
	}
	c.status = p.statusWords(e.StatusMap)
	c.loc = time.UTC
	if e.Zone != "" {
		loc, err := time.LoadLocation(e.Zone)
		if err != nil {
			return nil, fieldError("zone", "%q is not an IANA zone: %v", e.Zone, err)
		}
		c.loc = loc
	}
	switch {
	case e.Concurrency < 0:
		return nil, fieldError("concurrency", "%d: want 0 (the default) or more", e.Concurrency)
	case e.RatePerSecond < 0:
		return nil, fieldError("rate_per_second", "%d: want 0 (no limit) or more", e.RatePerSecond)
	case e.SendDelay < 0:
		return nil, fieldError("send_delay", "%s: want 0 or more", e.SendDelay)
	}

	var err *EndpointError
	if c.url, err = e.compileURL(d, p); err != nil {
		return nil, err
	}
	if c.body, err = e.compileBody(d, c.method); err != nil {
		return nil, err
	}
	switch e.BodyType {
	case "json":
		c.contentType = "application/json"
	case "form":
		c.contentType = "application/x-www-form-urlencoded"
	}
	if err := c.check(e); err != nil {
		return nil, err
	}
	return c, nil
}

// compileURL compiles the URL template, or the preset's for a base URL.
func (e *Endpoint) compileURL(d dialect, p *preset) (*template, *EndpointError) {
	src := e.URL
	if src == "" {
		return nil, fieldError("url", "required")
	}
	if err := e.checkScheme(src); err != nil {
		return nil, err
	}
	if p != nil {
		pd, _ := dialectNamed(p.dialect)
		if strings.Contains(src, pd.open) || strings.Contains(src, placeholderOpen) {
			return nil, fieldError("url", "with a preset, the URL is the receiver's base URL and has no macros")
		}
		base, err := url.Parse(src)
		if err != nil {
			return nil, fieldError("url", "%v", err)
		}
		if base.Fragment != "" || strings.Contains(src, "#") {
			return nil, fieldError("url", "a fragment ('#') in the URL: a receiver never sees it")
		}
		var problem string
		if src, problem = p.urlTemplate(base, e.Secrets); problem != "" {
			return nil, fieldError("url", "%s", problem)
		}
		d = pd
	}
	t, err := parse(src, d, stHead, &parseEnv{field: "url", secrets: e.Secrets})
	if err != nil {
		if p == nil {
			err.Problem += otherDialect(e.URL, d, stHead, e.Secrets)
		}
		return nil, err
	}
	return t, nil
}

// checkScheme refuses a URL that is not https (or http, with AllowHTTP).
func (e *Endpoint) checkScheme(src string) *EndpointError {
	scheme, _, _ := strings.Cut(src, "://")
	switch strings.ToLower(scheme) {
	case "https":
		return nil
	case "http":
		if e.AllowHTTP {
			return nil
		}
		return fieldError("url", "http:// is refused: postbacks go over https, unless the endpoint sets allow_http")
	}
	return fieldError("url", "want an https:// URL")
}

// compileBody compiles the body template.
func (e *Endpoint) compileBody(d dialect, method string) (*template, *EndpointError) {
	if e.Body == "" {
		if e.BodyType != "" {
			return nil, fieldError("body_type", "%q without a body", e.BodyType)
		}
		return nil, nil
	}
	if method != http.MethodPost {
		return nil, fieldError("method", "a body needs POST")
	}
	var st state
	switch e.BodyType {
	case "json":
		st = stJSON
	case "form":
		st = stForm
	default:
		return nil, fieldError("body_type", "%q: want json or form", e.BodyType)
	}
	t, err := parse(e.Body, d, st, &parseEnv{field: "body", secrets: e.Secrets})
	if err != nil {
		err.Problem += otherDialect(e.Body, d, st, e.Secrets)
		return nil, err
	}
	return t, nil
}

// otherDialect returns a hint naming another dialect in which src parses, or "".
func otherDialect(src string, d dialect, st state, secrets map[string]string) string {
	for _, o := range dialects {
		if o.name == d.name {
			continue
		}
		t, err := parse(src, o, st, &parseEnv{secrets: secrets})
		if err == nil && len(t.segs) > 1 {
			return fmt.Sprintf(" (the template parses in the %q dialect: set dialect)", o.name)
		}
	}
	return ""
}

// check renders c's templates with sample values, as Request would send them, and checks
// what comes out: a URL that parses with the endpoint's scheme, a host and no user or
// fragment; a body that is JSON or a form. Secrets written as they are into a template are
// refused: they belong in Secrets.
func (c *compiled) check(e *Endpoint) *EndpointError {
	for name, v := range e.Secrets {
		if len(v) >= minLintedSecret && (strings.Contains(e.URL, v) || strings.Contains(e.Body, v)) {
			return fieldError("secrets."+name, "the secret's value is written in a template: use {secret:%s} there", name)
		}
	}
	samples := sampleValues()
	fill := make(map[string]string, len(e.Secrets))
	for name := range e.Secrets {
		fill[name] = `s3cr&t <"x">/?#%`
	}
	now := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	for i := range samples {
		r := renderer{v: samples[i], now: now, loc: c.loc, status: c.status}
		u, err := c.url.render(nil, &r)
		if err != nil {
			return fieldError("url", "renders no URL with sample values: %v", err)
		}
		s, ferr := fillSecrets(string(u), fill, urlEsc(string(u)))
		if ferr != nil {
			return fieldError("url", "%v", ferr)
		}
		pu, perr := url.Parse(s)
		if perr == nil && i == 0 {
			c.origin = originOf(pu)
		}
		switch {
		case perr != nil:
			return fieldError("url", "renders a URL that does not parse (%v): %s", perr, u)
		case pu.Scheme != "https" && !(pu.Scheme == "http" && e.AllowHTTP):
			return fieldError("url", "want an https:// URL")
		case pu.User != nil:
			return fieldError("url", "a user name or password in the URL")
		case pu.Host == "" || pu.Opaque != "":
			return fieldError("url", "no host")
		case strings.HasSuffix(pu.Host, ":"):
			return fieldError("url", "an empty port after the host")
		case pu.Fragment != "":
			return fieldError("url", "a fragment ('#') in the URL: a receiver never sees it")
		}
		if _, qerr := url.ParseQuery(pu.RawQuery); qerr != nil {
			return fieldError("url", "renders a query that does not parse (%v): %s", qerr, u)
		}
		if c.body == nil {
			continue
		}
		b, err := c.body.render(nil, &r)
		if err != nil {
			return fieldError("body", "renders no body with sample values: %v", err)
		}
		s, ferr = fillSecrets(string(b), fill, bodyEsc(c.contentType))
		if ferr != nil {
			return fieldError("body", "%v", ferr)
		}
		if e.BodyType == "json" && !json.Valid([]byte(s)) {
			return fieldError("body", "renders a body that is not JSON with sample values: %s", b)
		}
		if _, qerr := url.ParseQuery(s); e.BodyType == "form" && qerr != nil {
			return fieldError("body", "renders a body that is not a form (%v): %s", qerr, b)
		}
	}
	return nil
}

// originOf returns the scheme and host of u, as Request compares them.
func originOf(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// hasOrigin reports whether the URL u has the endpoint's scheme and host, as originOf
// compares them. A URL that starts with the origin as the endpoint's templates render it,
// followed by the end of its authority ('/', '?', '#' or nothing), has it without being
// parsed: the authority ends there, so its host is the origin's. Any other is parsed.
func (c *compiled) hasOrigin(u string) bool {
	if rest, ok := strings.CutPrefix(u, c.origin); ok && (rest == "" || strings.IndexByte("/?#", rest[0]) >= 0) {
		return true
	}
	pu, err := url.Parse(u)
	return err == nil && originOf(pu) == c.origin
}

// minLintedSecret is the length from which a secret's value written into a template is
// refused (shorter ones would match ordinary text).
const minLintedSecret = 8

// sampleValues returns the values a template is checked with: every field set, with the
// characters that break URLs and JSON, and every field empty.
func sampleValues() []Values {
	hard := `a&b=c d/e?f#g%h+i"j\k<l>{m}[n]é`
	return []Values{{
		EventID:        uuid.MustParse("0193a9f0-0000-7000-8000-00000000000e"),
		ConversionID:   uuid.MustParse("0193a9f0-0000-7000-8000-00000000000c"),
		Event:          event.FTD,
		Status:         event.StatusApproved,
		ClickID:        clickid.ID{1, 2, 3},
		ForeignClickID: clickid.Foreign(hard),
		SubIDs:         []string{hard, "", hard},
		PlayerID:       hard,
		AffiliateID:    "aff-1",
		CampaignID:     "camp-1",
		TransactionID:  hard,
		Source:         "src",
		Amount:         money.New(15000, money.EUR),
		Payout:         money.New(2500, money.EUR),
		OccurredAt:     time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC),
		ReceivedAt:     time.Date(2026, 12, 1, 23, 30, 5, 0, time.UTC),
	}, {EventID: uuid.MustParse("0193a9f0-0000-7000-8000-00000000000f")}}
}

// urlEsc returns how a secret placeholder at an offset of the URL u is escaped: in the
// path before the first '?', in the query after it.
func urlEsc(u string) func(off int) esc {
	q := strings.IndexByte(u, '?')
	return func(off int) esc {
		if q >= 0 && off > q {
			return escQuery
		}
		return escPath
	}
}

// bodyEsc returns how a secret placeholder of a body of the content type is escaped.
func bodyEsc(contentType string) func(int) esc {
	return func(int) esc {
		if contentType == "application/json" {
			return escJSON
		}
		return escQuery
	}
}

// maxStackURL is the size of the buffer a URL is rendered into before it is copied into its
// string; longer URLs cost one more allocation.
const maxStackURL = 1024

// Delivery renders the postback of v as a new pending delivery of e: its ID is v.EventID
// (required), its URL and body rendered from e's templates, due at now plus SendDelay. Secret
// macros are placeholders in it ("<secret:token>"), filled in by Request: a stored delivery
// holds no secret. The error wraps ErrInvalidEndpoint for an endpoint never compiled, and
// ErrRender for values the templates cannot carry.
func (e *Endpoint) Delivery(v Values, now time.Time) (store.Delivery, error) {
	c := e.c
	if c == nil {
		return store.Delivery{}, e.notCompiled()
	}
	if v.EventID == uuid.Nil {
		return store.Delivery{}, fmt.Errorf("%w: endpoint %q: the values have no event ID", ErrRender, e.Name)
	}
	r := renderer{v: v, now: now, loc: c.loc, status: c.status}
	var buf [maxStackURL]byte
	u, err := c.url.render(buf[:0], &r)
	if err != nil {
		return store.Delivery{}, fmt.Errorf("endpoint %q: url: %w", e.Name, err)
	}
	if len(u) > store.MaxURLLen {
		return store.Delivery{}, fmt.Errorf("%w: endpoint %q: the URL has %d bytes, at most %d allowed", ErrRender, e.Name, len(u), store.MaxURLLen)
	}
	d := store.Delivery{
		ID:            v.EventID,
		ConversionID:  v.ConversionID,
		Endpoint:      e.Name,
		Method:        c.method,
		URL:           string(u),
		Status:        store.DeliveryPending,
		NextAttemptAt: now.Add(e.SendDelay),
		CreatedAt:     now,
	}
	if c.body != nil {
		b, err := c.body.render(nil, &r)
		if err != nil {
			return store.Delivery{}, fmt.Errorf("endpoint %q: body: %w", e.Name, err)
		}
		if len(b) > store.MaxBodyLen {
			return store.Delivery{}, fmt.Errorf("%w: endpoint %q: the body has %d bytes, at most %d allowed", ErrRender, e.Name, len(b), store.MaxBodyLen)
		}
		d.Body = b
		d.Header = http.Header{"Content-Type": {c.contentType}}
	}
	return d, nil
}

func (e *Endpoint) notCompiled() error {
	return &EndpointError{Endpoint: e.Name, Offset: -1, Problem: "not compiled: call Compile first"}
}

// Request builds the HTTP request that sends d, a delivery of e: the stored URL, header and
// body with e's secrets filled in, signed with e.Signing at now with d.ID as the event ID.
// The error wraps ErrRender for a delivery of another endpoint, one whose URL's scheme or
// host is not e's (rendered when e sent elsewhere: e's secrets and signature never go to a
// host e no longer names), or one that needs a secret e does not have. Its text names no
// secret's value.
func (e *Endpoint) Request(ctx context.Context, d store.Delivery, now time.Time) (*http.Request, error) {
	if e.c == nil {
		return nil, e.notCompiled()
	}
	if d.Endpoint != e.Name {
		return nil, fmt.Errorf("%w: delivery %s belongs to endpoint %q, not %q", ErrRender, d.ID, d.Endpoint, e.Name)
	}
	if !e.c.hasOrigin(d.URL) {
		return nil, fmt.Errorf("%w: delivery %s: its URL's scheme and host are not the endpoint's (%s): it was made for an earlier configuration", ErrRender, d.ID, e.c.origin)
	}
	u := d.URL
	if strings.Contains(u, placeholderOpen) {
		var err error
		if u, err = fillSecrets(d.URL, e.Secrets, urlEsc(d.URL)); err != nil {
			return nil, fmt.Errorf("delivery %s: url: %w", d.ID, err)
		}
	}
	body := d.Body
	if bytes.Contains(body, []byte(placeholderOpen)) {
		s, err := fillSecrets(string(body), e.Secrets, bodyEsc(d.Header.Get("Content-Type")))
		if err != nil {
			return nil, fmt.Errorf("delivery %s: body: %w", d.ID, err)
		}
		body = []byte(s)
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, d.Method, u, rd)
	if err != nil {
		// err quotes the URL, which holds secrets now.
		return nil, fmt.Errorf("%w: delivery %s: the URL does not parse once its secrets are filled in", ErrRender, d.ID)
	}
	if d.Header != nil {
		req.Header = d.Header.Clone()
	}
	if err := e.Signing.Sign(req, d.ID.String(), body, now); err != nil {
		return nil, fmt.Errorf("delivery %s: %w", d.ID, err)
	}
	return req, nil
}
