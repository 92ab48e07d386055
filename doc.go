// Package s2s is an embeddable library for server-to-server (postback) attribution in
// affiliate programmes: iGaming operators, Forex introducing brokers and prop trading firms.
//
// An affiliate's tracking link mints a click ID; the operator keeps it with the player; when
// the player registers, deposits, trades or buys a challenge, the operator's server calls the
// tracker's postback URL. s2s covers that whole path as a library:
//
//   - [github.com/s2skit/s2s/clickid]: generate, parse, sign and verify click IDs;
//   - [github.com/s2skit/s2s/money]: exact amounts in minor units, rates, rounding,
//     allocation and currency conversion, with no floating point;
//   - [github.com/s2skit/s2s/event]: the one vocabulary of event types and conversion
//     statuses that every other package speaks;
//   - [github.com/s2skit/s2s/postback]: parse, verify and honestly answer inbound postbacks;
//   - [github.com/s2skit/s2s/commission]: CPA, RevShare, hybrid, IB, prop and sub-affiliate
//     plans as data, with an explainable ledger, statements and what-if replays;
//   - [github.com/s2skit/s2s/attribution]: who earns a conversion, and why: windows on the
//     event's clock (calendar days in the campaign's zone), last/first click, lifetime
//     binding with claim priority, re-attribution, named dedup policies, the status machine
//     and parked reversals, fraud bounds, custom rules and caps, each decision with its
//     reason code;
//   - [github.com/s2skit/s2s/outbound]: postbacks to affiliates' trackers: templates in
//     seven macro dialects with receiver presets, signing, an HTTP client that refuses
//     internal addresses at dial time, and the outbox Worker (retries, dead letters, replay,
//     auto-disable);
//   - [github.com/s2skit/s2s/store]: the storage contract, with an in-memory store
//     ([github.com/s2skit/s2s/store/memstore]) and a PostgreSQL store
//     ([github.com/s2skit/s2s/store/pgstore]).
//
// Not built yet, and not to be relied on: this package's Tracker, which will wire the others
// into one pipeline: record a click and build its redirect, receive a postback (verify,
// parse, resolve, attribute, commission, persist atomically with its outbound postbacks),
// run delivery workers and answer status queries, with http.Handlers that a host mounts on
// its own mux. Until then a host writes that pipeline itself from the packages above;
// examples/quickstart shows how.
//
// See the README for the quick start and the state of each package.
package s2s
