package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// Errors of endpoints and their templates.
var (
	// ErrInvalidEndpoint reports an endpoint that fails validation; the message names the
	// field, as in `outbound: invalid endpoint: endpoints[1].url: ...`.
	ErrInvalidEndpoint = errors.New("outbound: invalid endpoint")
	// ErrRender reports values that an endpoint cannot render into a delivery.
	ErrRender = errors.New("outbound: cannot render")
)

// Endpoint is one receiver of outbound postbacks, as configuration: where and how its
// postbacks go, rendered from templates. It is plain data with a JSON form; [Endpoint.Compile]
// checks it and compiles its templates once, after which Delivery and Request may be called
// from many goroutines. Change a compiled Endpoint only by compiling it again.
type Endpoint struct {
	// Name names the endpoint: required, under store.CheckKey's rules. It is the
	// Delivery.Endpoint of its deliveries.
	Name string `json:"name"`
	// Preset names a receiver preset ("everflow", "voluum", ...): the preset gives the
	// method, the path and query of the URL and the body, and URL is the receiver's base URL.
	Preset string `json:"preset,omitempty"`
	// Dialect names the macro syntax of URL and Body: "braces" ({x}, the default),
	// "double_braces" ({{x}}), "hash" (#x#), "brackets" ([x]), "double_brackets" ([[x]]),
	// "percent" (%x%) or "dollar" (${x}). A preset fixes its own.
	Dialect string `json:"dialect,omitempty"`
	// Method is "GET" (the default) or "POST".
	Method string `json:"method,omitempty"`
	// URL is the URL template (with a Preset: the receiver's base URL).
	URL string `json:"url"`
	// Body is the body template of a POST; empty means no body.
	Body string `json:"body,omitempty"`
	// BodyType is "json" or "form" when Body is set.
	BodyType string `json:"body_type,omitempty"`
	// AllowHTTP allows an http:// URL; otherwise only https:// is accepted.
	AllowHTTP bool `json:"allow_http,omitempty"`
	// Secrets are secret values by macro name ({secret:name}). They are never rendered into a
	// stored Delivery: Request fills them in when the delivery is sent.
	Secrets map[string]string `json:"secrets,omitempty"`
	// Signing says how requests are signed; the zero value signs nothing.
	Signing Signing `json:"signing,omitzero"`
	// StatusMap maps statuses to the receiver's words for {status}; a status it leaves out
	// is sent as the preset's word, else as its own name.
	StatusMap map[event.Status]string `json:"status_map,omitempty"`
	// Zone is the IANA zone of date macros; empty means UTC.
	Zone string `json:"zone,omitempty"`
	// RetryClientErrors retries 4xx responses (other than 410) instead of dead-lettering.
	RetryClientErrors bool `json:"retry_client_errors,omitempty"`
	// Concurrency is the most attempts in flight at once, per process; 0 means 4.
	Concurrency int `json:"concurrency,omitempty"`
	// RatePerSecond is the most attempts started per second, per process; 0 means no limit.
	RatePerSecond int `json:"rate_per_second,omitempty"`
	// SendDelay is how long a new delivery waits before its first attempt. In JSON it is a
	// Go duration string ("30s") (not yet: nanoseconds in this first version).
	SendDelay time.Duration `json:"send_delay,omitempty"`

	c *compiled // set by Compile
}

// compiled is what Compile makes of an Endpoint. It is never modified.
type compiled struct {
	method string
	url    string
}

// Compile checks e and compiles its templates. Delivery and Request refuse an endpoint that
// was not compiled; decoding an Endpoint from JSON compiles it. The error wraps
// ErrInvalidEndpoint and names the field.
func (e *Endpoint) Compile() error {
	if err := store.CheckKey(e.Name); err != nil || e.Name == "" {
		return fmt.Errorf("%w: name: required, under the store's rules for identifiers", ErrInvalidEndpoint)
	}
	m := e.Method
	if m == "" {
		m = http.MethodGet
	}
	if m != http.MethodGet && m != http.MethodPost {
		return fmt.Errorf("%w: %s: method: %q, want GET or POST", ErrInvalidEndpoint, e.Name, e.Method)
	}
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && e.AllowHTTP)) || u.Host == "" {
		return fmt.Errorf("%w: %s: url: want an https URL", ErrInvalidEndpoint, e.Name)
	}
	e.c = &compiled{method: m, url: e.URL}
	return nil
}

// Delivery renders the postback of v as a new pending delivery: its ID is v.EventID, its URL,
// header and body rendered from e's templates, due at now plus SendDelay. Secrets are not in
// it: they are filled in by Request.
func (e *Endpoint) Delivery(v Values, now time.Time) (store.Delivery, error) {
	if e.c == nil {
		return store.Delivery{}, fmt.Errorf("%w: endpoint %q was not compiled", ErrInvalidEndpoint, e.Name)
	}
	if v.EventID == uuid.Nil {
		return store.Delivery{}, fmt.Errorf("%w: values: event ID is required", ErrRender)
	}
	r := strings.NewReplacer(
		"{event_id}", url.QueryEscape(v.EventID.String()),
		"{transaction_id}", url.QueryEscape(v.TransactionID),
		"{status}", url.QueryEscape(string(v.Status)),
	)
	return store.Delivery{
		ID:            v.EventID,
		ConversionID:  v.ConversionID,
		Endpoint:      e.Name,
		Method:        e.c.method,
		URL:           r.Replace(e.c.url),
		Status:        store.DeliveryPending,
		NextAttemptAt: now.Add(e.SendDelay),
		CreatedAt:     now,
	}, nil
}

// Request builds the HTTP request that sends d, a delivery of e: it fills in e's secrets and
// signs the request with e.Signing at now.
func (e *Endpoint) Request(ctx context.Context, d store.Delivery, now time.Time) (*http.Request, error) {
	if e.c == nil {
		return nil, fmt.Errorf("%w: endpoint %q was not compiled", ErrInvalidEndpoint, e.Name)
	}
	req, err := http.NewRequestWithContext(ctx, d.Method, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return nil, fmt.Errorf("%w: delivery %s: %w", ErrRender, d.ID, err)
	}
	for k, vs := range d.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if err := e.Signing.Sign(req, d.ID.String(), d.Body, now); err != nil {
		return nil, err
	}
	return req, nil
}
