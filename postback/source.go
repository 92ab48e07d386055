package postback

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/store"
)

// Method is how a source proves that its postbacks are genuine. A source has exactly one
// method, and a request that does not satisfy it is rejected: there is no fallback to a
// weaker method, and no fallback to none.
type Method uint8

// Authentication methods, strongest first.
const (
	// MethodSignedQuery is the s2s v1 signed query (see the package documentation), for GET
	// and form POST.
	MethodSignedQuery Method = iota + 1
	// MethodStandardWebhooks is Standard Webhooks (webhook-id, webhook-timestamp and
	// webhook-signature headers over the raw body), for JSON POST.
	MethodStandardWebhooks
	// MethodToken is a static shared token in a parameter or a header, compared in constant
	// time. It is weak: it protects no other parameter and can be replayed forever.
	MethodToken
	// MethodNone accepts postbacks without proof, as trackers do that rely on the secrecy of
	// click IDs. Choose it explicitly, ideally with an IP allowlist and signed click IDs.
	MethodNone
)

// String returns the method's name, such as "signed_query".
func (m Method) String() string {
	switch m {
	case MethodSignedQuery:
		return "signed_query"
	case MethodStandardWebhooks:
		return "standard_webhooks"
	case MethodToken:
		return "token"
	case MethodNone:
		return "none"
	}
	return "invalid"
}

// Auth is the authentication of a source: a Method and what it needs.
type Auth struct {
	// Method is required; the zero Method is refused.
	Method Method
	// Keys are the HMAC keys of MethodSignedQuery and MethodStandardWebhooks: 1 to MaxKeys,
	// secrets of at least MinSecretLen bytes, distinct IDs. For Standard Webhooks, decode a
	// "whsec_..." secret with WebhookSecret.
	Keys []Key
	// Token is the static token of MethodToken, at least MinSecretLen bytes unless
	// AllowShortToken.
	Token []byte
	// AllowShortToken accepts a Token shorter than MinSecretLen (but not empty), for a legacy
	// sender that issues short tokens and cannot be changed (Affise's "secure", say). A short
	// token is far easier to guess, and a static token never expires: NewSource logs a
	// warning on SourceOptions.Logger for every source built with one. Prefer a signed method,
	// or at least an IP allowlist beside the token.
	AllowShortToken bool
	// TokenHeader, if set, is the header that carries the token (for example
	// "X-Postback-Token"); otherwise the token is the parameter TokenParam, or the dialect's
	// TokenParam, or "token".
	TokenHeader string
	TokenParam  string
}

