package postback

import (
	"strconv"

	"github.com/s2skit/s2s/store"
)

// The limits and characters of the values that a Postback carries into stored records are the
// store's, so that a postback accepted here is never refused by a store (which the Handler
// would answer 503, and the sender retry forever). The values of identifier fields (player
// ID, transaction ID, event, status; the source's name and key IDs when it is built) follow
// store.CheckKey; sub IDs follow store.CheckSubID. The fuzz target
// FuzzParse_StoreAccepts holds the two packages to it.

// The explanations of the two rules, built once so that a rejection allocates no message.
var (
	identifierRule = "an identifier has at most " + strconv.Itoa(store.MaxKeyLen) + " bytes of UTF-8 without control characters"
	subIDRule      = "a sub ID has at most " + strconv.Itoa(store.MaxSubIDLen) + " bytes of UTF-8 without NUL"
)

// checkIdentifier applies the store's rule for identifiers (store.CheckKey) to v: it returns
// ReasonValueTooLong for a value over store.MaxKeyLen bytes, ReasonBadValue with the store's
// error for invalid UTF-8 or a control character, and "" for a value the store accepts.
// clean says that v has unreserved bytes only, so that only its length can break the rule.
func checkIdentifier(v string, clean bool) (Reason, error) {
	if len(v) > store.MaxKeyLen {
		return ReasonValueTooLong, nil
	}
	if clean {
		return "", nil
	}
	if err := store.CheckKey(v); err != nil {
		return ReasonBadValue, err
	}
	return "", nil
}

// checkSubID applies the store's rule for sub IDs (store.CheckSubID) to v: at most
// store.MaxSubIDLen bytes (ReasonValueTooLong) of valid UTF-8 without NUL (ReasonBadValue).
// clean is as for checkIdentifier.
func checkSubID(v string, clean bool) Reason {
	if len(v) > store.MaxSubIDLen {
		return ReasonValueTooLong
	}
	if !clean && store.CheckSubID(v) != nil {
		return ReasonBadValue
	}
	return ""
}

// SubIDs returns the sub IDs of p by position, sub1 first, up to the last one sent: the form
// in which store.Click and store.Conversion keep them. The slice shares p's memory; a caller
// that keeps it must not modify it.
func (p *Postback) SubIDs() []string {
	n := len(p.Subs)
	for n > 0 && p.Subs[n-1] == "" {
		n--
	}
	if n == 0 {
		return nil
	}
	return p.Subs[:n:n]
}
