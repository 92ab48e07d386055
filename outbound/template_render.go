package outbound

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/event"
)

// renderer is what a template is rendered from: one delivery's values.
type renderer struct {
	v      Values    // by value: a pointer would move the caller's Values to the heap (the zone leaks)
	now    time.Time // the sent_at time: when the delivery is made
	loc    *time.Location
	status map[event.Status]string // the endpoint's words for statuses
	click  string                  // when set, the text of {click_id} in place of v.ClickID (a Link's ClickRef)
}

// render appends t rendered with r's values to dst. Secrets go out as their placeholders.
func (t *template) render(dst []byte, r *renderer) ([]byte, error) {
	for i := range t.segs {
		s := &t.segs[i]
		if s.kind != segValue {
			dst = append(dst, s.lit...)
			continue
		}
		n := len(dst)
		var ok bool
		switch {
		case s.fn == fnSHA256:
			dst, ok = r.appendHash(dst, s), true
		case s.fkind == kJSON:
			dst, ok = r.appendJSONMacro(dst, s)
		default:
			if str, plain := r.text(s); plain {
				dst, ok = appendValue(dst, str, s)
			} else {
				var buf [64]byte
				dst, ok = appendValue(dst, r.appendFormatted(buf[:0], s), s)
			}
		}
		if !ok {
			return dst, fmt.Errorf("%w: %s: the value of %s", ErrRender, t.where(), s.name())
		}
		if len(dst) == n {
			dst = append(dst, s.def...)
		}
	}
	return dst, nil
}

// where names the template in an error.
func (t *template) where() string {
	if t.src != "" && len(t.src) < 80 {
		return strconv.Quote(t.src)
	}
	return "template"
}

// name returns the macro name of s, for an error.
func (s *seg) name() string {
	if s.field == fSub {
		return "sub" + strconv.Itoa(s.sub)
	}
	for _, f := range fields {
		if f.field == s.field {
			return f.name
		}
	}
	return "?"
}

// appendValue appends v escaped as s says (raw: as it is, if a URL can carry it so). It
// reports false for a value the position cannot carry: invalid UTF-8 in JSON, or a raw value
// that would break the URL (see rawOK).
func appendValue[T string | []byte](dst []byte, v T, s *seg) ([]byte, bool) {
	if s.fn != fnRaw {
		return appendEscaped(dst, v, s.esc)
	}
	if !rawOK(v) {
		return dst, false
	}
	return append(dst, v...), true
}

// rawOK reports whether a raw value can go into a URL as it is and leave it parseable:
// printable ASCII, without '<' (which would forge a secret placeholder), '#' (a fragment) or
// ';' (which url.ParseQuery refuses), and with every '%' starting a percent-escape.
func rawOK[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c <= ' ' || c >= 0x7f || c == '<' || c == '#' || c == ';':
			return false
		case c == '%' && (i+2 >= len(v) || !isHex(v[i+1]) || !isHex(v[i+2])):
			return false
		}
	}
	return true
}

// text returns the value of s's field when it is a string as it is, and reports whether it
// is one (false for the fields that are formatted).
func (r *renderer) text(s *seg) (string, bool) {
	v := &r.v
	switch s.field {
	case fClickID:
		if r.click != "" {
			return r.click, true
		}
	case fEvent:
		return string(v.Event), true
	case fStatus:
		if w, ok := r.status[v.Status]; ok {
			return w, true
		}
		return string(v.Status), true
	case fForeignClickID:
		return string(v.ForeignClickID), true
	case fSub:
		if s.sub <= len(v.SubIDs) {
			return v.SubIDs[s.sub-1], true
		}
		return "", true
	case fPlayerID:
		return v.PlayerID, true
	case fAffiliateID:
		return v.AffiliateID, true
	case fCampaignID:
		return v.CampaignID, true
	case fTransactionID:
		return v.TransactionID, true
	case fSource:
		return v.Source, true
	case fCurrency:
		return v.Amount.Currency().String(), true
	case fPayoutCurrency:
		return v.Payout.Currency().String(), true
	}
	return "", false
}

// appendFormatted appends the value of a formatted field (an ID, an amount, a time) to dst.
// A missing value (a zero ID, an amount without a currency, a zero time) appends nothing.
func (r *renderer) appendFormatted(dst []byte, s *seg) []byte {
	v := &r.v
	switch s.field {
	case fEventID:
		return appendUUID(dst, v.EventID)
	case fConversionID:
		return appendUUID(dst, v.ConversionID)
	case fClickID:
		if v.ClickID.IsZero() {
			return dst
		}
		dst, _ = v.ClickID.AppendText(dst)
		return dst
	case fAmount, fPayout:
		a := v.Amount
		if s.field == fPayout {
			a = v.Payout
		}
		if a.Currency() == 0 {
			return dst
		}
		if s.format == fmtMinor {
			return strconv.AppendInt(dst, a.Minor(), 10)
		}
		return a.AppendDecimal(dst)
	case fOccurredAt:
		return r.appendTime(dst, v.OccurredAt, s.format)
	case fReceivedAt:
		return r.appendTime(dst, v.ReceivedAt, s.format)
	case fSentAt:
		return r.appendTime(dst, r.now, s.format)
	}
	str, _ := r.text(s)
	return append(dst, str...)
}

