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
// # The Tracker
//
// [Tracker] wires them into one pipeline. [New] builds it from a [store.Store] (nil is an
// in-memory store: the zero-setup default) and a [Config] of data: the attribution rules,
// the commission programme, the outbound endpoints and the [Route]s that say which
// affiliate's conversions go to which endpoints, the senders of postbacks ([Source]s) and
// the click path's campaigns, among others. The Config round-trips through JSON, is
// decoded strictly and is validated by each part's own package, with the field named.
//
// The Tracker is a postback.Receiver, and serves the postbacks of its sources itself
// ([Tracker.PostbackHandler], see # Postbacks). [Tracker.Receive] resolves the click (ours
// by ID, or by the foreign ID it carries) and the player's binding, decides with attribution, computes the CPA of a
// first-time deposit, renders the deliveries to the affiliate's endpoints, and writes the
// conversion, its ledger line, its counter increments (caps, the CPA's once per player and
// per-period counts), its deliveries and the player binding it creates or replaces in one
// RecordConversion call. Of concurrent first events of one unbound player exactly one
// binds them, and the others are decided again and credited by that binding; a
// re-attribution (a player idle for the campaign's span, by the store's LastActivity)
// replaces the binding only if it is still the one decided from, so that every conversion
// is credited consistently with the binding at its write. A retry answers Duplicate and
// writes nothing; a chargeback of a stored transaction is applied with ChangeStatus (and
// its deliveries); a reversal event reverses the latest conversion of its transaction by
// the sender's time (of those with an amount, when it carries one; see
// [Tracker.Receive]); a reversal before its original is parked, and applied
// (its status change and its resolution in one write, so exactly once) when Receive records
// the original; a cap is exact under concurrency on every store. [Tracker.ApplyParked] is
// the sweep of parked events, for those whose original was recorded while they were being
// parked or that a store failure left waiting. [Tracker.Run] runs the background work: the
// Tracker's outbox worker ([Tracker.Worker]), which Receive wakes as soon as it records a
// delivery, and the periodic sweep. [Tracker.SetConfig] replaces the configuration
// atomically while the Tracker runs: each postback is handled under one configuration,
// whole, and none is dropped.
//
// # Clicks
//
// A campaign's tracking link is configuration ([ClickConfig], the Config's "clicks"): its
// destination is a URL template of package outbound's engine ([outbound.Link]), such as
// "https://casino.example/land?cid={click_id}&s1={sub1}", whose scheme and host are literal
// text, so that no value of a request can send the visitor elsewhere, and whose values are
// escaped for their position. [Tracker.Click] mints the click ID (plain, signed, or a signed
// token that carries the affiliate and campaign, per [ClickIDForm]), records the click with
// the visitor's address kept whole, truncated (/24, /48: the default) or hashed (HMAC-SHA256
// under a configured key, see [IPMode]) and the user agent cleaned (never refused), and
// returns the destination rendered for it. [Tracker.ClickHandler] is the tracking link over
// HTTP: a GET is a click and a 302 to the destination, with Cache-Control: no-store; HEAD
// requests, browser prefetches and chat apps' link previewers are answered without being
// counted, and say so in the X-S2S-Click header. No request can choose a destination: there
// is no open redirect, whatever a parameter or the path spells.
//
// Clicks are written synchronously by default. With [Options].ClickBatch they are queued in
// a bounded buffer and written with InsertClicks when it is full, every interval and when
// it stops (by [Tracker.Run]) and by [Tracker.FlushClicks]; a crash loses at most the
// buffer (see [ClickBatch] for the window).
//
//	mux.Handle("GET /click/{campaign}", tracker.ClickHandler())
//
// # Commission
//
// Per-event commission at receive time is the CPA, paid once per player (by player ID,
// else click ID), with count tiers and period caps kept exact by store counters. It is
// checked where [commission.Replay] checks it: at every deposit (ftd or deposit), and at a
// registration, verification or wager of a player with a deposit and no CPA yet (one a
// period's cap refused is paid at a later event in a period with room). The FTD is the
// player's first deposit recorded, whatever the sender calls it: a sender's "ftd" after a
// deposit is a further deposit, as in Replay. One difference remains: a first deposit that
// earned no CPA and is then reversed stays the player's FTD for the Tracker, where Replay
// takes the next deposit (store counters only grow); a reversed CPA is never paid again in
// either. The baseline's deposits (min_deposits), wagering (min_wager, and min_rounds of
// the postback's rounds parameter) and verification (verified) are the player's facts, which store counters keep with each record that
// changes them (a reversed deposit or wager is taken out again, in its reversal's write);
// a verification is final for the Tracker, where Replay lets a later registration that
// says otherwise undo it. A CPA whose baseline needs player state the store does not hold
// yet (a deposit window, country amounts, time since registration) is
// refused by [Config.Validate]. An amount in another currency than its plan's is converted
// with the recorded rate of [Config.Rates] from its currency to the plan's, which the lines
// record (Line.FX), as Replay converts an event with its FX; with no such rate the event is
// recorded, logged, and earns and counts nothing: a rate is never guessed.
//
// Besides the CPA, a trade earns the IB rebate of its lots and symbol (the postback's lots
// and symbol parameters), at the lot tier of the volume the affiliate's clients traded
// before it in the period (a store counter, exact under concurrency, from which a reversed
// trade is taken out), shared up the IB tree of the programme's parents by the plan's
// levels, one line per IB; a challenge purchase earns the prop CPA of its price and
// account_size (the first purchase of a player told by a store counter, unless the plan
// pays every one); a funded account earns its payment, once per player. Each line comes
// from the commission function that [commission.Replay] calls, so the lines are Replay's.
// An IB plan that needs what a postback does not carry (open and close times for
// min_hold, spreads, instrument classes) is refused by [Config.Validate].
//
// What a conversion earned is taken back in the write that takes the conversion back: a
// status change to reversed or rejected (a chargeback, a reversal event, a rejection of a
// conversion on hold, a parked reversal applied when its original lands) writes, in its
// ChangeStatus call, the negation of every accrual line stored for the conversion (kind
// reversal, linked to the conversion, at and payable at the time of the event that asks
// for it), and a refund or reset of a challenge purchase, when the plan claws back on it,
// is recorded with the negation of the purchase's lines (kind clawback). These are the lines
// [commission.Replay] writes for the same history, in which a reversal is an event of its
// own with the ID of what it reverses and "/reversal", and a refund or reset has its
// transaction's ID and "/refund" or "/reset". A conversion's lines are taken back once,
// whichever comes first (a store counter with a limit of 1). As in Replay, nothing else is
// undone: a player whose CPA was reversed has had his CPA, and a period's CPA count and
// total (tiers, caps) keep it.
//
// # Periods
//
// A revenue report (event=revenue, iGaming RevShare) carries one player's revenue of a
// period with its sign, as parameters of the postback: ggr (required), bonuses, fees,
// taxes, deposits and withdrawals, each an amount in the postback's currency parsed
// strictly with money (a leading '-' allowed: a player's winnings make GGR negative), and
// corrects, the report ID of an earlier report whose amounts this one replaces. Receive
// records it as a revenue fact (store.RevenueStore) of the affiliate the player is bound to,
// once per sender's report ID: accepted, duplicate for a retry, conflict for the report ID
// with other amounts or a second correction of one report, or rejected with a reason
// (bad_revenue, unknown_correction, revenue_not_approved for a report its sender marks
// pending, rejected or reversed, or attribution's code for a player nobody brought). A
// revenue source's dialect must not reject unknown parameters, which carry the components.
//
// Revenue becomes commission when its statement period closes. [Tracker.ClosePeriod]
// closes a period of the programme's calendar (commission.Program's Zone and Period) and
// every earlier one not closed yet, in order; [Tracker.Run] closes every period whose
// cutoff, its end plus the programme's Grace, has passed, at its sweeps. A close computes
// each affiliate's RevShare from the revenue facts of the period and the balances carried
// out of the one before (negative carryover, ring fences), and the sub-affiliate shares of
// the programme's parents, with the functions [commission.Replay] settles a period with
// (commission.Program.Settle and SubLines), and writes the lines with the balances it
// carries out in one store call (store.PeriodStore): the statements are Replay's over the
// same revenue facts. A report received after its period's cutoff is late: it counts in the
// period whose cutoff comes next, as an adjustment line of what it changed there (a closed
// period is never edited); a correction counts as its amounts less the report's it
// corrects. Closing is idempotent and safe from many processes: a closed period is not
// closed again, its lines have IDs derived from the period, affiliate and rule, and of
// concurrent closes of a period the store records one.
//
// # Postbacks
//
// The senders of postbacks are [Config.Sources]: each a [Source] with a name, an
// authentication (a signed query, Standard Webhooks, a token, or none, chosen explicitly),
// a dialect (native, a preset, or inline), the click IDs it accepts (signed ones verified
// with the click path's keys, Config.Clicks.Keys), and its IP allowlist.
// [Tracker.PostbackHandler] serves them all, one source per path:
//
//	mux.Handle("/postback/{source}", tracker.PostbackHandler())
//
// and answers each postback as postback.Handler does (202 accepted, 200 duplicate, 409
// conflict, 4xx with a reason for a rejection, 503 when the store fails so that the sender
// retries; 404 for a source not configured). After the answer is flushed it writes the
// postback to the inbound log (store.InboundStore): source, outcome, reason, the status
// sent, the parameters with secrets blanked, the sender's address, timing and the
// conversion; and it tells [Options.Observer]. The log is written synchronously after the
// answer, in the request's goroutine: the sender does not wait for it, the number in
// flight is bounded by the server's, and nothing is queued that a crash could lose (it
// costs about 10 allocations and a few microseconds on memstore, one INSERT on pgstore:
// BenchmarkPostbackHandler). [Tracker.PruneInbound], which Run calls every SweepInterval,
// keeps it to Config.Inbound.Retention (30 days by default).
//
// # Troubleshooting
//
// "Why was my postback rejected?" The inbound log has the answer: list it with the store's
// ListInbound by source, outcome and time. Its Reason is postback's machine-readable reason
// (bad_signature, timestamp_out_of_tolerance, missing_transaction_id...), attribution's code
// for a postback that parsed but was refused (status_transition...), or unknown_source for a
// URL whose {source} is not configured (the record keeps the name asked for). Its
// HTTPStatus is what the sender got; Params are the query and body as sent, signature and
// token blanked, so that a sender's missing macro ("{clickid}" sent as is: unfilled_macro)
// or a wrong parameter name is visible. An outcome of "error" (503) is a store failure on
// our side: the Tracker's logger has its cause, and the sender's retry will be received.
// A postback that never appears in the log never reached the handler: look at the host's
// mux, proxy and TLS.
//
// [Tracker.StatusHandler] answers the same questions as JSON, for programs: the report, the
// inbound log, deliveries by status and endpoint with every attempt, and endpoint health
// with each endpoint's failure rate over a named window; read-only, paged, parsed strictly,
// with no secret in any answer, behind the host's authentication (an Authorize hook, or
// StatusOptions.Unauthenticated set explicitly):
//
//	status, err := tracker.StatusHandler(&s2s.StatusOptions{Authorize: checkSession})
//	mux.Handle("/status.json/", http.StripPrefix("/status.json", status))
//
// # Reports
//
// [Tracker.Report] answers a [ReportQuery]: per affiliate, campaign and period (days, weeks
// or months in the campaign's zone, the programme's, or one the query names), the clicks,
// the registrations and FTDs (pending or approved), their conversion rates as exact ratios
// ([store.Ratio]: counts and basis points, never a float), every event type by status, the
// revenue reported per currency (the facts in force: a corrected report counts once, as
// corrected; a player's winnings are a negative GGR), and the commission by rule and
// currency: accrued, adjusted, taken back by reversals and clawbacks, and net. Nothing is
// converted between currencies. The figures are the store's own counts and sums
// ([store.ReportStore]): on pgstore, indexed aggregate queries that read one affiliate's
// rows of the range and nothing else, so a report of an affiliate's month costs what that
// month holds, not what the tables hold. A report of every affiliate reads every
// affiliate's rows of the range.
//
//	rep, err := tracker.Report(ctx, s2s.ReportQuery{AffiliateID: "aff-42", Period: commission.Day,
//		From: time.Now().AddDate(0, 0, -7), To: time.Now()})
//
// Not built yet, and not to be relied on: the observer's delivery and click events. Until
// then a host writes those parts itself from the packages above; examples/quickstart shows
// how.
//
// See the README for the quick start and the state of each package.
package s2s
