package postback

import (
	"github.com/s2skit/s2s/event"
)

// needsTransactionID reports whether a postback of event t must carry a transaction ID:
// every event except those that happen at most once for a player or a click (a
// registration, a verification, and a vendor's main conversion, which vendors count once per
// click). A player makes many deposits, trades and purchases, and without a transaction ID
// two of them would be one. It is the rule of attribution's default dedup mode
// (DedupEventTransaction), which keys every postback that parsing accepts; a test holds the
// two packages to it (FuzzParse_StoreAccepts).
func needsTransactionID(t event.Type) bool {
	switch t {
	case event.Registration, event.Verification, event.Conversion:
		return false
	}
	return true
}
