package outbound

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/s2skit/s2s/store"
)

// A dialect is the macro syntax of a template: the strings that open and close a macro.
type dialect struct {
	name, open, close string
}

// dialects lists the dialects by name, the default first. It is never modified.
var dialects = [...]dialect{
	{"braces", "{", "}"},
	{"double_braces", "{{", "}}"},
	{"hash", "#", "#"},
	{"brackets", "[", "]"},
	{"double_brackets", "[[", "]]"},
	{"percent", "%", "%"},
	{"dollar", "${", "}"},
}

// dialectNamed returns the dialect called name; "" is braces.
func dialectNamed(name string) (dialect, bool) {
	if name == "" {
		return dialects[0], true
	}
	for _, d := range dialects {
		if d.name == name {
			return d, true
		}
	}
	return dialect{}, false
}

// dialectNames returns the names of the dialects, for error messages.
func dialectNames() string {
	var b strings.Builder
	for i, d := range dialects {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(d.name))
	}
	return b.String()
}

// esc is how a value is escaped where its macro sits.
type esc uint8

const (
	escQuery    esc = iota // a query component or a form value: url.QueryEscape's rules
	escPath                // a path segment: every byte but the unreserved ones (and '.') percent-encoded
	escJSON                // inside a JSON string
	escJSONBare            // outside a JSON string: a number or a JSON value, written as it is
)

// field names the value a macro reads.
type field uint8

const (
	fEventID field = iota + 1
	fConversionID
	fEvent
	fStatus
	fClickID
	fForeignClickID
	fSub
	fPlayerID
	fAffiliateID
	fCampaignID
	fTransactionID
	fSource
	fAmount
	fCurrency
	fPayout
	fPayoutCurrency
	fOccurredAt
	fReceivedAt
	fSentAt
	fJSON
)

// kind is the type of a field's value, which decides the formats it takes.
type kind uint8

const (
	kString kind = iota
	kMoney
	kTime
	kJSON
)

// fieldInfo describes a macro name.
type fieldInfo struct {
	name  string
	field field
	kind  kind
	// sent is true for a value that comes from the postback a sender sent (or may contain
	// one): it is never written raw.
	sent bool
}

// fields lists the macro names. It is never modified.
var fields = [...]fieldInfo{
	{"event_id", fEventID, kString, false},
	{"conversion_id", fConversionID, kString, false},
	{"event", fEvent, kString, true},
	{"status", fStatus, kString, false},
	{"click_id", fClickID, kString, false},
	{"foreign_click_id", fForeignClickID, kString, true},
	{"player_id", fPlayerID, kString, true},
	{"affiliate_id", fAffiliateID, kString, false},
	{"campaign_id", fCampaignID, kString, false},
	{"transaction_id", fTransactionID, kString, true},
	{"source", fSource, kString, true},
	{"amount", fAmount, kMoney, false},
	{"currency", fCurrency, kString, false},
	{"payout", fPayout, kMoney, false},
	{"payout_currency", fPayoutCurrency, kString, false},
	{"occurred_at", fOccurredAt, kTime, false},
	{"received_at", fReceivedAt, kTime, false},
	{"sent_at", fSentAt, kTime, false},
	{"json", fJSON, kJSON, true},
}

// lookupField returns the field a macro name reads: one of fields, or subN for N in 1 ..
// store.MaxSubIDs.
func lookupField(name string) (fieldInfo, int, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, 0, true
		}
	}
	if n, ok := strings.CutPrefix(name, "sub"); ok && n != "" && n[0] != '0' {
		i, err := strconv.Atoi(n)
		if err == nil && i >= 1 && i <= store.MaxSubIDs {
			return fieldInfo{name: name, field: fSub, kind: kString, sent: true}, i, true
		}
	}
	return fieldInfo{}, 0, false
}

// Functions a macro may apply to its field, written fn:name.
const (
	fnNone        = ""
	fnRaw         = "raw"          // the value unescaped (never a value from the postback)
	fnSHA256      = "sha256"       // the lowercase hex SHA-256 of the value
	fnSecret      = "secret"       // an Endpoint.Secrets value, filled in at send time
	fnQuerySecret = "query_secret" // a secret the receiver requires in its query string
)

// Time formats by name; any other format is a Go layout.
const (
	fmtDefault  = ""
	fmtMinor    = "minor"
	fmtMajor    = "major"
	fmtUnix     = "unix"
	fmtUnixMS   = "unix_ms"
	fmtRFC3339  = "rfc3339"
	fmtDate     = "date"
	fmtDateTime = "datetime"
)

// segKind is what a segment of a compiled template writes.
type segKind uint8