// SourceOptions configures a Source. The zero value (and nil) are the defaults.
type SourceOptions struct {
	// Dialect is the sender's parameter mapping; nil means Native().
	Dialect *Dialect
	// ClickSigner, if set, verifies signed click IDs and signed tokens. A value with the form
	// of either is always verified, never taken for a plain or foreign ID: one whose
	// signature fails is rejected (ReasonBadClickIDSig).
	ClickSigner *clickid.Signer
	// ClickKinds are the kinds of click ID the source accepts; a click ID of another kind is
	// rejected with that kind's reason (ReasonNativeClickID, ReasonForeignClickID,
	// ReasonSignedClickID, ReasonTokenClickID). Empty means the default: with a ClickSigner,
	// ClickSigned and ClickToken only, so that a plain ID (anyone can make one), a truncated
	// or mistyped signed ID and an unverifiable token are all refused; without one,
	// ClickNative and ClickForeign. ClickSigned and ClickToken need a ClickSigner, and a
	// ClickSigner needs one of them. Add ClickNative or ClickForeign to a signing source only
	// while its senders still send unsigned IDs (a migration, say); with ClickForeign, a
	// foreign ID that happens to have the form of a signed ID or token is verified, and
	// refused, as one.
	ClickKinds []ClickKind
	// Tolerance is how far a signed timestamp may be from Now, in either direction, in whole
	// seconds; zero means DefaultTolerance (300 s). A timestamp exactly Tolerance away is
	// accepted, one second more is rejected.
	Tolerance time.Duration
	// AllowIPs, if not empty, are the only client addresses accepted (ReasonIPNotAllowed).
	AllowIPs []netip.Prefix
	// TrustedProxies are the proxies whose X-Forwarded-For is believed: the client address
	// is the rightmost address of the header that is not a trusted proxy. From any other peer
	// the header is ignored.
	TrustedProxies []netip.Prefix
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives the warnings of building the source (a short static token, see
	// Auth.AllowShortToken); nil means slog.Default(), so that a weakened source never goes
	// unnoticed. It never receives a secret or a token.
	Logger *slog.Logger
}

// Source receives the postbacks of one sender: it parses them with the sender's dialect and
// verifies them with the sender's authentication. A Source is safe for concurrent use.
type Source struct {
	name     string
	method   Method
	ring     []*ringKey
	tokenSum [sha256.Size]byte
	tokenHdr string
	tokenPar string // the token parameter, decoded
	tokenEnc string // and in its canonical form
	d        *compiled
	signer   *clickid.Signer
	kinds    uint8 // 1<<ClickKind for each kind accepted
	tol      time.Duration
	allow    []netip.Prefix
	proxies  []netip.Prefix
	now      func() time.Time
	pool     sync.Pool // of *work
}

// NewSource returns a Source named name (it appears in Postback.Source, in every dedup key
// and in logs) with the given authentication. Configuration errors wrap ErrConfig: an empty
// name or one the store would refuse as an identifier; no method; a secret shorter than
// MinSecretLen, or a token shorter without Auth.AllowShortToken; two keys with one ID, more
// than MaxKeys keys, a key ID the store would refuse; keys or a token for a method that
// takes none; an invalid dialect (see ParseDialect), one that maps a name the method
// reserves (sig, ts, kid, the token parameter), one that reads an amount but no currency
// without a DefaultCurrency; ClickKinds that break their rules; a negative Tolerance.
func NewSource(name string, auth Auth, opts *SourceOptions) (*Source, error) {
	if opts == nil {
		opts = &SourceOptions{}
	}
	if name == "" {
		return nil, fmt.Errorf("%w: a source needs a name: it is part of every postback's dedup key", ErrConfig)
	}
	if err := store.CheckKey(name); err != nil {
		return nil, fmt.Errorf("%w: source name: %w", ErrConfig, err)
	}
	d := opts.Dialect
	if d == nil {
		d = Native()
	}
	cd, err := d.compile()
	if err != nil {
		return nil, err
	}
	s := &Source{
		name: name, method: auth.Method, d: cd, signer: opts.ClickSigner, tol: opts.Tolerance,
		allow: append([]netip.Prefix(nil), opts.AllowIPs...), proxies: append([]netip.Prefix(nil), opts.TrustedProxies...),
		now: opts.Now,
	}
	if s.kinds, err = clickPolicy(opts.ClickKinds, opts.ClickSigner != nil); err != nil {
		return nil, fmt.Errorf("%w: source %q: %s", ErrConfig, name, err)
	}
	if s.tol == 0 {
		s.tol = DefaultTolerance
	}
	if s.tol < 0 {
		return nil, fmt.Errorf("%w: negative tolerance", ErrConfig)
	}
	if s.now == nil {
		s.now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := s.setAuth(auth, log); err != nil {
		return nil, fmt.Errorf("%w: source %q: %w", ErrConfig, name, err)
	}
	s.pool.New = func() any { return &work{msg: make([]byte, 0, 512)} }
	return s, nil
}

// setAuth configures the source's method from auth, warning on log of a short token. Its
// errors are the broken rule, for NewSource to wrap.
func (s *Source) setAuth(auth Auth, log *slog.Logger) error {
	if auth.Method != MethodSignedQuery && auth.Method != MethodStandardWebhooks && len(auth.Keys) > 0 {
		return fmt.Errorf("keys given for method %s", auth.Method)
	}
	if auth.Method != MethodToken && (len(auth.Token) > 0 || auth.AllowShortToken) {
		return fmt.Errorf("a token given for method %s", auth.Method)
	}
	var reserved []string // the parameters of the method, which the dialect may not map
	switch auth.Method {
	case MethodSignedQuery, MethodStandardWebhooks:
		var err error
		if s.ring, err = newKeyring(auth.Keys); err != nil {
			return err
		}
		if auth.Method == MethodSignedQuery {
			reserved = []string{paramSig, paramTS, paramKID}
		}
	case MethodToken:
		switch {
		case len(auth.Token) == 0:
			return errors.New("no token")
		case len(auth.Token) < MinSecretLen && !auth.AllowShortToken:
			return fmt.Errorf("token has %d bytes, at least %d required (Auth.AllowShortToken accepts a legacy sender's shorter one)",
				len(auth.Token), MinSecretLen)
		case len(auth.Token) < MinSecretLen:
			log.Warn("postback: source accepts a short static token, which is easy to guess; prefer a signed method",
				slog.String("source", s.name), slog.Int("token_bytes", len(auth.Token)), slog.Int("min_bytes", MinSecretLen))
		}
		s.tokenSum = sha256.Sum256(auth.Token)
		s.tokenHdr = auth.TokenHeader
		if s.tokenHdr == "" {
			s.tokenPar = firstNonEmpty(auth.TokenParam, s.d.tokenParam, "token")
			s.tokenEnc = rfc3986(s.tokenPar)
			reserved = []string{s.tokenPar}
		}
	case MethodNone:
	default:
		return errors.New("no authentication method (choose MethodNone explicitly)")
	}
	for _, r := range reserved {
		if _, ok := s.d.fields.lookup(r, prefix8(r)); ok {
			return fmt.Errorf("dialect maps %q, reserved by method %s", r, auth.Method)
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Method returns the source's authentication method.
func (s *Source) Method() Method { return s.method }

// getWork returns an empty work: putWork empties a work before pooling it.
func (s *Source) getWork() *work {
	return s.pool.Get().(*work)
}

func (s *Source) putWork(w *work) {
	if cap(w.msg) > 4*MaxBodyBytes {
		return
	}
	w.reset() // the pool keeps no reference to the request
	s.pool.Put(w)
}

// ParseQuery parses and verifies a GET postback from the path (its percent-encoded form, as
// sent) and the raw query of its URL. It applies the source's method, except the IP
// allowlist and a token in a header, which need the request: use [Source.ParseRequest] for
// those. A source of MethodStandardWebhooks rejects it (ReasonMethod).
//
// On the common path (no percent-escapes in the values, no extra parameters) it allocates
// nothing: the strings of the Postback share memory with rawQuery.
func (s *Source) ParseQuery(path, rawQuery string) (pb Postback, err error) {
	if rej := s.parseQuery(&pb, path, rawQuery, "", nil); rej != nil {
		return Postback{}, rej
	}
	return pb, nil
}

// parseQuery handles GET and form POST: the query, and the form body if body is not nil.
func (s *Source) parseQuery(pb *Postback, path, rawQuery, headerToken string, body *string) *RejectError {
	if s.method == MethodStandardWebhooks {
		if body != nil {
			return errMediaType
		}
		return errMethod
	}
	if len(rawQuery) > MaxQueryBytes {
		return errQueryTooLarge
	}
	w := s.getWork()
	defer s.putWork(w)
	if rej := w.split(rawQuery, false); rej != nil {
		return rej
	}
	if body != nil {
		if rej := w.split(*body, true); rej != nil {
			return rej
		}
	}
	if rej := w.canonicalize(); rej != nil {
		return rej
	}
	now := s.now()
	switch s.method {
	case MethodSignedQuery:
		kid, rej := w.verifyQuery(s.ring, path, now, s.tol)
		if rej != nil {
			return rej
		}
		pb.KeyID = kid
	case MethodToken:
		if rej := s.checkToken(w, headerToken); rej != nil {
			return rej
		}
	}
	return s.build(pb, w, now)
}

// checkToken compares the token, hashed, in constant time.
func (s *Source) checkToken(w *work, headerToken string) *RejectError {
	tok := headerToken
	if s.tokenHdr == "" {
		p := w.find(s.tokenEnc)
		if p == nil {
			return errMissingToken
		}
		tok = decodedVal(p)
	}
	if tok == "" {
		return errMissingToken
	}
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) != 1 {
		return errBadToken
	}
	return nil
}

// fieldValues collects the values of a postback's fields before they are interpreted.
type fieldValues struct {
	w   *work
	v   [nFields]string
	src [nFields]uint8 // index+1 of the parameter each came from
	set uint32         // a bit per field given a parameter, 1<<fieldKind
}

// The fields whose values follow the store's rules: identifiers, and sub IDs.
const (
	identifierFields = 1<<fPlayer | 1<<fTxn | 1<<fEvent | 1<<fStatus | 1<<fSymbol
	subFields        = (1<<nFields - 1) &^ (1<<fSub - 1)
)

// name returns the name of the parameter that carried field k, for error messages.
func (fv *fieldValues) name(k fieldKind) string {
	if i := fv.src[k]; i > 0 {
		return safeName(decodedKey(&fv.w.ps[i-1]))
	}
	return ""
}

// clean reports whether the value of field k, which was given, was sent as unreserved bytes
// only (A-Z a-z 0-9 - . _ ~, no escape): such a value is ASCII without control characters.
func (fv *fieldValues) clean(k fieldKind) bool {
	return fv.w.ps[fv.src[k]-1].cleanV
}

// reject returns the rejection of the value of field k for reason r.
func (fv *fieldValues) reject(r Reason, k fieldKind, msg string, err error) *RejectError {
	return rejectField(r, fv.name(k), msg, err)
}

// build maps the verified parameters in w onto pb with the source's dialect. Each step
// interprets one thing: which parameters carry which field, the click ID, the identifiers
// under the store's rules, the event and status, the amount, the event time and sub IDs, and
// last the rule on transaction IDs, which needs the event.
func (s *Source) build(pb *Postback, w *work, now time.Time) *RejectError {
	fv := fieldValues{w: w}
	if rej := s.readFields(pb, &fv); rej != nil {
		return rej
	}
	pb.Source, pb.ReceivedAt = s.name, now
	if r, err := s.setClick(pb, fv.v[fClick]); r != "" {
		return fv.reject(r, fClick, "", err)
	}
	if pb.ClickKind == ClickNone && fv.v[fPlayer] == "" {
		return errMissingClickID
	}
	if rej := checkValues(&fv); rej != nil {
		return rej
	}
	pb.PlayerID, pb.TransactionID = fv.v[fPlayer], fv.v[fTxn]
	if rej := s.d.setEvent(pb, &fv); rej != nil {
		return rej
	}
	if rej := s.d.setAmount(pb, &fv); rej != nil {
		return rej
	}
	if rej := s.d.setTrade(pb, &fv); rej != nil {
		return rej
	}
	if t := fv.v[fOccurred]; t != "" {
		at, ok := parseTime(t)
		if !ok {
			return fv.reject(ReasonBadOccurredAt, fOccurred, "neither Unix seconds nor RFC 3339 after 1970 and before 10000", nil)
		}
		pb.OccurredAt = at
	}
	copy(pb.Subs[:], fv.v[fSub:])
	if pb.TransactionID == "" && needsTransactionID(pb.Event) {
		return errMissingTxnID
	}
	return nil
}

// readFields reads the parameters in w into fv by the dialect's names, and the others into
// pb.Extra, leaving out those of the source's method (sig, ts and kid; the token). A value
// that is an unfilled macro, a parameter that the dialect refuses and a field given under
// two names are rejected.
func (s *Source) readFields(pb *Postback, fv *fieldValues) *RejectError {
	w, d := fv.w, s.d
	for i := range w.n {
		if s.methodParam(w, i) {
			continue
		}
		p := &w.ps[i]
		k := decodedKey(p)
		v := decodedVal(p)
		// A value of unreserved bytes only cannot hold a macro's delimiters.
		if !p.cleanV && isMacro(v) {
			return rejectField(ReasonUnfilledMacro, safeName(k), "value is a macro the sender did not fill", nil)
		}
		pfx := w.pfx[i] // prefix8 of the canonical key: the decoded key's too if it is clean
		if !p.cleanK {
			pfx = prefix8(k)
		}
		kind, ok := d.fields.lookup(k, pfx)
		switch {
		case !ok && d.rejectUnknown:
			return rejectField(ReasonUnknownParam, safeName(k), "parameter not in the dialect", nil)
		case !ok:
			pb.Extra = append(pb.Extra, Param{Key: k, Value: v})
		case fv.set&(1<<kind) != 0:
			return rejectField(ReasonRepeatedKey, safeName(k), "field given under two names", nil)
		default:
			fv.src[kind] = uint8(i + 1)
			fv.v[kind] = v
			fv.set |= 1 << kind
		}
	}
	return nil
}

// methodParam reports whether parameter i of w belongs to the source's method, not to the
// postback: the sig, ts and kid of a signed query (found by noteSpecial), or the token
// parameter of a token source. A dialect may map none of them (NewSource checks).
func (s *Source) methodParam(w *work, i int) bool {
	switch s.method {
	case MethodSignedQuery:
		n := uint8(i + 1)
		return n == w.special[0] || n == w.special[1] || n == w.special[2]
	case MethodToken:
		return s.tokenHdr == "" && w.ps[i].ek == s.tokenEnc
	}
	return false
}

// checkValues holds the values that become stored identifiers and sub IDs to the store's
// rules. The event and the status are checked as sent, whatever the dialect maps them to.
func checkValues(fv *fieldValues) *RejectError {
	for m := fv.set & identifierFields; m != 0; m &= m - 1 {
		k := fieldKind(bits.TrailingZeros32(m))
		if r, err := checkIdentifier(fv.v[k], fv.clean(k)); r != "" {
			return fv.reject(r, k, identifierRule, err)
		}
	}
	for m := fv.set & subFields; m != 0; m &= m - 1 {
		k := fieldKind(bits.TrailingZeros32(m))
		if r := checkSubID(fv.v[k], fv.clean(k)); r != "" {
			return fv.reject(r, k, subIDRule, nil)
		}
	}
	return nil
}

// setEvent sets the event and the status of pb from the values sent, by the dialect's maps
// and defaults.
func (d *compiled) setEvent(pb *Postback, fv *fieldValues) *RejectError {
	pb.EventName = fv.v[fEvent]
	switch ev := fv.v[fEvent]; {
	case ev == "" && d.defaultEvent == "":
		return errMissingEvent
	case ev == "":
		pb.Event = d.defaultEvent
	default:
		var ok bool
		if pb.Event, ok = d.events[ev]; !ok {
			pb.Event = event.Type(ev)
		}
	}

	pb.OriginalStatus = fv.v[fStatus]
	st := fv.v[fStatus]
	if st == "" {
		pb.Status = d.defaultStatus
		return nil
	}
	var ok bool
	if d.statuses != nil {
		pb.Status, ok = d.statuses[st]
	} else {
		pb.Status = event.Status(st)
		ok = pb.Status.Valid()
	}
	if !ok {
		if d.unknownStatus == "" {
			return fv.reject(ReasonUnknownStatus, fStatus, "status not in the dialect", nil)
		}
		pb.Status = d.unknownStatus
	}
	return nil
}

// setAmount sets the amount of pb, in the currency sent or the dialect's default, with the
// grammar of package money. A negative amount is accepted only for a reversal, and kept as its
// magnitude (see Postback.Amount). setEvent must have run.
func (d *compiled) setAmount(pb *Postback, fv *fieldValues) *RejectError {
	cur := d.currency
	if c := fv.v[fCurrency]; c != "" {
		var err error
		if cur, err = money.ParseCurrency(c); err != nil {
			return fv.reject(ReasonBadCurrency, fCurrency, "", err)
		}
	}
	pb.Currency = cur
	a := fv.v[fAmount]
	if a == "" {
		return nil
	}
	if cur == 0 {
		return errMissingCurrency
	}
	amt, err := money.Parse(a, cur, &d.amountOpts)
	if err != nil {
		return fv.reject(ReasonBadAmount, fAmount, "", err)
	}
	if amt.Sign() < 0 {
		if pb.Event != event.Reversal && pb.Status != event.StatusReversed {
			return fv.reject(ReasonBadAmount, fAmount, "negative amount outside a reversal", nil)
		}
		if amt, err = amt.Neg(); err != nil {
			return fv.reject(ReasonBadAmount, fAmount, "", err)
		}
	}
	pb.Amount, pb.HasAmount = amt, true
	return nil
}

// setTrade sets the trade's lots and symbol, the wager's rounds and the purchase's account
// size of pb. Lots are
// positive, in the rate grammar without a unit; an account size is an amount in the currency
// of the amount (or the dialect's default), not negative. setAmount must have run.
func (d *compiled) setTrade(pb *Postback, fv *fieldValues) *RejectError {
	pb.Symbol = fv.v[fSymbol]
	if l := fv.v[fLots]; l != "" {
		r, err := money.ParseRate(l)
		switch {
		case err != nil:
			return fv.reject(ReasonBadLots, fLots, "", err)
		case strings.HasSuffix(l, "%") || strings.HasSuffix(l, "bp") || strings.HasSuffix(l, "bps"):
			return fv.reject(ReasonBadLots, fLots, "lots take no unit", nil)
		case r.Sign() <= 0:
			return fv.reject(ReasonBadLots, fLots, "lots not positive", nil)
		}
		pb.Lots = r
	}
	if r := fv.v[fRounds]; r != "" {
		n, err := strconv.ParseUint(r, 10, 64)
		if err != nil || n > MaxRounds {
			return fv.reject(ReasonBadRounds, fRounds, "decimal digits, at most 1000000000", nil)
		}
		pb.Rounds = int64(n)
	}
	if a := fv.v[fAccountSize]; a != "" {
		cur := pb.Amount.Currency()
		if !pb.HasAmount {
			cur = d.currency
			if c := fv.v[fCurrency]; c != "" {
				cur, _ = money.ParseCurrency(c) // setAmount checked it
			}
		}
		if cur == 0 {
			return errMissingCurrency
		}
		amt, err := money.Parse(a, cur, &d.amountOpts)
		if err != nil {
			return fv.reject(ReasonBadAmount, fAccountSize, "", err)
		}
		if amt.Sign() < 0 {
			return fv.reject(ReasonBadAmount, fAccountSize, "negative account size", nil)
		}
		pb.AccountSize = amt
	}
	return nil
}

// clickPolicy returns the set of ClickKinds a source accepts, as a bit per kind, or the
// broken rule (see SourceOptions.ClickKinds).
func clickPolicy(kinds []ClickKind, signer bool) (uint8, error) {
	if len(kinds) == 0 {
		if signer {
			return 1<<ClickSigned | 1<<ClickToken, nil
		}
		return 1<<ClickNative | 1<<ClickForeign, nil
	}
	var set uint8
	for _, k := range kinds {
		switch k {
		case ClickNative, ClickForeign:
		case ClickSigned, ClickToken:
			if !signer {
				return 0, fmt.Errorf("click kind %s needs a ClickSigner", k)
			}
		default:
			return 0, fmt.Errorf("no click kind %d to accept", k)
		}
		set |= 1 << k
	}
	if signer && set&(1<<ClickSigned|1<<ClickToken) == 0 {
		return 0, errors.New("a ClickSigner with ClickKinds that accept neither signed IDs nor tokens")
	}
	return set, nil
}

// setClick recognises the click ID v (see readClick) and sets it on pb if the source accepts
// its kind. It returns the reason and the error of a rejection.
func (s *Source) setClick(pb *Postback, v string) (Reason, error) {
	if v == "" {
		return "", nil
	}
	kind, r, err := s.readClick(pb, v)
	if r != "" {
		return r, err
	}
	if s.kinds&(1<<kind) == 0 {
		return notAccepted[kind], nil
	}
	pb.ClickKind = kind
	return "", nil
}

// notAccepted is the reason for refusing a click ID of each kind.
var notAccepted = [...]Reason{
	ClickNative: ReasonNativeClickID, ClickSigned: ReasonSignedClickID,
	ClickForeign: ReasonForeignClickID, ClickToken: ReasonTokenClickID,
}

// readClick reads the click ID v into pb and returns its kind. With a ClickSigner, a value
// with the form of a signed ID or token is verified as one, and its failure is a rejection
// (ReasonBadClickIDSig), never a fall back to another kind. Otherwise v is native if it parses
// as a clickid.ID, else foreign if clickid.ParseForeign accepts it (ReasonBadClickID if not).
func (s *Source) readClick(pb *Postback, v string) (ClickKind, Reason, error) {
	if s.signer != nil {
		if len(v) == clickid.SignedLen {
			id, err := s.signer.Verify(v)
			if err == nil {
				pb.ClickID = id
				return ClickSigned, "", nil
			}
			if !errors.Is(err, clickid.ErrSyntax) {
				return 0, ReasonBadClickIDSig, err
			}
		}
		t, err := s.signer.VerifyToken(v)
		if err == nil {
			pb.ClickID, pb.TokenAffiliateID, pb.TokenCampaignID = t.ID, t.AffiliateID, t.CampaignID
			return ClickToken, "", nil
		}
		if !errors.Is(err, clickid.ErrSyntax) {
			return 0, ReasonBadClickIDSig, err
		}
	}
	if len(v) == clickid.EncodedLen || len(v) == clickid.UUIDLen {
		if id, err := clickid.Parse(v); err == nil {
			pb.ClickID = id
			return ClickNative, "", nil
		}
	}
	f, err := clickid.ParseForeign(v)
	if err != nil {
		return 0, ReasonBadClickID, err
	}
	pb.ForeignClickID = f
	return ClickForeign, "", nil
}

// parseTime parses Unix seconds (up to 12 digits) or RFC 3339, for a time after the Unix
// epoch (0 is a sender's placeholder for no time, and the zero time.Time means "not sent")
// and before the year 10000 (which RFC 3339 cannot write).
func parseTime(v string) (time.Time, bool) {
	var t time.Time
	if n, ok := parseUnix(v); ok {
		t = time.Unix(n, 0).UTC()
	} else if strings.IndexByte(v, 'T') >= 0 {
		var err error
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			return time.Time{}, false
		}
	}
	return t, t.Unix() > 0 && t.Year() <= 9999
}
