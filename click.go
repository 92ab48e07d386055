package s2s

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/store"
)

// Errors of the click path.
var (
	// ErrUnknownCampaign reports a click on a campaign the configuration has no click
	// settings for, or by an affiliate the campaign does not admit. The click handler
	// answers 404.
	ErrUnknownCampaign = errors.New("s2s: unknown campaign")
	// ErrInvalidClick reports a click request with a field the store would refuse (a
	// missing or malformed affiliate ID, a sub ID too long or not UTF-8, a malformed
	// foreign click ID). The message names the field; the click handler answers 400. A
	// user agent never makes a click invalid: it is cleaned (see ClickRequest.UserAgent).
	ErrInvalidClick = errors.New("s2s: invalid click")
)

// ClickConfig is the click path's configuration: the campaigns that have tracking links,
// the secrets of their signed click IDs and how visitors' addresses are kept.
type ClickConfig struct {
	// Campaigns are the campaigns with tracking links, by unique ID.
	Campaigns []ClickCampaign `json:"campaigns,omitempty"`
	// IP is how a click keeps the visitor's address, for campaigns that set none: "whole",
	// "truncated" (the default: /24 of IPv4, /48 of IPv6) or "hashed" (see IPMode).
	IP IPMode `json:"ip,omitempty"`
	// IPKey is the HMAC-SHA256 key of the "hashed" IP mode: at least clickid.MinSecretLen
	// (24) bytes of random data, base64 in JSON; required when a campaign hashes addresses.
	// Changing it changes every pseudonym from then on.
	IPKey Secret `json:"ip_key,omitempty"`
	// Keys are the click-ID signing keys of the campaigns whose click IDs are "signed" or
	// "token": the first signs, the others verify only (a rotated-out key stays until the
	// IDs it signed have expired). The postback sources that receive those IDs are given
	// the same keys (postback.SourceOptions.ClickSigner).
	Keys []ClickKey `json:"keys,omitempty"`
}

// ClickKey is a click-ID signing key (clickid.SignerKey) as configuration.
type ClickKey struct {
	// ID is the key's ID, 0 to clickid.MaxKeyID (31), carried by every ID it signs.
	ID uint8 `json:"id"`
	// Secret is at least clickid.MinSecretLen (24) bytes of random data, base64 in JSON.
	Secret Secret `json:"secret"`
}

// Secret is secret configuration: its bytes are base64 in JSON (so that a Config
// round-trips), and never printed: String, GoString and LogValue say "[redacted]".
type Secret []byte

// String implements fmt.Stringer without the secret.
func (s Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer without the secret.
func (s Secret) GoString() string { return "s2s.Secret([redacted])" }

// LogValue implements slog.LogValuer without the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// LogValue implements slog.LogValuer: the campaigns' IDs, the IP mode and the keys' IDs,
// never a secret (a JSON handler would otherwise write the secrets' bytes).
func (c ClickConfig) LogValue() slog.Value {
	ids := make([]string, len(c.Campaigns))
	for i := range c.Campaigns {
		ids[i] = c.Campaigns[i].ID
	}
	keys := make([]int, len(c.Keys)) // not []uint8, which a JSON handler writes as base64
	for i := range c.Keys {
		keys[i] = int(c.Keys[i].ID)
	}
	return slog.GroupValue(slog.Any("campaigns", ids), slog.String("ip", string(c.IP)),
		slog.Bool("ip_key", len(c.IPKey) > 0), slog.Any("keys", keys))
}

// LogValue implements slog.LogValuer: the key's ID, never its secret.
func (k ClickKey) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("id", int(k.ID)), slog.String("secret", "[redacted]"))
}

