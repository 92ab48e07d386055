package outbound

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
)

// Link is a click's destination: a URL template of the engine that renders endpoints (see
// the package documentation, section Templates), which a tracker fills in with the click it
// has just recorded and redirects the visitor to. It is compiled once by [CompileLink] and is
// safe for concurrent use.
//
// A Link carries only what a click knows: click_id, foreign_click_id, sub1 ... sub30,
// affiliate_id and campaign_id; any other macro is refused when it is compiled. Every value
// comes from the visitor's request, so every value is escaped for its position and {raw:x}
// is refused. The scheme, host and port are literal text of the template: whatever a value
// spells (a "//evil.example", a "\r\nLocation:", a "javascript:"), it stays inside its
// path segment or query value, and every URL a Link renders has the origin of [Link.Origin].
type Link struct {
	url    *template
	origin string
}

// LinkOptions are the settings of CompileLink. The zero value is the default.
type LinkOptions struct {
	// Dialect names the macro syntax, as Endpoint.Dialect: empty means "braces" ({x}).
	Dialect string
	// AllowHTTP allows an http:// destination; otherwise only https:// is accepted.
	AllowHTTP bool
}

// LinkValues are the inputs of a Link: what one click says.
type LinkValues struct {
	ClickID clickid.ID // {click_id}, unless ClickRef is set
	// ClickRef, when set, is the text of {click_id} in place of ClickID: the click's signed
	// ID or signed token (clickid.Signer.Sign, SignToken).
	ClickRef       string
	ForeignClickID clickid.Foreign // {foreign_click_id}
	SubIDs         []string        // {sub1} ... {sub30}: by position
	AffiliateID    string          // {affiliate_id}
	CampaignID     string          // {campaign_id}
}

// linkFields are the fields a Link may read.
var linkFields = [...]field{fClickID, fForeignClickID, fSub, fAffiliateID, fCampaignID}

// CompileLink compiles the destination template src. The error is an *EndpointError
// (wrapping ErrInvalidEndpoint) with Field "destination", the byte offset and the macro: a
// URL that is not https (nor http with AllowHTTP), a macro in the scheme or host, a macro a
// click has no value for, a raw macro, a secret, a user name or password, a fragment, or a
// URL that does not parse once rendered with sample values.
func CompileLink(src string, opts *LinkOptions) (*Link, error) {
	var o LinkOptions
	if opts != nil {
		o = *opts
	}
	fail := func(format string, args ...any) error {
		return fieldError("destination", format, args...)
	}
	d, ok := dialectNamed(o.Dialect)
	if !ok {
		return nil, fieldError("dialect", "unknown dialect %q: want one of %s", o.Dialect, dialectNames())
	}
	if len(src) > store.MaxURLLen {
		return nil, fail("%d bytes, at most %d allowed", len(src), store.MaxURLLen)
	}
	e := Endpoint{URL: src, AllowHTTP: o.AllowHTTP}
	if err := e.checkScheme(src); err != nil {
		err.Field = "destination"
		return nil, err
	}
	t, err := parse(src, d, stHead, &parseEnv{field: "destination"})
	if err != nil {
		return nil, err
	}
	for i := range t.segs {
		s := &t.segs[i]
		if s.kind != segValue {
			continue
		}
		if !linkField(s.field) {
			return nil, fail("the macro %s has no value for a click: want click_id, foreign_click_id, sub1 ... sub30, affiliate_id or campaign_id", s.name())
		}
		if s.fn == fnRaw {
			return nil, fail("raw %s: every value of a click comes from its request, and is always escaped", s.name())
		}
	}
	l := &Link{url: t}
	hard := `a&b=c d/e?f#g%h+i"j\k<l>{m}[n]é//evil.example/\@`
	for i, v := range []LinkValues{{
		ClickID: clickid.ID{1, 2, 3}, ClickRef: hard, ForeignClickID: clickid.Foreign(hard),
		SubIDs: []string{hard, "", hard}, AffiliateID: hard, CampaignID: hard,
	}, {}} {
		u, err := l.render(nil, &v)
		if err != nil {
			return nil, fail("renders no URL with sample values: %v", err)
		}
		pu, perr := url.Parse(string(u))
		switch {
		case perr != nil:
			return nil, fail("renders a URL that does not parse (%v): %s", perr, u)
		case pu.Scheme != "https" && !(pu.Scheme == "http" && o.AllowHTTP):
			return nil, fail("want an https:// URL")
		case pu.User != nil || strings.ContainsAny(pu.Host, `@\`):
			return nil, fail("a user name or password in the URL")
		case pu.Host == "" || pu.Opaque != "":
			return nil, fail("no host")
		case strings.HasSuffix(pu.Host, ":"):
			return nil, fail("an empty port after the host")
		case pu.Fragment != "":
			return nil, fail("a fragment ('#') in the URL")
		}
		if i == 0 {
			l.origin = originOf(pu)
		} else if originOf(pu) != l.origin {
			return nil, fail("renders URLs of two origins")
		}
		if _, qerr := url.ParseQuery(pu.RawQuery); qerr != nil {
			return nil, fail("renders a query that does not parse (%v): %s", qerr, u)
		}
	}
	return l, nil
}

func linkField(f field) bool {
	for _, g := range linkFields {
		if f == g {
			return true
		}
	}
	return false
}

// Origin returns the scheme and host (with any port) of every URL l renders, in lower case:
// "https://casino.example".
func (l *Link) Origin() string { return l.origin }

// AppendURL appends the URL of v to dst. The error wraps ErrRender for a value the URL
// cannot carry (a value that is not valid UTF-8 in a position that needs it), or a URL
// longer than store.MaxURLLen.
func (l *Link) AppendURL(dst []byte, v *LinkValues) ([]byte, error) {
	n := len(dst)
	dst, err := l.render(dst, v)
	if err != nil {
		return dst[:n], err
	}
	if len(dst)-n > store.MaxURLLen {
		return dst[:n], fmt.Errorf("%w: destination: the URL has %d bytes, at most %d allowed", ErrRender, len(dst)-n, store.MaxURLLen)
	}
	return dst, nil
}

func (l *Link) render(dst []byte, v *LinkValues) ([]byte, error) {
	r := renderer{v: Values{
		ClickID: v.ClickID, ForeignClickID: v.ForeignClickID, SubIDs: v.SubIDs,
		AffiliateID: v.AffiliateID, CampaignID: v.CampaignID,
	}, click: v.ClickRef}
	return l.url.render(dst, &r)
}
