package s2s

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// inboundTimeout bounds the write of one record of the inbound log, which runs after the
// sender was answered, whether or not the sender is still connected.
const inboundTimeout = 5 * time.Second

// redacted replaces the value of a secret parameter in the inbound log.
const redacted = "[redacted]"

// answered tells the Observer of an answered postback, logs it with slog at level Debug, and
// writes its record to the inbound log. Nothing it does changes the answer, which is sent.
func (t *Tracker) answered(r *http.Request, name string, b *builtSource, a *postback.Answer, start time.Time, elapsed time.Duration, body []byte) {
	src := ""
	var extra []string
	if b != nil {
		src, extra = name, b.redact
	}
	outcome := outcomeOf(a)
	t.observe(PostbackObservation{Source: src, Outcome: outcome, Reason: a.Result.Reason, Status: a.Status, Latency: elapsed})
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), inboundTimeout)
	defer cancel()
	t.log.LogAttrs(ctx, slog.LevelDebug, "s2s: postback answered", slog.String("source", keep(name)),
		slog.String("outcome", outcome), slog.String("reason", string(a.Result.Reason)), slog.Int("status", a.Status),
		slog.String("remote", r.RemoteAddr), slog.Duration("duration", elapsed))
	id, err := t.newID()
	if err != nil {
		t.log.LogAttrs(ctx, slog.LevelError, "s2s: inbound log not written", slog.String("source", keep(name)), slog.String("error", err.Error()))
		return
	}
	rec := store.InboundRecord{
		ID: id, ReceivedAt: start, Source: keep(name), Method: keep(r.Method), RemoteAddr: keep(r.RemoteAddr), Outcome: outcome,
		Reason: keep(string(a.Result.Reason)), HTTPStatus: a.Status, Params: inboundParams(r, body, extra),
		ConversionID: a.Result.ConversionID, Duration: elapsed,
	}
	if err := t.st.LogInbound(ctx, rec); err != nil {
		t.log.LogAttrs(ctx, slog.LevelError, "s2s: inbound log not written", slog.String("source", rec.Source),
			slog.String("outcome", outcome), slog.String("error", err.Error()))
	}
}

// PruneInbound deletes the records of the inbound log older than the configured retention
// (Config.Inbound.Retention, by default DefaultInboundRetention) and returns how many it
// deleted. Run calls it periodically; a host that does not use Run calls it on a timer.
func (t *Tracker) PruneInbound(ctx context.Context) (int, error) {
	cc := t.cfg.Load()
	n, err := t.st.PruneInbound(ctx, store.PruneInboundParams{Before: t.now().Add(-cc.retention)})
	if err != nil {
		return n, fmt.Errorf("s2s: prune inbound log: %w", err)
	}
	return n, nil
}

// inboundParams returns the parameters of a postback as the inbound log keeps them: the raw
// query on the first line and, if the request had a body, the body on the second, each
// value of a secret parameter (see secretParam) replaced by "[redacted]". A form body is
// written as a query is; a JSON body, when it is a flat object, as its object; another body
// only by its type and length. The text is made valid UTF-8 without NUL and cut to
// store.MaxTextLen bytes at a character's boundary.
func inboundParams(r *http.Request, body []byte, extra []string) string {
	var b strings.Builder
	b.Grow(len(r.URL.RawQuery) + len(body) + 16) // a redacted value is seldom longer than the value
	redactQuery(&b, r.URL.RawQuery, extra)
	if len(body) > 0 {
		b.WriteByte('\n')
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case mt == "application/x-www-form-urlencoded":
			redactQuery(&b, string(body), extra)
		case mt == "application/json" && redactJSON(&b, body, extra):
		default:
			fmt.Fprintf(&b, "(a body of %d bytes, %q, not shown)", len(body), keep(mt))
		}
	}
	return storableText(b.String(), store.MaxTextLen)
}

// redactQuery writes the raw query q to b with the values of secret parameters redacted.
func redactQuery(b *strings.Builder, q string, extra []string) {
	for i := 0; q != ""; i++ {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if i > 0 {
			b.WriteByte('&')
		}
		k, _, hasValue := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && secretParam(name, extra) {
			b.WriteString(k)
			b.WriteString("=" + redacted)
			continue
		}
		b.WriteString(pair)
	}
}

// redactJSON writes a flat JSON object to b, in the order sent, with the values of secret
// parameters redacted, and reports whether body was one.
func redactJSON(b *strings.Builder, body []byte, extra []string) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		k, ok := tok.(string)
		if err != nil || !ok {
			return false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil || len(v) == 0 || v[0] == '{' || v[0] == '[' {
			return false
		}
		if i > 0 {
			out.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		if secretParam(k, extra) {
			out.WriteString(`"` + redacted + `"`)
		} else {
			out.Write(v)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return false
	}
	out.WriteByte('}')
	b.Write(out.Bytes())
	return true
}

// secretWords are the parts of a parameter's name that make it secret in the inbound log:
// a signature, a token, a secret, a password, an API key, a hash.
var secretWords = []string{"sig", "token", "secret", "pass", "auth", "key", "hash", "hmac"}

// secretParam reports whether the parameter name (decoded) carries a secret: its name,
// in any case, contains one of secretWords, or it is one of extra (a source's token
// parameter, such as Affise's "secure").
func secretParam(name string, extra []string) bool {
	l := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	for _, e := range extra {
		if strings.EqualFold(name, e) {
			return true
		}
	}
	return false
}

// storableText returns s as a store keeps text: invalid UTF-8 and NUL bytes replaced by
// U+FFFD, cut to at most max bytes at a character's boundary.
func storableText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
