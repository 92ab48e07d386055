package attribution

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/store"
)

// keyParts is what a dedup key is made of: kept as values, hashed only when DedupKey is
// called, so that deciding allocates nothing.
type keyParts struct {
	mode          DedupMode // "" if the event was refused
	source, event string
	kind          string // DedupEventTransaction: "txn", "player", "foreign" or "click"
	value         string // the transaction, player or foreign click ID
	click         clickid.ID
	id            uuid.UUID // DedupEvery
}

// onceEvent reports whether an event of type t happens at most once for a player or a
// click (a registration, a verification, a vendor's main conversion), so that it may come
// without a transaction ID under DedupEventTransaction.
func onceEvent(t event.Type) bool {
	switch t {
	case event.Registration, event.Verification, event.Conversion:
		return true
	}
	return false
}

// set fills k for c under mode m, or returns the code of its refusal.
func (k *keyParts) set(m DedupMode, c *store.Conversion) Code {
	*k = keyParts{source: c.Source, event: string(c.Event)}
	switch m {
	case DedupEventTransaction:
		switch {
		case c.TransactionID != "":
			k.kind, k.value = "txn", c.TransactionID
		case !onceEvent(c.Event):
			return CodeMissingTransactionID
		case c.PlayerID != "":
			k.kind, k.value = "player", c.PlayerID
		case c.ForeignClickID != "":
			k.kind, k.value = "foreign", string(c.ForeignClickID)
		case !c.ClickID.IsZero():
			k.kind, k.click = "click", c.ClickID
		default:
			return CodeMissingPlayerID
		}
	case DedupTransaction:
		if c.TransactionID == "" {
			return CodeMissingTransactionID
		}
		k.value = c.TransactionID
	case DedupPlayerEvent:
		if c.PlayerID == "" {
			return CodeMissingPlayerID
		}
		k.value = c.PlayerID
	case DedupEvery:
		if c.ID == uuid.Nil {
			return CodeMissingConversionID
		}
		k.id = c.ID
	}
	k.mode = m
	return ""
}

// Key returns the dedup key of c under the policy d, or "" and the code of its refusal
// when c lacks a field its mode needs (CodeMissingTransactionID, CodeMissingPlayerID,
// CodeMissingConversionID): a key never collapses on an empty field. The zero Dedup is the
// default policy, so Dedup{}.Key(&c) is the key of c under DedupEventTransaction. Decide
// returns the same key (Decision.DedupKey).
//
// Keys are a version prefix and 64 lower-case hex digits (a SHA-256 of the parts, each
// prefixed with its length, so that no two sets of parts give one key): "v1:" for
// DedupEventTransaction (byte for byte the key postback used to make), "t1:" for
// DedupTransaction, "p1:" for DedupPlayerEvent, "e1:" for DedupEvery. Keys of two modes
// never meet, so changing an event's mode changes its keys: a retry that straddles the
// change is recorded again.
func (d Dedup) Key(c *store.Conversion) (string, Code) {
	var k keyParts
	if code := k.set(d.mode(c.Event), c); code != "" {
		return "", code
	}
	return k.key(), ""
}

// key returns the dedup key k describes, or "" if the event was refused.
func (k *keyParts) key() string {
	var out [keyLen]byte
	return string(k.appendKey(out[:0]))
}

// keyLen is the length of every dedup key: a prefix of three bytes, then a hex SHA-256.
const keyLen = 3 + 2*sha256.Size

// appendKey appends the dedup key k describes to dst (nothing if the event was refused) and
// returns the extended buffer.
func (k *keyParts) appendKey(dst []byte) []byte {
	var prefix string
	var stack [512]byte
	b := stack[:0]
	b = appendPart(b, k.source)
	switch k.mode {
	case DedupEventTransaction:
		prefix = "v1:"
		b = appendPart(b, k.event)
		b = appendPart(b, k.kind)
		if k.kind == "click" {
			var id [32]byte
			s, _ := k.click.AppendText(id[:0])
			b = appendPartBytes(b, s)
		} else {
			b = appendPart(b, k.value)
		}
	case DedupTransaction:
		prefix = "t1:"
		b = appendPart(b, k.value)
	case DedupPlayerEvent:
		prefix = "p1:"
		b = appendPart(b, k.event)
		b = appendPart(b, k.value)
	case DedupEvery:
		prefix = "e1:"
		b = appendPart(b, k.event)
		b = appendPartBytes(b, k.id[:])
	default:
		return dst
	}
	sum := sha256.Sum256(b)
	dst = append(dst, prefix...)
	return hex.AppendEncode(dst, sum[:])
}

// appendPart appends s prefixed with its length as a uvarint.
func appendPart(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendPartBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// DedupKey returns the key under which exactly one conversion of the event is recorded
// (see Dedup.Key for how it is made), or "" if the event was refused (Refused). It is built
// when asked for, so that Decide allocates nothing.
func (d Decision) DedupKey() string { return d.key.key() }
