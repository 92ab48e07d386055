// Package postback receives inbound postbacks: the server-to-server calls with which an
// operator (or another tracker) reports a registration, a deposit or a sale for a click.
//
// A [Source] describes one sender: how to read its parameters (a [Dialect]: the library's
// own, a [Preset] for Everflow, Voluum, Keitaro, Binom, Affise, CAKE, TUNE/HasOffers,
// RedTrack, Scaleo or MyAffiliates, or a custom one in code or JSON) and how to verify its
// postbacks (an [Auth]). It turns a GET query, a form POST or a JSON POST into one canonical
// [Postback]: click ID (native, signed, a verified token with its affiliate and campaign, or
// foreign), player ID, event and status (package event's names), amount in exact money,
// transaction ID, event time, sub IDs and extra fields, and the record a store keeps of it
// ([Postback.Conversion]). A [Handler] serves a Source over HTTP, hands
// verified postbacks to a [Receiver] (the attribution pipeline) and answers honestly:
// Accepted, Duplicate, Rejected with a machine-readable [Reason], or Conflict.
//
//	src, err := postback.NewSource("casino-x", postback.Auth{
//		Method: postback.MethodSignedQuery,
//		Keys:   []postback.Key{{ID: "2026-11", Secret: secret}}, // 32 random bytes
//	}, nil)
//	if err != nil { ... }
//	h, err := postback.NewHandler(src, pipeline, nil) // pipeline implements Receiver
//	if err != nil { ... }
//	mux.Handle("/postback", h)
//
// or, without HTTP:
//
//	pb, err := src.ParseQuery(path, rawQuery) // ReasonOf(err) says why it was refused
//
// The package imports, of this module, only clickid, event, money and store, and of store its
// rules on records (store.CheckKey, store.CheckSubID, the limits) and the record a postback
// becomes (store.Conversion, see Postback.Conversion): what it accepts into a field that
// becomes a stored value is exactly what a store accepts, so a postback that parsed is never
// refused by the store after it (the Handler would answer 503, and the sender retry forever).
//
// # The s2s v1 signed query
//
// The strongest method for GET and form POST postbacks. A sender implements it in any
// language as follows:
//
//   - the signed parameters are all decoded query parameters except sig (decoded as a form:
//     '+' is a space, %XX a byte in either case); ts, the time of sending in Unix seconds, is
//     required; kid, the key ID, is optional; for a form POST the body's parameters are
//     signed together with the query's;
//   - canonical query: each key and each value percent-encoded per RFC 3986 (every byte
//     outside A-Z a-z 0-9 - . _ ~ as %XX with upper-case hex), pairs sorted by encoded key
//     then encoded value (bytewise), joined as key=value with &;
//   - string to sign: "s2s-v1" + "\n" + the URL path as sent (its percent-encoded form) +
//     "\n" + the canonical query;
//   - sig = lower-case hex of HMAC-SHA256(secret, string to sign), added to the query. It is
//     read exactly as sent: the same digits in upper case, or percent-encoded, do not verify,
//     so that each signature has one spelling.
//
// For example, the path /postback with click_id=abc, event=ftd, amount=150.00 and
// ts=1732350000 is signed over
//
//	s2s-v1
//	/postback
//	amount=150.00&click_id=abc&event=ftd&ts=1732350000
//
// In a shell, with the parameters already in canonical form and order:
//
//	path=/postback
//	q="amount=150.00&click_id=abc&event=ftd&ts=$(date +%s)"
//	sig=$(printf 's2s-v1\n%s\n%s' "$path" "$q" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
//	curl "https://tracker.example$path?$q&sig=$sig"
//
// [StringToSign] shows the string for any query and [SignQuery] signs one. The receiver
// rejects a repeated key (sig and ts included), a ';', a timestamp more than the tolerance
// (300 s by default) from its clock in either direction — a timestamp exactly 300 s away is
// accepted, 301 s is rejected, comparing whole seconds — a kid of no active key, and a sig
// that matches none of the active keys (without kid, each active key is tried: at most
// MaxKeys). Published test vectors, made by an independent Python implementation, are in
// testdata/vectors.json.
//
// # Other methods
//
// [MethodStandardWebhooks] verifies JSON POSTs signed per the Standard Webhooks
// specification (webhook-id, webhook-timestamp, webhook-signature with up to MaxSignatures
// space-separated "v1," signatures). [MethodToken] compares a static token (a parameter or
// a header) in constant time: weak, for legacy senders; a token shorter than MinSecretLen,
// which some networks issue, needs Auth.AllowShortToken, and NewSource logs a warning for it.
// [MethodNone] must be chosen explicitly. Any method combines with an IP/CIDR allowlist
// (SourceOptions.AllowIPs), where X-Forwarded-For is believed only from
// SourceOptions.TrustedProxies.
//
// # Click IDs
//
// A click ID is read as a signed ID or a signed token (with SourceOptions.ClickSigner), a
// plain clickid.ID, or else a foreign ID kept whole, and the source accepts the kinds that
// SourceOptions.ClickKinds lists. Without a signer, the default is plain and foreign IDs.
// With one, it is signed IDs and verified tokens only: a plain ID (anyone can make one), a
// foreign one, a truncated signed ID and a token that fails its signature are each refused
// with their own Reason. A value with the form of a signed ID or token is always verified,
// never taken for another kind. A verified token's affiliate and campaign are in
// Postback.TokenAffiliateID and TokenCampaignID, so a conversion can be attributed without
// its click record.
//
// # Exactly once
//
// A pipeline records a postback once, under a dedup key that package attribution builds
// from its record (attribution.Dedup.Key, Decision.DedupKey; attribution's package doc, #
// Dedup): by default the source, the event and the transaction ID, or, for the events that
// happen at most once for a player or a click (a registration, a verification, a vendor's
// main conversion), the player ID or else the click ID. So parsing refuses every other event
// without a transaction ID (ReasonMissingTxnID): without one, two deposits of one player
// would be one, and the default mode keys every postback that parsing accepts. The key holds
// no time, so a retry, however late, has the key of its original.
//
// # Strict input
//
// Repeated keys (also one field under two aliases), ';' separators, a form body repeating a
// query key, bodies over MaxBodyBytes, queries over MaxQueryBytes or with more than
// MaxParams parameters, amounts outside money's strict grammar, negative amounts outside a
// reversal (a reversal's amount is kept as its magnitude: Postback.Amount is never negative,
// like a stored conversion's), event times that are not after 1970 and before 10000, and values that are
// unfilled macros ({clickid}, {{x}}, #s2#, [[sub1]], [x], %x%, ${x}, (x)) are each rejected
// with their own Reason, and nothing downstream is called. So is a value that a store would
// refuse: a player ID, transaction ID, event or status over store.MaxKeyLen bytes or with
// invalid UTF-8 or a control character, a sub ID over store.MaxSubIDLen bytes or with invalid
// UTF-8 or a NUL (ReasonValueTooLong, ReasonBadValue). A dialect that reads an amount but no
// currency is refused when the source is built, unless it sets DefaultCurrency.
//
// # Concurrency
//
// Source and Handler are safe for concurrent use. Parsing and verification take no lock:
// scratch space and HMAC states are pooled per source, so they scale across cores. The
// Receiver is called from many goroutines at once.
//
// # Errors
//
// Every error of the package wraps one of three sentinels. A refused postback is a
// [*RejectError] that wraps [ErrRejected]; [ReasonOf] returns its [Reason]. A query that
// [SignQuery] or [StringToSign] cannot sign is a *RejectError that wraps [ErrInvalidQuery]
// instead, with the Reason a receiver would give: nothing was received, so nothing was
// rejected. Configuration errors ([NewSource], [NewHandler], [ParseDialect], a short secret
// for SignQuery) wrap [ErrConfig]. The common rejections (bad signature, timestamp, repeated
// key, limits) are prebuilt and allocate nothing.
//
// # Security
//
// A source has exactly one method, and nothing weaker is ever tried in its place: a request
// without a signature to a signing source is rejected (ReasonMissingSignature). Secrets
// shorter than MinSecretLen bytes are refused, and tokens too unless Auth.AllowShortToken
// says otherwise (with a warning). Signatures are compared in constant time (hmac.Equal),
// tokens hashed with SHA-256 and compared with subtle.ConstantTimeCompare.
//
// Errors and the Handler's logs name reasons and parameter names, never values, tokens,
// secrets or signatures. Signed timestamps bound replay to the tolerance; within it, a
// replayed postback is the Receiver's to deduplicate (by its dedup key), and the Handler
// answers Duplicate. Signed click IDs and tokens (SourceOptions.ClickSigner) prove that a
// click was minted here, whatever the method that authenticates the sender.
package postback
