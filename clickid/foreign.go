package clickid

import (
	"database/sql/driver"
	"errors"
	"fmt"
)

// MaxForeignLen is the longest [Foreign] click ID accepted, in bytes. Google's gclid has grown
// past 100 characters and trackers' btags can be longer; 1024 leaves room for all of them
// while still bounding what a sender can make the tracker store.
const MaxForeignLen = 1024

// ErrTooLong reports a foreign click ID longer than [MaxForeignLen]. It is refused, never
// truncated: a truncated ID would silently match nothing, or the wrong click.
var ErrTooLong = errors.New("clickid: foreign id too long")

// Foreign is a click ID minted by someone else: an ad platform's gclid, fbclid or ttclid,
// another tracker's click or transaction ID, an iGaming btag. It is kept exactly as received,
// as an opaque string of 1 to [MaxForeignLen] visible ASCII characters (0x21 to 0x7e): no
// spaces, control characters or non-ASCII bytes, which in a click ID mean mangling.
type Foreign string

// ParseForeign validates s as a [Foreign] click ID and returns it unchanged. Errors wrap
// [ErrSyntax] (empty, or a character outside visible ASCII) or [ErrTooLong].
func ParseForeign(s string) (Foreign, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty foreign id", ErrSyntax)
	}
	if len(s) > MaxForeignLen {
		return "", fmt.Errorf("%w: %d bytes, at most %d allowed", ErrTooLong, len(s), MaxForeignLen)
	}
	for i := range len(s) {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return "", fmt.Errorf("%w: foreign id has byte 0x%02x at offset %d, only visible ASCII is allowed", ErrSyntax, c, i)
		}
	}
	return Foreign(s), nil
}

// String returns the ID as received.
func (f Foreign) String() string { return string(f) }

// MarshalText implements [encoding.TextMarshaler].
func (f Foreign) MarshalText() ([]byte, error) { return []byte(f), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with the rules of [ParseForeign].
func (f *Foreign) UnmarshalText(b []byte) error {
	v, err := ParseForeign(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Value implements [driver.Valuer]; the ID is stored as text.
func (f Foreign) Value() (driver.Value, error) { return string(f), nil }

// Scan implements [database/sql.Scanner] with the rules of [ParseForeign].
func (f *Foreign) Scan(src any) error {
	switch v := src.(type) {
	case string:
		return f.UnmarshalText([]byte(v))
	case []byte:
		return f.UnmarshalText(v)
	default:
		return fmt.Errorf("%w: cannot scan %T into a foreign id", ErrSyntax, src)
	}
}
