package outbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/s2skit/s2s/event"
)

// endpointJSON is the JSON form of an Endpoint.
type endpointJSON struct {
	Name              string                  `json:"name"`
	Preset            string                  `json:"preset,omitempty"`
	Dialect           string                  `json:"dialect,omitempty"`
	Method            string                  `json:"method,omitempty"`
	URL               string                  `json:"url"`
	Body              string                  `json:"body,omitempty"`
	BodyType          string                  `json:"body_type,omitempty"`
	AllowHTTP         bool                    `json:"allow_http,omitempty"`
	Secrets           map[string]string       `json:"secrets,omitempty"`
	Signing           Signing                 `json:"signing,omitzero"`
	StatusMap         map[event.Status]string `json:"status_map,omitempty"`
	Zone              string                  `json:"zone,omitempty"`
	RetryClientErrors bool                    `json:"retry_client_errors,omitempty"`
	Concurrency       int                     `json:"concurrency,omitempty"`
	RatePerSecond     int                     `json:"rate_per_second,omitempty"`
	SendDelay         string                  `json:"send_delay,omitempty"`
}

// MarshalJSON implements json.Marshaler: the fields under their snake_case names
// ("body_type", "status_map", "send_delay" as a Go duration string such as "30s"), empty
// ones left out. Secrets are included: the JSON is the endpoint's configuration, to be kept
// as secret as they are (String and LogValue, for logs, leave them out). json.Marshal
// writes a URL's "&" as "\u0026", which decodes the same; a json.Encoder with
// SetEscapeHTML(false) keeps it "&", for a file that people read.
func (e Endpoint) MarshalJSON() ([]byte, error) {
	j := endpointJSON{
		Name: e.Name, Preset: e.Preset, Dialect: e.Dialect, Method: e.Method, URL: e.URL,
		Body: e.Body, BodyType: e.BodyType, AllowHTTP: e.AllowHTTP, Secrets: e.Secrets,
		Signing: e.Signing, StatusMap: e.StatusMap, Zone: e.Zone,
		RetryClientErrors: e.RetryClientErrors, Concurrency: e.Concurrency,
		RatePerSecond: e.RatePerSecond,
	}
	if e.SendDelay != 0 {
		j.SendDelay = e.SendDelay.String()
	}
	// Not HTML-escaped here, so that an encoder that does not escape HTML writes "&".
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON implements json.Unmarshaler, strictly: a field the endpoint does not have is
// an error (a misspelt "send_dealy" would otherwise be a delay silently dropped). The decoded
// endpoint is compiled: the error of an invalid one is the *EndpointError of Compile, and e
// is left unchanged.
func (e *Endpoint) UnmarshalJSON(b []byte) error {
	var j endpointJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return jsonError("", err)
	}
	n := Endpoint{
		Name: j.Name, Preset: j.Preset, Dialect: j.Dialect, Method: j.Method, URL: j.URL,
		Body: j.Body, BodyType: j.BodyType, AllowHTTP: j.AllowHTTP, Secrets: j.Secrets,
		Signing: j.Signing, StatusMap: j.StatusMap, Zone: j.Zone,
		RetryClientErrors: j.RetryClientErrors, Concurrency: j.Concurrency,
		RatePerSecond: j.RatePerSecond,
	}
	if j.SendDelay != "" {
		d, err := time.ParseDuration(j.SendDelay)
		if err != nil {
			return &EndpointError{Endpoint: j.Name, Field: "send_delay", Offset: -1, Problem: fmt.Sprintf("%q: want a Go duration such as \"30s\"", j.SendDelay)}
		}
		n.SendDelay = d
	}
	if err := n.Compile(); err != nil {
		return err
	}
	*e = n
	return nil
}

// jsonError turns a decoding error into an *EndpointError of the field path at (the path of
// the endpoint, "" for a lone one), naming the JSON field when the decoder says which.
func jsonError(at string, err error) error {
	var ee *EndpointError
	if errors.As(err, &ee) {
		if at != "" {
			ee.Field = join(at, ee.Field)
		}
		return ee
	}
	field, problem := at, strings.TrimPrefix(err.Error(), "json: ")
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		field = join(at, te.Field)
		problem = fmt.Sprintf("a JSON %s, want %s", te.Value, te.Type)
	}
	return &EndpointError{Field: field, Offset: -1, Problem: problem}
}

func join(at, field string) string {
	switch {
	case at == "":
		return field
	case field == "":
		return at
	}
	return at + "." + field
}

// Endpoints is a list of endpoints, such as a configuration file's. Its JSON form is an
// array of endpoints, decoded strictly and compiled; errors name the endpoint by its
// position, as in `endpoints[1].url`. Names are unique.
type Endpoints []*Endpoint

// UnmarshalJSON implements json.Unmarshaler: every endpoint is decoded as
// Endpoint.UnmarshalJSON does and compiled, and names must be unique. The error is an
// *EndpointError whose Field starts with endpoints[i].
func (es *Endpoints) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return jsonError("endpoints", err)
	}
	list := make(Endpoints, len(raw))
	for i, r := range raw {
		list[i] = new(Endpoint)
		if err := list[i].UnmarshalJSON(r); err != nil {
			return jsonError(fmt.Sprintf("endpoints[%d]", i), err)
		}
	}
	if err := list.unique(); err != nil {
		return err
	}
	*es = list
	return nil
}

// Compile compiles every endpoint of es (see Endpoint.Compile) and checks that names are
// unique. The error is an *EndpointError whose Field starts with endpoints[i].
func (es Endpoints) Compile() error {
	for i, e := range es {
		if e == nil {
			return &EndpointError{Field: fmt.Sprintf("endpoints[%d]", i), Offset: -1, Problem: "nil"}
		}
		if err := e.Compile(); err != nil {
			return jsonError(fmt.Sprintf("endpoints[%d]", i), err)
		}
	}
	return es.unique()
}

func (es Endpoints) unique() error {
	seen := make(map[string]int, len(es))
	for i, e := range es {
		if j, ok := seen[e.Name]; ok {
			return &EndpointError{Endpoint: e.Name, Field: fmt.Sprintf("endpoints[%d].name", i), Offset: -1,
				Problem: fmt.Sprintf("repeats endpoints[%d].name", j)}
		}
		seen[e.Name] = i
	}
	return nil
}

// Lookup returns a function that finds an endpoint of es by name, as a Worker looks
// endpoints up. It indexes es once: later changes to the list are not seen.
func (es Endpoints) Lookup() func(name string) (*Endpoint, bool) {
	m := make(map[string]*Endpoint, len(es))
	for _, e := range es {
		if e != nil {
			m[e.Name] = e
		}
	}
	return func(name string) (*Endpoint, bool) {
		e, ok := m[name]
		return e, ok
	}
}
