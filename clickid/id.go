package clickid

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// ID is a 128-bit click ID. IDs made by [New] and [Generator.New] use the UUIDv7 layout
// (RFC 9562): a 48-bit Unix millisecond timestamp, the version and variant bits, and 74 bits
// from a cryptographically secure source. The zero ID is not a valid click ID.
//
// ID is a comparable value type; it converts directly to and from other 16-byte UUID types,
// such as github.com/google/uuid's UUID: uuid.UUID(id).
type ID [16]byte

// Lengths of the text forms of an ID.
const (
	// EncodedLen is the length of the compact form returned by [ID.String]: 26 characters of
	// lower-case Crockford base32.
	EncodedLen = 26
	// UUIDLen is the length of the canonical UUID form, as in
	// "0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b".
	UUIDLen = 36
)

// Sentinel errors. Errors returned by this package wrap one of them, so callers test with
// errors.Is.
var (
	// ErrSyntax reports a click ID, signed ID or token that is not in one of the accepted
	// forms: wrong length, a character outside the alphabet, a value out of range, or the zero
	// ID; and, from [Signer.SignToken], a [Token] whose fields break its rules.
	ErrSyntax = errors.New("clickid: invalid syntax")
	// ErrSignature reports a signed ID or token whose tag does not match: forged, mistyped or
	// signed with another secret.
	ErrSignature = errors.New("clickid: signature mismatch")
	// ErrUnknownKey reports a signed ID or token whose key ID is not configured in the
	// [Signer].
	ErrUnknownKey = errors.New("clickid: unknown key")
	// ErrConfig reports an invalid configuration: a [SignerKey] with a short secret or an ID
	// out of range, two keys with one ID.
	ErrConfig = errors.New("clickid: invalid configuration")
)

// Errors for the hot paths are built once, so that rejecting an ID allocates nothing.
var (
	errLength    = fmt.Errorf("%w: length is neither %d nor %d characters", ErrSyntax, EncodedLen, UUIDLen)
	errAlphabet  = fmt.Errorf("%w: character outside the base32 alphabet", ErrSyntax)
	errRange     = fmt.Errorf("%w: first character must be 0-7", ErrSyntax)
	errHex       = fmt.Errorf("%w: malformed UUID form", ErrSyntax)
	errZero      = fmt.Errorf("%w: zero id", ErrSyntax)
	errScanType  = fmt.Errorf("%w: cannot scan this type into an id", ErrSyntax)
	errBinaryLen = fmt.Errorf("%w: binary form must be 16 bytes", ErrSyntax)
)

// Parse parses a click ID in its compact form (26 characters, as returned by [ID.String]) or
// in the canonical 36-character UUID form. Both are case-insensitive. It returns an error
// wrapping [ErrSyntax] for anything else, including the zero ID. Parse does not allocate.
//
// Parse checks the form only. To reject forged IDs before any lookup, use signed IDs and
// [Signer.Verify].
func Parse(s string) (ID, error) {
	var id ID
	var err error
	switch len(s) {
	case EncodedLen:
		err = decodeCompact(&id, s)
	case UUIDLen:
		err = decodeUUID(&id, s)
	default:
		return ID{}, errLength
	}
	if err != nil {
		return ID{}, err
	}
	if id.IsZero() {
		return ID{}, errZero
	}
	return id, nil
}

// MustParse is like [Parse] but panics if s is not a valid click ID. It is meant for tests
// and for IDs known at compile time.
func MustParse(s string) ID {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// Validate reports whether s is a valid click ID in either accepted form, with the same rules
// and errors as [Parse].
func Validate(s string) error {
	_, err := Parse(s)
	return err
}

// String returns the compact form of the ID: 26 characters of lower-case Crockford base32
// (digits and letters without i, l, o, u). The form is URL-safe, of fixed length, sorts like
// the ID's bytes, and parses back whatever case a system in between gives it.
func (id ID) String() string {
	var b [EncodedLen]byte
	encodeCompact(&b, &id)
	return string(b[:])
}

// UUIDString returns the canonical 36-character UUID form of the ID, in lower case.
func (id ID) UUIDString() string {
	var b [UUIDLen]byte
	encodeUUID(&b, &id)
	return string(b[:])
}

// IsZero reports whether id is the zero ID, which is never a valid click ID.
func (id ID) IsZero() bool { return id == ID{} }

// Timestamp returns the creation time embedded in a UUIDv7 ID, in UTC, to the millisecond. It
// lets a caller check an attribution window without a lookup. For an ID that is not a
// version-7 UUID (an imported UUIDv4, say) it returns the zero time.
func (id ID) Timestamp() time.Time {
	if id[6]>>4 != 7 {
		return time.Time{}
	}
	ms := int64(id[0])<<40 | int64(id[1])<<32 | int64(id[2])<<24 | int64(id[3])<<16 | int64(id[4])<<8 | int64(id[5])
	return time.UnixMilli(ms).UTC()
}

// AppendText implements [encoding.TextAppender]; it appends the compact form.
func (id ID) AppendText(b []byte) ([]byte, error) {
	var e [EncodedLen]byte
	encodeCompact(&e, &id)
	return append(b, e[:]...), nil
}

// MarshalText implements [encoding.TextMarshaler]; it returns the compact form, so an ID is a
// JSON string.
func (id ID) MarshalText() ([]byte, error) {
	return id.AppendText(make([]byte, 0, EncodedLen))
}

// UnmarshalText implements [encoding.TextUnmarshaler] with the rules of [Parse].
func (id *ID) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Value implements [driver.Valuer]. It returns the canonical UUID form, which PostgreSQL
// stores in a uuid column (16 bytes, ordered by time for IDs made here) and other databases
// in a text column.
func (id ID) Value() (driver.Value, error) {
	return id.UUIDString(), nil
}

// Scan implements [database/sql.Scanner]. It accepts either text form (as string or []byte)
// and the 16-byte binary form (a bytea or binary(16) column). A NULL scans as an error: a
// nullable column needs a pointer or sql.Null[ID].
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case string:
		return id.UnmarshalText([]byte(v))
	case []byte:
		if len(v) == len(id) {
			var x ID
			copy(x[:], v)
			if x.IsZero() {
				return errZero
			}
			*id = x
			return nil
		}
		if len(v) != EncodedLen && len(v) != UUIDLen {
			return errBinaryLen
		}
		return id.UnmarshalText(v)
	default:
		return errScanType
	}
}