// appendTime appends t in the endpoint's zone and the format; a zero t appends nothing.
func (r *renderer) appendTime(dst []byte, t time.Time, format string) []byte {
	if t.IsZero() {
		return dst
	}
	switch format {
	case fmtUnix:
		return strconv.AppendInt(dst, t.Unix(), 10)
	case fmtUnixMS:
		return strconv.AppendInt(dst, t.UnixMilli(), 10)
	case fmtDefault, fmtRFC3339:
		format = time.RFC3339
	case fmtDate:
		format = time.DateOnly
	case fmtDateTime:
		format = time.DateTime
	}
	return t.In(r.loc).AppendFormat(dst, format)
}

// appendHash appends the lowercase hex SHA-256 of the field's value, or nothing for an
// empty value.
func (r *renderer) appendHash(dst []byte, s *seg) []byte {
	var buf [512]byte
	var in []byte
	if str, plain := r.text(s); plain {
		in = append(buf[:0], str...)
	} else {
		in = r.appendFormatted(buf[:0], s)
	}
	if len(in) == 0 {
		return dst
	}
	sum := sha256.Sum256(in)
	for _, b := range sum {
		dst = append(dst, lowerHex[b>>4], lowerHex[b&15])
	}
	return dst
}

const lowerHex = "0123456789abcdef"

// appendUUID appends id in its canonical form, or nothing for the zero UUID.
func appendUUID(dst []byte, id uuid.UUID) []byte {
	if id == uuid.Nil {
		return dst
	}
	for i, b := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, lowerHex[b>>4], lowerHex[b&15])
	}
	return dst
}

// appendJSONMacro appends the values as a JSON object, escaped for s's position.
func (r *renderer) appendJSONMacro(dst []byte, s *seg) ([]byte, bool) {
	var buf [1024]byte
	obj, ok := r.appendValuesJSON(buf[:0])
	if !ok {
		return dst, false
	}
	return appendEscaped(dst, obj, s.esc)
}

// appendValuesJSON appends the values as one JSON object, fields in a fixed order and empty
// ones left out: {"event_id":"...","event":"ftd","status":"approved",...,"sub_ids":["a"]}.
// Amounts are decimal strings, times RFC 3339 in the endpoint's zone. It reports false for
// a value that is not valid UTF-8.
func (r *renderer) appendValuesJSON(dst []byte) ([]byte, bool) {
	dst = append(dst, '{')
	first, ok := true, true
	key := func(k string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
	}
	str := func(k string, v []byte) {
		if len(v) == 0 || !ok {
			return
		}
		key(k)
		dst = append(dst, '"')
		dst, ok = appendJSONString(dst, v)
		dst = append(dst, '"')
	}
	var buf [64]byte
	for _, f := range fields {
		if f.kind == kJSON {
			continue
		}
		s := seg{field: f.field, fkind: f.kind}
		if v, plain := r.text(&s); plain {
			str(f.name, append(buf[:0], v...))
			if f.field == fForeignClickID {
				// The sub IDs follow, as one array.
				if n := len(r.v.SubIDs); n > 0 && ok {
					key("sub_ids")
					dst = append(dst, '[')
					for i, sub := range r.v.SubIDs {
						if i > 0 {
							dst = append(dst, ',')
						}
						dst = append(dst, '"')
						dst, ok = appendJSONString(dst, sub)
						dst = append(dst, '"')
					}
					dst = append(dst, ']')
				}
			}
			continue
		}
		str(f.name, r.appendFormatted(buf[:0], &s))
	}
	return append(dst, '}'), ok
}

// fillSecrets returns s with every secret placeholder replaced by its secret, escaped by
// escAt(offset of the placeholder). A placeholder of a secret the endpoint no longer has is an
// error that names it.
func fillSecrets(s string, secrets map[string]string, escAt func(off int) esc) (string, error) {
	if !strings.Contains(s, placeholderOpen) {
		return s, nil
	}
	var b []byte
	rest, off := s, 0
	for {
		i := strings.Index(rest, placeholderOpen)
		if i < 0 {
			break
		}
		end := strings.IndexByte(rest[i:], '>')
		if end < 0 {
			return "", fmt.Errorf("%w: an unterminated secret placeholder", ErrRender)
		}
		name := rest[i+len(placeholderOpen) : i+end]
		secret, ok := secrets[name]
		if !ok {
			return "", fmt.Errorf("%w: %q", errNoSecret, name)
		}
		b = append(b, rest[:i]...)
		if b, ok = appendEscaped(b, secret, escAt(off+i)); !ok {
			return "", fmt.Errorf("%w: the secret %q is not valid UTF-8", ErrRender, name)
		}
		rest, off = rest[i+end+1:], off+i+end+1
	}
	return string(append(b, rest...)), nil
}
