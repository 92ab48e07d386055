package outbound

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
)

// String returns the endpoint's name and URL with secrets left out, for logs and error
// messages: fmt's %v, %+v and %s of an Endpoint show this, never its Secrets or its
// signing secret.
func (e Endpoint) String() string {
	var b strings.Builder
	b.WriteString("endpoint ")
	b.WriteString(e.Name)
	if e.Preset != "" {
		b.WriteString(" (" + e.Preset + ")")
	}
	b.WriteString(" " + Redact(e.URL))
	if s := e.Signing.String(); s != SchemeNone {
		b.WriteString(" signed " + s)
	}
	return b.String()
}

// GoString returns String(), so that %#v shows no secret either.
func (e Endpoint) GoString() string { return e.String() }

// LogValue implements slog.LogValuer: the endpoint's name, preset, URL (secret parameters
// redacted), the names of its secrets and its signing scheme, never a secret's value.
func (e Endpoint) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("name", e.Name)}
	if e.Preset != "" {
		attrs = append(attrs, slog.String("preset", e.Preset))
	}
	attrs = append(attrs, slog.String("url", Redact(e.URL)))
	if len(e.Secrets) > 0 {
		attrs = append(attrs, slog.Any("secrets", slices.Sorted(maps.Keys(e.Secrets))))
	}
	if e.Signing.Scheme != SchemeNone {
		attrs = append(attrs, slog.Any("signing", e.Signing))
	}
	return slog.GroupValue(attrs...)
}

// String returns the scheme and key ID, never the secret: "s2s-v1 (key k1)",
// "standard-webhooks", or "" for no signing.
func (s Signing) String() string {
	if s.KeyID != "" {
		return s.Scheme + " (key " + s.KeyID + ")"
	}
	return s.Scheme
}

// GoString returns String(), so that %#v shows no secret either.
func (s Signing) GoString() string { return s.String() }

// LogValue implements slog.LogValuer: the scheme and key ID, never the secret.
func (s Signing) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("scheme", s.Scheme)}
	if s.KeyID != "" {
		attrs = append(attrs, slog.String("key_id", s.KeyID))
	}
	return slog.GroupValue(attrs...)
}