// ClickCampaign is one campaign's tracking link: where its clicks are sent, in which form
// the click ID goes, and how the visitor's address is kept.
type ClickCampaign struct {
	// ID is the campaign's ID (store.CheckKey's rules, and at most clickid.MaxTokenField
	// bytes with "token" click IDs): the Click's CampaignID and the {campaign} of the
	// click handler's path.
	ID string `json:"id"`
	// Affiliates, if set, are the only affiliates whose links the campaign has; a click by
	// another is ErrUnknownCampaign. Empty admits every affiliate.
	Affiliates []string `json:"affiliates,omitempty"`
	// Destination is the URL template the visitor is redirected to, in package outbound's
	// template engine (see outbound.Link): an https URL whose path and query may carry
	// {click_id}, {foreign_click_id}, {sub1} ... {sub30}, {affiliate_id} and {campaign_id},
	// each escaped for its position. The scheme and host are literal: no value of a request
	// can change them.
	Destination string `json:"destination"`
	// Dialect is the destination's macro syntax (outbound.Endpoint.Dialect): empty is
	// "braces".
	Dialect string `json:"dialect,omitempty"`
	// AllowHTTP allows an http:// destination.
	AllowHTTP bool `json:"allow_http,omitempty"`
	// ClickID is the form of {click_id} in the destination: "plain" (the default),
	// "signed" or "token" (see ClickIDForm).
	ClickID ClickIDForm `json:"click_id,omitempty"`
	// IP is how the campaign's clicks keep the visitor's address; empty is
	// ClickConfig.IP.
	IP IPMode `json:"ip,omitempty"`
	// ForeignParam, if set, is the query parameter of the tracking link that carries a
	// foreign click ID (an ad network's, a "gclid"), kept with the click for postbacks that
	// name it (store.Click.ForeignClickID).
	ForeignParam string `json:"foreign_param,omitempty"`
	// ReferrerPolicy is the Referrer-Policy of the redirect; empty is "no-referrer", so
	// that the landing page is not told the tracking link (its affiliate and sub IDs).
	ReferrerPolicy string `json:"referrer_policy,omitempty"`
}

// ClickIDForm is the form in which a campaign's destination carries the click ID.
type ClickIDForm string

// The forms of a click ID.
const (
	// ClickIDPlain is the 26-character click ID (clickid.ID.String).
	ClickIDPlain ClickIDForm = "plain"
	// ClickIDSigned is the signed click ID (clickid.Signer.Sign): a postback source with
	// the same keys rejects a forged or mistyped one before any lookup.
	ClickIDSigned ClickIDForm = "signed"
	// ClickIDToken is a signed token (clickid.Signer.SignToken) carrying the click ID, the
	// affiliate and the campaign: a postback is attributed even when its click record is
	// missing (lost in a store outage, say).
	ClickIDToken ClickIDForm = "token"
)

// IPMode is how a click keeps the visitor's address.
type IPMode string

// The IP modes.
const (
	// IPWhole keeps the address as it is.
	IPWhole IPMode = "whole"
	// IPTruncated keeps the network only: the first 24 bits of an IPv4 address, the first
	// 48 of an IPv6 one.
	IPTruncated IPMode = "truncated"
	// IPHashed keeps a pseudonym: an address in 2001:db8::/32 (the documentation prefix,
	// which no visitor has) whose 96 low bits are the HMAC-SHA256, under
	// ClickConfig.IPKey, of the address. Equal addresses get equal pseudonyms (for fraud
	// checks), and without the key a pseudonym cannot be reversed by trying every address.
	IPHashed IPMode = "hashed"
)

// referrerPolicies are the values of Referrer-Policy.
var referrerPolicies = []string{"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
	"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"}

// ipDomain separates the IP pseudonyms' HMAC from any other use of the key.
const ipDomain = "s2s-ip-v1\x00"

// clickCampaign is a compiled ClickCampaign.
type clickCampaign struct {
	id         string
	affiliates map[string]bool // nil: every affiliate
	link       *outbound.Link
	form       ClickIDForm
	ip         IPMode
	foreign    string
	referrer   string
	referrerH  []string // referrer as a header's values, shared by every redirect: never modified
}

// compiledClicks is what compile makes of a ClickConfig.
type compiledClicks struct {
	campaigns map[string]*clickCampaign
	signer    *clickid.Signer // nil without keys
	ipMAC     *sync.Pool      // of hash.Hash, nil without an IP key
}