const (
	segLit    segKind = iota // lit, as it is
	segValue                 // a field's value, escaped for its position
	segSecret                // lit: the placeholder of a secret, filled in by Request
)

// seg is one segment of a compiled template.
type seg struct {
	kind   segKind
	lit    string // segLit: the text; segSecret: the placeholder
	field  field
	fkind  kind
	sub    int    // fSub: the sub ID's number, from 1
	fn     string // fnNone, fnRaw or fnSHA256
	format string // fmtDefault, a named format or a Go layout
	esc    esc
	hasDef bool
	def    string // the default, escaped for the position
}

// template is a compiled template: literal text and macros, each knowing how its value is
// escaped. It is never modified after parse.
type template struct {
	src     string
	dialect dialect
	segs    []seg
}

// state is where the parser is in the text it scans.
type state uint8

const (
	stHead  state = iota // a URL's scheme and authority: no macro allowed
	stPath               // a URL's path
	stQuery              // a URL's query
	stJSON               // a JSON body
	stForm               // a form body
)

// parseEnv is what a parse needs to know about its endpoint.
type parseEnv struct {
	field   string            // the field the template is in, for errors: "url", "body"
	secrets map[string]string // the endpoint's secrets, by name
}

// errorf returns the error of the template at byte offset off.
func (env *parseEnv) errorf(off int, macro string, format string, args ...any) *EndpointError {
	return &EndpointError{Field: env.field, Offset: off, Macro: macro, Problem: fmt.Sprintf(format, args...)}
}

// parse compiles src in dialect d, starting in state st. A URL (stHead) must begin with a
// scheme and an authority that carry no macro.
func parse(src string, d dialect, st state, env *parseEnv) (*template, *EndpointError) {
	t := &template{src: src, dialect: d}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segs = append(t.segs, seg{kind: segLit, lit: lit.String()})
			lit.Reset()
		}
	}
	i := 0
	if st == stHead {
		j := strings.Index(src, "://")
		if j < 0 {
			return nil, env.errorf(0, "", "want an absolute URL, as https://host/path")
		}
		// The authority ends at the path or the query; a '#' inside it is a fragment (refused
		// when the URL is checked) or, in the hash dialect, a macro (refused here).
		end := j + 3 + strings.IndexAny(src[j+3:], "/?")
		if end < j+3 {
			end = len(src)
		}
		if k := strings.Index(src[:end], d.open); k >= 0 {
			return nil, env.errorf(k, macroText(src, k, d), "a macro in the scheme or host: only the path and the query may carry values")
		}
		if end == j+3 {
			return nil, env.errorf(j+3, "", "no host")
		}
		i, st = end, stPath
		lit.WriteString(src[:end])
	}
	inString, backslash := false, false // the JSON lexical state of the literal text
	for i < len(src) {
		c := src[i]
		if c < 0x20 || c == 0x7f {
			return nil, env.errorf(i, "", "control character %U in the template", rune(c))
		}
		if strings.HasPrefix(src[i:], placeholderOpen) {
			return nil, env.errorf(i, "", "the text %q is reserved for secret placeholders", placeholderOpen)
		}
		if strings.HasPrefix(src[i:], d.open) && startsMacro(src, i, d, st) {
			end := strings.Index(src[i+len(d.open):], d.close)
			if end < 0 {
				return nil, env.errorf(i, src[i:min(len(src), i+32)], "unbalanced %q: no closing %q", d.open, d.close)
			}
			body := src[i+len(d.open) : i+len(d.open)+end]
			text := src[i : i+len(d.open)+end+len(d.close)]
			e := escQuery
			switch st {
			case stPath:
				e = escPath
			case stJSON:
				e = escJSON
				if !inString {
					e = escJSONBare
				}
			}
			s, err := parseMacro(body, text, i, e, env)
			if err != nil {
				return nil, err
			}
			flush()
			t.segs = append(t.segs, s)
			i += len(text)
			continue
		}
		// Literal text.
		switch st {
		case stPath:
			if c == '?' {
				st = stQuery
			}
			fallthrough
		case stQuery:
			if c == '#' {
				return nil, env.errorf(i, "", "a fragment ('#') in the URL: a receiver never sees it")
			}
		case stJSON:
			switch {
			case backslash:
				backslash = false
			case inString && c == '\\':
				backslash = true
			case c == '"':
				inString = !inString
			}
		}
		if st != stJSON && isStrayDelimiter(src, i, d) {
			return nil, env.errorf(i, "", "unbalanced %q: a delimiter outside a macro (percent-encode a literal %q)", d.close, d.close)
		}
		if d.name == "percent" && c == '%' {
			// Not a macro: a literal percent-escape, '%' and two hex digits.
			if i+2 < len(src) && isHex(src[i+1]) && isHex(src[i+2]) {
				lit.WriteString(src[i : i+3])
				i += 3
				continue
			}
			return nil, env.errorf(i, "", "a '%%' that opens no macro and is no percent-escape (in the percent dialect, write escapes with upper-case hex digits, as %%2F)")
		}
		_, size := utf8.DecodeRuneInString(src[i:])
		lit.WriteString(src[i : i+size])
		i += size
	}
	flush()
	return t, nil
}

