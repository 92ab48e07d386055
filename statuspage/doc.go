// Package statuspage is the delivery status page of an s2s tracker: a server-rendered
// http.Handler that shows what a store holds, so that an operator can answer "why was my
// postback rejected", "why did this conversion go to that affiliate" and "did the affiliate's
// tracker get it", and can act on the answer:
//
//   - inbound postbacks, newest first, with their outcome, reason, the HTTP status the sender
//     was answered and their parameters (secrets redacted), filtered by outcome (the rejected
//     ones) and source;
//   - conversions of an affiliate over a period, with their attribution decision (model, code,
//     reason) and a timeline each;
//   - deliveries by status (pending, retrying, delivered, dead), with every attempt: times,
//     latency, HTTP status, failure class and the start of the response;
//   - dead letters, with Replay for one and a bulk replay of an endpoint's dead letters that
//     shows its count first and acts on exactly what it counted;
//   - endpoint health: enabled or disabled, the reason beside the Re-enable button, when it
//     was disabled, its last success and since when it has been failing, and on its page
//     its failure rate: the attempts that finished in a window it names (the last day, or
//     Options.FailureWindow) and how many failed, exact to the basis point;
//   - per-affiliate statements: the ledger lines of a period by statement time, each
//     explained, with totals per currency;
//   - a timeline per event: the postbacks that recorded or found the conversion (with the
//     status each sender got), its attribution decision and status history, its ledger
//     lines, and its deliveries with every attempt;
//   - find by any ID: a conversion, delivery (event) or click ID, a dedup key, a player, or
//     a sender's transaction ID with its source.
//
// Pages are html/template, embedded, with no script and no build step; every listing pages
// with cursor links, tables have real headers, rows hold links rather than being clickable,
// every coloured status carries its word, and every time column names its clock and its zone
// (UTC).
//
// # Usage
//
// Mount the handler behind the host's authentication, at a prefix, with http.StripPrefix
// (its links are relative, so that it works under any prefix):
//
//	page, err := statuspage.New(st, &statuspage.Options{
//		Authorize: func(r *http.Request) error { return checkAdminSession(r) },
//		Actions:   worker, // an *outbound.Worker: a replay is attempted at once
//		Endpoints: func() outbound.Endpoints { return cfg.Endpoints },
//	})
//	if err != nil { ... }
//	mux.Handle("/status/", http.StripPrefix("/status", page))
//
// A host that authenticates in a middleware of its own (or a demonstration on loopback)
// sets Unauthenticated instead of Authorize; New refuses to build with neither (ErrNoAuth).
// ReadOnly leaves the actions out.
//
// # Security
//
//   - Authentication is the host's: New refuses to build without an Authorize hook unless
//     Unauthenticated is set explicitly. A refused request gets 403 and no data.
//   - Every value from a sender or a receiver (sub IDs, transaction IDs, reasons, response
//     bodies) is escaped by html/template for where it is written; no value becomes a link
//     target: links are built by the page, relative, with values only in their query.
//   - Actions (replay, replay all, re-enable) are POST only, and each must pass
//     http.CrossOriginProtection (Sec-Fetch-Site and Origin) and a double-submit CSRF check:
//     a random HttpOnly, SameSite=Strict cookie, scoped to the mount point, and a form field
//     that carries its HMAC under Options.CSRFKey (random per process by default). Anything
//     else is refused with 403 and changes nothing. GET never changes anything.
//   - No secret is rendered: URLs lose their user information and the values of secret-named
//     query parameters (outbound.Redact), headers their secret values (outbound.RedactHeader),
//     and every shown text (URL, header, body, response, parameters, error) loses the
//     configured endpoints' secrets and signing secrets wherever they appear
//     (outbound.RedactSecrets) and the values of name=value pairs whose name says secret.
//     Long texts are cut (2 KiB shown).
//   - Every response carries Content-Security-Policy default-src 'none' (the page's one
//     inline style allowed by its hash, forms posting to self only, no framing), X-Frame-Options
//     DENY, X-Content-Type-Options nosniff, Referrer-Policy no-referrer and Cache-Control
//     no-store.
//   - Inputs are bounded: filters are checked under the store's rules, periods are at most
//     400 days, forms at most 4 KiB, pages at most MaxPageSize rows, a bulk replay's count at
//     most 100,000.
//
// # Concurrency
//
// A Handler is safe for concurrent use. A bulk replay counts at the confirmation and acts in
// one store call (store.DeliveryStore.ReplayDeliveries with the confirmation's cutoff): a
// delivery that dies after the confirmation was shown but was created before it is replayed
// too, and the page reports the number actually replayed.
package statuspage