// compile validates c and compiles it. Errors wrap ErrInvalidConfig and name the field
// from "clicks".
func (c *ClickConfig) compile() (*compiledClicks, error) {
	fail := func(path, format string, args ...any) error {
		return fmt.Errorf("%w: clicks.%s: %s", ErrInvalidConfig, path, fmt.Sprintf(format, args...))
	}
	cc := &compiledClicks{campaigns: make(map[string]*clickCampaign, len(c.Campaigns))}
	def := c.IP
	if def == "" {
		def = IPTruncated
	}
	if !def.valid() {
		return nil, fail("ip", "%q: want whole, truncated or hashed", c.IP)
	}
	if len(c.IPKey) > 0 {
		if len(c.IPKey) < clickid.MinSecretLen {
			return nil, fail("ip_key", "%d bytes, at least %d required", len(c.IPKey), clickid.MinSecretLen)
		}
		key := append([]byte(nil), c.IPKey...)
		cc.ipMAC = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	}
	if len(c.Keys) > 0 {
		keys := make([]clickid.SignerKey, len(c.Keys))
		for i, k := range c.Keys {
			keys[i] = clickid.SignerKey{ID: k.ID, Secret: k.Secret}
		}
		s, err := clickid.NewSigner(keys[0], keys[1:]...)
		if err != nil {
			return nil, fmt.Errorf("%w: clicks.keys: %w", ErrInvalidConfig, err)
		}
		cc.signer = s
	}
	for i := range c.Campaigns {
		k := &c.Campaigns[i]
		path := fmt.Sprintf("campaigns[%d]", i)
		if k.ID == "" {
			return nil, fail(path+".id", "required")
		}
		if err := store.CheckKey(k.ID); err != nil {
			return nil, fmt.Errorf("%w: clicks.%s.id: %w", ErrInvalidConfig, path, err)
		}
		if cc.campaigns[k.ID] != nil {
			return nil, fail(path+".id", "%q given twice", k.ID)
		}
		ck := &clickCampaign{id: k.ID, form: k.ClickID, ip: k.IP, foreign: k.ForeignParam, referrer: k.ReferrerPolicy}
		if len(k.Affiliates) > 0 {
			ck.affiliates = make(map[string]bool, len(k.Affiliates))
			for j, a := range k.Affiliates {
				if a == "" {
					return nil, fail(fmt.Sprintf("%s.affiliates[%d]", path, j), "empty")
				}
				if err := store.CheckKey(a); err != nil {
					return nil, fmt.Errorf("%w: clicks.%s.affiliates[%d]: %w", ErrInvalidConfig, path, j, err)
				}
				ck.affiliates[a] = true
			}
		}
		l, err := outbound.CompileLink(k.Destination, &outbound.LinkOptions{Dialect: k.Dialect, AllowHTTP: k.AllowHTTP})
		if err != nil {
			return nil, fmt.Errorf("%w: clicks.%s: %w", ErrInvalidConfig, path, err)
		}
		ck.link = l
		switch ck.form {
		case "":
			ck.form = ClickIDPlain
		case ClickIDPlain:
		case ClickIDSigned, ClickIDToken:
			if cc.signer == nil {
				return nil, fail(path+".click_id", "%q needs clicks.keys", ck.form)
			}
			if ck.form == ClickIDToken && len(k.ID) > clickid.MaxTokenField {
				return nil, fail(path+".id", "%d bytes: a token carries at most %d", len(k.ID), clickid.MaxTokenField)
			}
		default:
			return nil, fail(path+".click_id", "%q: want plain, signed or token", ck.form)
		}
		if ck.ip == "" {
			ck.ip = def
		}
		if !ck.ip.valid() {
			return nil, fail(path+".ip", "%q: want whole, truncated or hashed", k.IP)
		}
		if ck.ip == IPHashed && cc.ipMAC == nil {
			return nil, fail(path+".ip", "hashed needs clicks.ip_key")
		}
		if ck.foreign != "" && (!isParam(ck.foreign) || reservedParam(ck.foreign)) {
			return nil, fail(path+".foreign_param", "%q: want a query parameter name of letters, digits, '_' and '-', other than c, aff and sub1 ... sub30", ck.foreign)
		}
		if ck.referrer == "" {
			ck.referrer = "no-referrer"
		} else if !contains(referrerPolicies, ck.referrer) {
			return nil, fail(path+".referrer_policy", "%q: want one of %s", ck.referrer, strings.Join(referrerPolicies, ", "))
		}
		ck.referrerH = []string{ck.referrer}
		cc.campaigns[k.ID] = ck
	}
	return cc, nil
}