// startsMacro reports whether the opener of d at src[i] starts a macro. In a URL or a form
// every opener does (so "{Sub1}" or a stray "{" is an error, never sent as it is); in a JSON
// body only an opener followed by a lowercase letter does, so that the braces and brackets of
// JSON itself stay literal. In the percent dialect, '%' opens a macro only before a lowercase
// letter: other '%' are percent-escapes.
func startsMacro(src string, i int, d dialect, st state) bool {
	j := i + len(d.open)
	next := byte(0)
	if j < len(src) {
		next = src[j]
	}
	lower := 'a' <= next && next <= 'z'
	if d.name == "percent" || st == stJSON {
		return lower
	}
	return true
}

// isStrayDelimiter reports whether src[i] begins a closing delimiter of d outside a macro,
// in a URL or form (where it would go out as it is). Dialects whose closer is also their
// opener (hash, percent) have none: their opener is handled as a macro.
func isStrayDelimiter(src string, i int, d dialect) bool {
	if d.close == d.open {
		return false
	}
	return strings.HasPrefix(src[i:], d.close)
}

// macroText returns the text of the macro opening at src[i], for an error message.
func macroText(src string, i int, d dialect) string {
	if end := strings.Index(src[i+len(d.open):], d.close); end >= 0 {
		return src[i : i+len(d.open)+end+len(d.close)]
	}
	return src[i:min(len(src), i+32)]
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isIdent(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parseMacro compiles the macro whose body is body (text with its delimiters, at byte off)
// for escaping e: [fn:]name[:format][|default].
func parseMacro(body, text string, off int, e esc, env *parseEnv) (seg, *EndpointError) {
	fail := func(format string, args ...any) (seg, *EndpointError) {
		return seg{}, env.errorf(off, text, format, args...)
	}
	spec, def, hasDef := strings.Cut(body, "|")
	name, format, hasFormat := strings.Cut(spec, ":")
	fn := fnNone
	switch name {
	case fnRaw, fnSHA256, fnSecret, fnQuerySecret:
		if !hasFormat {
			return fail("%s needs a field, as in {%s:player_id}", name, name)
		}
		fn = name
		name, format, hasFormat = strings.Cut(format, ":")
	}
	if !isIdent(name) {
		if name == "" {
			return fail("empty macro")
		}
		return fail("invalid macro name %q: want lowercase letters, digits and '_'", name)
	}
	if fn == fnSecret || fn == fnQuerySecret {
		if hasFormat || hasDef {
			return fail("a secret takes no format and no default")
		}
		if _, ok := env.secrets[name]; !ok {
			return fail("unknown secret %q: the endpoint's secrets have no such name", name)
		}
		switch {
		case e == escQuery && fn == fnSecret && env.field == "url":
			return fail("a secret in the query string ends up in the logs of every server and proxy on the way; if the receiver requires it there (a token or signature parameter), write it as {query_secret:%s}", name)
		case e == escJSONBare:
			return fail("a secret outside a JSON string: put it in quotes")
		}
		return seg{kind: segSecret, lit: placeholder(name)}, nil
	}
	info, sub, ok := lookupField(name)
	if !ok {
		if _, secret := env.secrets[name]; secret {
			return fail("%q is a secret: write it as {secret:%s}", name, name)
		}
		return fail("unknown macro %q%s", name, suggest(name))
	}
	s := seg{kind: segValue, field: info.field, fkind: info.kind, sub: sub, fn: fn, esc: e}
	if hasFormat {
		switch info.kind {
		case kMoney:
			if format != fmtMinor && format != fmtMajor {
				return fail("format %q of %s: want %q or %q", format, name, fmtMajor, fmtMinor)
			}
		case kTime:
			if !validTimeFormat(format) {
				return fail("format %q of %s: want unix, unix_ms, rfc3339, date, datetime or a Go time layout such as 2006-01-02T15:04:05Z07:00", format, name)
			}
		default:
			return fail("%s takes no format", name)
		}
		s.format = format
	}
	switch fn {
	case fnRaw:
		if info.sent {
			return fail("%s comes from the postback a sender sent: it is always escaped, never raw", name)
		}
		if e == escJSON || e == escJSONBare {
			return fail("raw in a JSON body: values in JSON are always JSON-escaped")
		}
	case fnSHA256:
		if info.kind == kJSON {
			return fail("sha256 of json: hash a single field")
		}
	}
	if e == escJSONBare && !bareJSON(s) {
		return fail("%s outside a JSON string: only an amount, a unix time or json may stand there; put it in quotes", name)
	}
	if hasDef {
		if strings.Contains(def, placeholderOpen) {
			return fail("the default contains %q, reserved for secret placeholders", placeholderOpen)
		}
		d, ok := appendEscaped(nil, def, e)
		if !ok {
			return fail("the default is not valid UTF-8")
		}
		if e == escJSONBare && !validBareDefault(def) {
			return fail("default %q outside a JSON string: want a JSON number or null", def)
		}
		s.hasDef, s.def = true, string(d)
	}
	if e == escJSONBare && !hasDef {
		s.def = "null" // a missing amount or time is null, never an empty value
	}
	return s, nil
}

// bareJSON reports whether s renders a JSON value by itself (outside quotes).
func bareJSON(s seg) bool {
	switch s.fkind {
	case kMoney:
		return s.fn == fnNone
	case kTime:
		return s.fn == fnNone && (s.format == fmtUnix || s.format == fmtUnixMS)
	case kJSON:
		return true
	}
	return false
}

// validBareDefault reports whether def is a JSON number or null.
func validBareDefault(def string) bool {
	if def == "null" {
		return true
	}
	return def != "" && (def[0] == '-' || '0' <= def[0] && def[0] <= '9') && json.Valid([]byte(def))
}

// validTimeFormat reports whether format names a time format or is a Go layout that
// formats something (a misspelt name such as "unixx" would go out as it is).
func validTimeFormat(format string) bool {
	switch format {
	case fmtUnix, fmtUnixMS, fmtRFC3339, fmtDate, fmtDateTime:
		return true
	}
	ref := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	return format != "" && ref.Format(format) != format
}

// suggest returns a hint for an unknown macro name: the known name it differs from only by
// underscores ("clickid" → click_id), or "".
func suggest(name string) string {
	bare := strings.ReplaceAll(name, "_", "")
	for _, f := range fields {
		if strings.ReplaceAll(f.name, "_", "") == bare {
			return fmt.Sprintf(" (did you mean %s?)", f.name)
		}
	}
	if bare == "subid" || bare == "clickid" || bare == "cid" {
		return " (the receiver's click ID is foreign_click_id; ours is click_id)"
	}
	return ""
}

// placeholderOpen begins the placeholder of a secret in a stored delivery. Every escaping
// turns '<' into something else ("%3C", "\u003c"), a raw value is checked for it, and
// template text may not contain it: so a placeholder comes only from a secret macro.
const placeholderOpen = "<secret:"

// placeholder returns the placeholder of the secret called name: "<secret:name>".
func placeholder(name string) string { return placeholderOpen + name + ">" }

// queryUnreserved marks the bytes url.QueryEscape leaves as they are.
var queryUnreserved = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['_'], t['.'], t['~'] = true, true, true, true
	return t
}()

const upperHex = "0123456789ABCDEF"

// appendEscaped appends s escaped as e to dst. It reports false for a JSON position and a
// value that is not valid UTF-8 (which JSON cannot carry exactly).
func appendEscaped[T string | []byte](dst []byte, s T, e esc) ([]byte, bool) {
	switch e {
	case escQuery, escPath:
		i := 0
		for i < len(s) && queryUnreserved[s[i]] && (e == escQuery || s[i] != '.') {
			i++
		}
		dst = append(dst, s[:i]...)
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case queryUnreserved[c] && (e == escQuery || c != '.'):
				dst = append(dst, c)
			case c == ' ' && e == escQuery:
				dst = append(dst, '+')
			default:
				dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
			}
		}
		return dst, true
	case escJSON:
		return appendJSONString(dst, s)
	default:
		return append(dst, s...), true
	}
}

// appendJSONString appends s escaped for the inside of a JSON string, as encoding/json does
// (with its HTML-safe escapes of '<', '>' and '&'). Invalid UTF-8 reports false.
func appendJSONString[T string | []byte](dst []byte, s T) ([]byte, bool) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			return dst, false
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', lowerHex[r&15])
			start = i + size
		}
		i += size
	}
	return append(dst, s[start:]...), true
}

// decodeRune decodes the first rune of s, as utf8.DecodeRune does, without converting s.
func decodeRune[T string | []byte](s T) (rune, int) {
	var b [utf8.UTFMax]byte
	n := copy(b[:], s[:min(len(s), utf8.UTFMax)])
	return utf8.DecodeRune(b[:n])
}
