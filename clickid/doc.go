// Package clickid makes, parses and verifies click IDs: the token an affiliate's tracking
// link mints, the operator keeps with the player, and the postback brings back.
//
// A click ID ([ID]) is 128 bits in the UUIDv7 layout: a 48-bit millisecond timestamp and 74
// bits from crypto/rand. It sorts by time, so it indexes well as a primary key, and its
// creation time can be read back with [ID.Timestamp] for window checks without a lookup. Its
// text form is 26 characters of lower-case Crockford base32: URL-safe, of fixed length, and
// case-insensitive, because operators' systems sometimes change the case of what they store.
// The canonical 36-character UUID form is accepted too.
//
//	id, err := clickid.New()
//	if err != nil { ... }
//	link := "https://casino.example/?click_id=" + id.String()
//	...
//	id, err = clickid.Parse(r.URL.Query().Get("click_id"))
//
// # Self-validating IDs and signed tokens
//
// A [Signer] appends a key ID and an 80-bit HMAC-SHA256 tag to an ID ([Signer.Sign]), so
// that a forged, truncated or mistyped ID is rejected by [Signer.Verify] before any store
// lookup. It can also sign a [Token]: an ID together with the affiliate and campaign it
// belongs to (a tamper-proof "btag"), so that a tracker can attribute a conversion even when
// the click record was delayed or lost. A Signer holds one signing key and any number of
// verify-only keys, so secrets rotate without breaking the IDs already in circulation.
//
// Signed values are lower-case base32 and, like plain IDs, accepted in any case. Their
// formats, for implementers in other languages, with || for concatenation and b32 for
// unpadded Crockford base32 (most significant bit first):
//
//	signed ID = b32(id 16 bytes) || b32-char(kid) || b32(tag)            // 26+1+16 characters
//	tag       = HMAC-SHA256(secret, "s2s-clickid-v1" || 0x00 || kid || id)[:10]
//	token     = b32(payload || tag)
//	payload   = 0x01 || kid || id || len(aff) || aff || len(camp) || camp  // lengths are 1 byte
//	tag       = HMAC-SHA256(secret, "s2s-token-v1" || 0x00 || payload)[:10]
//
// The base32 form of the ID is b32 of the 128-bit value with two zero bits in front, so its
// first character is 0 to 7. Test vectors are in testdata/vectors.json.
//
// # Foreign click IDs
//
// Click IDs minted by others (gclid, fbclid, other trackers' IDs, btags) are kept as
// [Foreign] strings, whole, up to [MaxForeignLen] bytes; longer ones are refused, never
// truncated.
//
// # Concurrency
//
// [ID], [Token] and [Foreign] are values. [Generator] and [Signer] are safe for concurrent use
// and take no global lock: their state is per-CPU (sync.Pool) or read-only, so generation and
// verification scale across cores.
//
// # Errors
//
// Parsing and verification errors wrap [ErrSyntax], [ErrSignature], [ErrUnknownKey] or
// [ErrTooLong], and [NewSigner]'s configuration errors [ErrConfig]; test them with
// errors.Is. Rejections on the hot paths ([Parse], [Signer.Verify]) allocate nothing.
//
// # Security
//
// IDs from the default [Generator] carry 74 bits from crypto/rand, enough that guessing a
// live ID is hopeless for an online attacker, and no counter that would make the next ID
// predictable. An ID reveals the time of its click to the millisecond; use signed IDs where
// the click ID itself must prove that it was minted here. Secrets must be at least
// [MinSecretLen] bytes; tags are compared in constant time.
package clickid