func (m IPMode) valid() bool { return m == IPWhole || m == IPTruncated || m == IPHashed }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isParam reports whether s is a plain query parameter name, at most 64 bytes.
func isParam(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// ClickRequest is one click on a tracking link: what the click handler reads from the
// request, or what a host that takes clicks otherwise gives Click.
type ClickRequest struct {
	// CampaignID is the campaign clicked: one of ClickConfig.Campaigns.
	CampaignID string
	// AffiliateID is the affiliate whose link it is: required.
	AffiliateID string
	// SubIDs are the affiliate's sub IDs by position (sub1 first), at most store.MaxSubIDs,
	// each under store.CheckSubID's rules.
	SubIDs []string
	// ForeignClickID is another party's click ID (a gclid), or empty; it must pass
	// clickid.ParseForeign.
	ForeignClickID string
	// IP is the visitor's address, kept as the campaign's IP mode says; the zero Addr
	// keeps none.
	IP netip.Addr
	// UserAgent is the visitor's user agent. It is cleaned, never refused: bytes that are
	// not UTF-8 and control characters are removed, and it is cut (at a character's
	// boundary) to store.MaxUserAgentLen bytes.
	UserAgent string
}

// ClickResult is what Click made of a click.
type ClickResult struct {
	// ID is the click's ID, as stored.
	ID clickid.ID
	// Ref is the click ID as the destination carries it, in the campaign's ClickIDForm:
	// the plain, signed or token form.
	Ref string
	// URL is the campaign's destination rendered for the click: where to send the visitor.
	URL string
}

// Click records a click and returns where to send the visitor: it mints the click ID (in
// the campaign's form: plain, signed or a signed token), renders the campaign's destination
// with it and the request's sub IDs, foreign click ID, affiliate and campaign, each escaped
// for its position, and stores the click (store.Click) with the visitor's address kept as
// the campaign's IP mode says and the user agent cleaned. The destination comes only from
// the configuration: nothing in req can change its scheme or host.
//
// A campaign without click settings, or an affiliate it does not admit, is
// ErrUnknownCampaign; a field the store would refuse is ErrInvalidClick naming it; in
// either case nothing is recorded and the result is zero.
//
// A store failure is returned as an error together with a usable result: its URL is the
// destination and its ID the one that was not stored. The visitor can still be sent on
// (the click handler does, and logs it): the operator gets the visitor, and with "token"
// click IDs a postback for the unrecorded click is still attributed.
//
// With batched clicks (Options.ClickBatch), Click queues the click and returns before it is
// stored (see the package doc, # Clicks).
func (t *Tracker) Click(ctx context.Context, req ClickRequest) (ClickResult, error) {
	cc := t.cfg.Load()
	k := cc.clicks.campaigns[req.CampaignID]
	if k == nil {
		return ClickResult{}, fmt.Errorf("%w %q", ErrUnknownCampaign, req.CampaignID)
	}
	if err := checkClick(k, &req); err != nil {
		return ClickResult{}, err
	}
	id, err := t.clicks.gen.New()
	if err != nil {
		return ClickResult{}, fmt.Errorf("s2s: click id: %w", err)
	}
	v := outbound.LinkValues{ClickID: id, ForeignClickID: clickid.Foreign(req.ForeignClickID), SubIDs: req.SubIDs,
		AffiliateID: req.AffiliateID, CampaignID: k.id}
	switch k.form {
	case ClickIDSigned:
		v.ClickRef = cc.clicks.signer.Sign(id)
	case ClickIDToken:
		if v.ClickRef, err = cc.clicks.signer.SignToken(clickid.Token{ID: id, AffiliateID: req.AffiliateID, CampaignID: k.id}); err != nil {
			return ClickResult{}, fmt.Errorf("%w: %w", ErrInvalidClick, err)
		}
	}
	var buf [512]byte
	u, err := k.link.AppendURL(buf[:0], &v)
	if err != nil {
		return ClickResult{}, fmt.Errorf("%w: %w", ErrInvalidClick, err)
	}
	res := ClickResult{ID: id, Ref: v.ClickRef, URL: string(u)}
	if res.Ref == "" {
		res.Ref = id.String()
	}
	c := store.Click{
		ID: id, AffiliateID: req.AffiliateID, CampaignID: k.id, SubIDs: req.SubIDs,
		ForeignClickID: v.ForeignClickID, IP: cc.clicks.keepIP(k.ip, req.IP), UserAgent: cleanUserAgent(req.UserAgent),
		Landing: res.URL, CreatedAt: t.now(),
	}
	if b := t.clicks.batch; b != nil {
		return res, b.add(ctx, t, c)
	}
	if err := t.st.InsertClick(ctx, c); err != nil {
		return res, fmt.Errorf("s2s: insert click: %w", err)
	}
	return res, nil
}

// checkClick checks req against the campaign k and the store's rules.
func checkClick(k *clickCampaign, req *ClickRequest) error {
	switch {
	case req.AffiliateID == "":
		return fmt.Errorf("%w: affiliate: required", ErrInvalidClick)
	case store.CheckKey(req.AffiliateID) != nil:
		return fmt.Errorf("%w: affiliate: %w", ErrInvalidClick, store.CheckKey(req.AffiliateID))
	case k.affiliates != nil && !k.affiliates[req.AffiliateID]:
		return fmt.Errorf("%w %q: not for affiliate %q", ErrUnknownCampaign, k.id, req.AffiliateID)
	case len(req.SubIDs) > store.MaxSubIDs:
		return fmt.Errorf("%w: sub ids: %d, at most %d allowed", ErrInvalidClick, len(req.SubIDs), store.MaxSubIDs)
	}
	for i, s := range req.SubIDs {
		if err := store.CheckSubID(s); err != nil {
			return fmt.Errorf("%w: sub%d: %w", ErrInvalidClick, i+1, err)
		}
	}
	if req.ForeignClickID != "" {
		if _, err := clickid.ParseForeign(req.ForeignClickID); err != nil {
			return fmt.Errorf("%w: foreign click id: %w", ErrInvalidClick, err)
		}
	}
	return nil
}

// keepIP returns the address a click keeps of ip, in mode m.
func (cc *compiledClicks) keepIP(m IPMode, ip netip.Addr) netip.Addr {
	if !ip.IsValid() {
		return netip.Addr{}
	}
	ip = ip.Unmap().WithZone("")
	switch m {
	case IPWhole:
		return ip
	case IPHashed:
		h := cc.ipMAC.Get().(hash.Hash)
		h.Reset()
		var in [len(ipDomain) + 16]byte
		copy(in[:], ipDomain)
		a16 := ip.As16() // an IPv4 address as its IPv4-mapped form: ip was unmapped, so one form each
		copy(in[len(ipDomain):], a16[:])
		h.Write(in[:])
		var sum [sha256.Size]byte
		h.Sum(sum[:0])
		cc.ipMAC.Put(h)
		out := [16]byte{0x20, 0x01, 0x0d, 0xb8}
		copy(out[4:], sum[:12])
		return netip.AddrFrom16(out)
	}
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p.Addr()
}

// cleanUserAgent returns ua as a store keeps it: bytes that are not UTF-8 and control
// characters (C0, DEL, C1) removed, then cut at a character's boundary to at most
// store.MaxUserAgentLen bytes. A user agent that needs no cleaning is returned as it is,
// without allocating.
func cleanUserAgent(ua string) string {
	clean := len(ua) <= store.MaxUserAgentLen
	for i := 0; clean && i < len(ua); i++ {
		if c := ua[i]; c < 0x20 || c >= 0x7f {
			clean = false
		}
	}
	if clean {
		return ua // printable ASCII within the limit: the usual case
	}
	var b strings.Builder
	b.Grow(min(len(ua), store.MaxUserAgentLen))
	for i := 0; i < len(ua); {
		r, size := utf8.DecodeRuneInString(ua[i:])
		i += size
		if r == utf8.RuneError && size == 1 || r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			continue
		}
		if b.Len()+size > store.MaxUserAgentLen {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
