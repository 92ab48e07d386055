// Package outbound sends postbacks to the receivers that expect them: affiliates' trackers
// and networks. It renders each postback from an [Endpoint]'s templates into a stored
// delivery, written to the store's outbox in the same call as the conversion that causes it,
// and a [Worker] sends the deliveries later, retrying failures, until each is delivered or
// dead-lettered. Requests go out through a client that refuses internal addresses at dial
// time and never follows a redirect.
//
// A sketch, with the store st and a compiled endpoint ep:
//
//	v := outbound.ValuesOf(conv, payout)
//	v.EventID = uuid.Must(uuid.NewV7()) // the delivery's ID, which receivers dedup on
//	d, err := ep.Delivery(v, now) // with the conversion: RecordConversionParams.Deliveries
//	...
//	w, err := outbound.NewWorker(st, func(name string) (*outbound.Endpoint, bool) {
//		return ep, name == ep.Name
//	}, nil)
//	...
//	err = w.Run(ctx) // until ctx is done
//
// [ExampleWorker] runs it whole.
//
// # Templates
//
// An [Endpoint]'s URL and Body are templates: text with macros that [Endpoint.Delivery]
// fills from the [Values] of one conversion. One engine reads the macro syntaxes receivers
// and networks use; each endpoint says which one in Dialect, never guessed (a "#x#" or a
// "%x%" could be literal text in another): "braces" {x} (the default), "double_braces"
// {{x}}, "hash" #x#, "brackets" [x], "double_brackets" [[x]], "percent" %x% and "dollar"
// ${x}. A macro is
//
//	name                 {sub1}, {foreign_click_id}, {status}
//	name:format          {amount:minor}, {occurred_at:unix}, {occurred_at:2006-01-02}
//	fn:name[:format]     {sha256:player_id}, {raw:amount}, {secret:key}, {query_secret:token}
//	...|default          {sub1|none}: the default when the value is empty
//
// The names: event_id (the delivery's ID, which receivers dedup on), conversion_id, event,
// status, click_id (ours), foreign_click_id (the receiver's), sub1 ... sub30, player_id,
// affiliate_id, campaign_id, transaction_id, source, amount, currency, payout,
// payout_currency, occurred_at, received_at, sent_at (when the delivery was made) and json
// (every value as one JSON object). Amounts are exact decimals in major units ("150.00",
// money's formatting, never a float), or "minor" units ("15000"). Times are RFC 3339 in the
// endpoint's Zone (UTC by default), or unix, unix_ms, rfc3339, date, datetime, or a Go
// layout. {status} is the endpoint's word for the status (StatusMap, over the preset's),
// else the status's own name. {sha256:x} is the lowercase hex SHA-256 of a value, for
// receivers that want a hashed player ID.
//
// Templates are parsed once, by Compile: an unknown macro ({subacc4}), an unbalanced
// delimiter, a format a value cannot take, a misspelt layout are errors then, with the byte
// offset and the macro ([EndpointError]), so a macro never goes out literally. In a URL or
// a form, every opening delimiter must start a macro and a stray closing one is an error (a
// literal brace is written percent-encoded); in a JSON body, an opener starts a macro only
// before a lowercase letter, so that JSON's own braces and brackets stay text. In the
// percent dialect, "%" followed by two hex digits (upper case: "%2F") is a percent-escape.
//
// Every value is escaped for where its macro stands: a query value or a form value as
// url.QueryEscape does, a path segment so that it stays one segment (every byte but
// letters, digits, '-', '_' and '~' percent-encoded, dots included), a JSON string as
// encoding/json does (a value that is not valid UTF-8 is refused, never mangled). A macro
// outside the quotes of a JSON body must be a number (an amount, a unix time, or its
// default or null when missing) or json. {raw:x} writes a value unescaped, for values the
// library formats itself (IDs, amounts, times, statuses, the affiliate's and campaign's
// IDs); it is refused at parse time for every value that comes from a sender's postback
// (sub IDs, click, player and transaction IDs, the event, the source), and refused in JSON.
// The scheme, host and port are never templated: a value cannot move a postback to another
// host.
//
// Secrets (Endpoint.Secrets) are written {secret:name}. They are never rendered into a
// stored delivery: it holds the placeholder "<secret:name>", which no escaped value and no
// template text can produce, and [Endpoint.Request] fills it in, escaped for its position,
// when the delivery is sent, then signs the request (Endpoint.Signing). A stored URL or
// body, and so every attempt log, shows where a secret goes and never what it is. A secret
// in a query string ends up in the logs of every server and proxy on the way, so it is
// refused there unless written {query_secret:name}, for receivers that demand a token
// parameter; a secret's value written into a template as text is refused.
//
// Compile also refuses a URL that is not https (unless AllowHTTP), has no host, a user name
// or password, a fragment or an empty port, and renders every template with sample values
// (characters that break URLs and JSON, then every value empty): the URL must parse, a JSON
// body must be JSON, a form body a form.
//
// Presets give the documented postback URL of common receivers: "everflow", "voluum",
// "keitaro", "binom", "redtrack", "affise", "cake", "tune" and "scaleo" (see [Presets]).
// With a preset, URL is the receiver's base URL with the account's constants (Everflow's
// nid, CAKE's o and e, a goal), and the preset appends the path and parameters: the
// receiver's click ID from foreign_click_id, the conversion's ID where the receiver dedups
// or updates (so a retry is not counted twice and a status change updates), the payout or
// the sale amount, the status in the receiver's words, and the receiver's token as a
// query_secret when Secrets has it. testdata/templates holds each preset's golden URL.
//
// An endpoint is configuration as data: its JSON form ([Endpoint.MarshalJSON]) decodes
// strictly and compiles, and [Endpoints] decodes a list whose errors name the field path
// (endpoints[1].url). [Endpoints.Lookup] gives a [Worker] its endpoints by name.
//
// # Delivery
//
// A delivery is the request that sends one postback to one endpoint, stored with its status
// (pending, delivered or dead) and every attempt made. Its ID is the event ID that the
// receiver sees on every attempt and every replay, and dedups on: delivery is at least once,
// and a receiver that keeps the event IDs it has seen gets each postback once.
//
// A [Worker] leases due deliveries from the store (Workers attempts in flight at once, at
// most Endpoint.Concurrency of them to one endpoint and Endpoint.RatePerSecond started per
// second, in each process), sends each through the endpoint's [Endpoint.Request] with a
// per-attempt timeout, and records the attempt under the lease's fencing token: the
// status code, the latency, the start of the response (at most WorkerOptions.MaxResponse
// bytes, configured secrets blanked out) and the failure class, never an error text or an
// address. A lease that was lost (it expired and another worker took the delivery) records
// nothing: the attempt's result is dropped, and the delivery is the other worker's.
//
// With a store that is a store.AttemptRecorder (memstore and pgstore are), the worker
// records its attempts in batches (group commit): the attempts that finish while the store
// is writing are recorded together, with one RecordAttempts and so one durable write for
// all of them, each under its own fencing token (a lost lease refuses that attempt alone),
// and each attempt's result (WorkerOptions.OnResult) is reported only once the write that
// records it has returned. An idle store records an attempt at once, alone: batches grow
// only when the store is slower than the receivers. A delivered attempt frees its slot as
// soon as the receiver has answered, so that the slot sends the next delivery while the
// store records the last; at most 8 × Workers delivered attempts (and store.MaxLines) wait
// for their recording so, and past that they hold their slots. A failed attempt holds its
// slot until it is recorded, since it may disable its endpoint. With any other store, each
// attempt is recorded by itself with RecordAttempt, its slot held meanwhile.
//
// What a response means:
//
//   - 2xx: delivered.
//   - No response (a network error, a refused address, a timeout), 3xx (redirects are never
//     followed: the receiver must be given its new URL), 408, 425, 429, and 5xx other than
//     501: retried.
//   - 410 Gone: dead-lettered, and the endpoint is disabled, with the reason and the time.
//   - Other 4xx, and 501: dead-lettered at once, as a request that will not succeed by being
//     repeated; unless the endpoint sets RetryClientErrors, which retries 4xx other than 410.
//
// A retry waits a delay drawn uniformly from [0, ceiling) ("full jitter"), where the
// ceiling doubles from 5 s after the first failure to 6 h (5 s, 10 s, 20 s, ... 1 h 25 min,
// 2 h 51 min, 5 h 41 min, then 6 h), and never less than a second. A Retry-After header (in
// seconds or as an HTTP date) lengthens the wait to what it asks, up to
// WorkerOptions.MaxRetryAfter (1 h by default). The attempts of a delivery run for the
// horizon, WorkerOptions.Horizon (72 h, as Stripe's three days), from the first: the last
// retry is made at the horizon exactly, and if it fails the delivery is dead-lettered. A
// delivery that keeps failing is attempted about 37 times over the default horizon, and at
// least 25 times.
//
// An endpoint is disabled when it has had no success for WorkerOptions.DisableAfter (5 days
// by default, as Svix): the worker checks the store's EndpointState.FailingSince after each
// failure. A disabled endpoint's deliveries stay pending and are not leased until it is
// enabled again, which is always explicit ([Worker.Enable]).
//
// A delivery whose endpoint the worker does not know (its endpoints function reports false:
// the endpoint was removed from the configuration, or this process runs an older
// configuration than the one that created the delivery) is left pending and untouched, and
// the worker stops leasing that endpoint's deliveries until it knows the endpoint: another
// process may deliver them, or this one once its configuration has the endpoint again.
// So is a delivery that needs a secret its endpoint no longer has (Secrets lost a name):
// nothing is dead-lettered for a configuration error that a fix of the configuration
// mends; the worker logs it once per endpoint, and tries again when the endpoints function
// returns another *Endpoint for the name. A delivery whose stored URL's scheme or host is
// no longer its endpoint's (the endpoint was moved to another host after the delivery was
// made) is never sent, since the endpoint's current secrets and signature must not go to
// a host it no longer names: it is dead-lettered at once, unsent, with an attempt of class
// bad_url and no status (Result.Sent is false).
//
// Whatever client WorkerOptions.Client is, the worker sends with a copy of it that never
// follows a redirect.
//
// An endpoint's SendDelay postpones the first attempt of each new delivery
// (Endpoint.Delivery sets NextAttemptAt).
//
// An idle worker looks for due deliveries every WorkerOptions.PollInterval (a second);
// [Worker.Notify] makes it look at once, for a host that has just recorded a conversion. A
// worker leases at most as many deliveries as it has free attempts, and four times
// Workers ahead (four times an endpoint's Concurrency for one endpoint), one lease at a
// time on a goroutine of its own, so that the attempts leased ahead start while the store
// leases the next ones, and each lease takes many deliveries at once; the leases of an
// endpoint at its concurrency or rate limit wait in the worker, and the endpoint is left out
// of its next leases, so that one slow receiver holds back no other. Leases of an endpoint that an attempt disabled
// while a lease ran are not attempted: they lapse. A lease that waited
// too long to finish within its lease is not attempted: it lapses, and the delivery is
// leased again.
//
// # Security
//
// An endpoint's URL is chosen by whoever configures it, often the affiliate: the client
// made by [NewClient] treats every destination as hostile (server-side request forgery).
//
//   - The address is checked when it is dialled, in the net.Dialer's Control function,
//     after name resolution and on the very address the socket connects to, so that DNS
//     rebinding (a name that answers a public address to a check and a private one to the
//     connection) cannot pass. Refused: loopback and unspecified (127/8, 0/8, ::1, ::),
//     private (10/8, 172.16/12, 192.168/16), link-local with the cloud metadata address
//     (169.254/16, fe80::/10), CGNAT (100.64/10), unique-local (fc00::/7) and site-local
//     (fec0::/10), multicast and broadcast, reserved (240/4, IPv6 outside 2000::/3),
//     documentation and benchmarking ranges (192.0.2/24, 198.51.100/24, 203.0.113/24,
//     198.18/15, 2001:db8::/32, 3fff::/20), IETF protocol assignments (192.0.0/24,
//     2001::/23) and the 6to4 relay (192.88.99/24); the IPv4-mapped, NAT64 (64:ff9b::/96),
//     6to4 (2002::/16) and Teredo (2001::/32, server and obfuscated client) forms of a
//     refused IPv4 address; IPv4-compatible addresses (::a.b.c.d, deprecated) and the
//     local-use NAT64 prefix 64:ff9b:1::/48 whatever they embed; zoned addresses. Ports
//     other than 80 and 443 are refused too (ClientOptions.Ports).
//   - ClientOptions.Allow names networks to reach anyway, on any port: a private network
//     of the deployment, loopback in tests. Keep it narrow: every endpoint reaches what it
//     allows.
//   - Before any lookup, the URL must be https (http only with ClientOptions.AllowHTTP or
//     a context from [WithHTTPAllowed]), without a user name or password, and its host a
//     plain ASCII name or an IP literal in standard form. Hosts that resolvers may read as
//     addresses are refused, not resolved: decimal (2130706433), octal (0177.0.0.1), hex
//     (0x7f.1), short forms (127.1), any name whose last label is numeric, a trailing dot,
//     a zone.
//   - Redirects are never followed: a 3xx is the attempt's response (ClassRedirect), so a
//     receiver cannot bounce a postback to an internal address.
//   - Limits: a connect timeout (TCP and TLS, 5 s) and a total timeout per attempt (30 s,
//     to the last byte of the body), response headers of at most 64 KiB, and [ReadBody],
//     which reads at most the cap (store.MaxTextLen by default) of a body of any size.
//     The environment's proxy settings are ignored unless ClientOptions.Proxy says
//     otherwise; through a proxy, the guard checks the proxy's address and the target's
//     spelling, and the proxy must refuse internal targets (smokescreen does).
//
// What an affiliate sees of a failure is its [FailureClass] (timeout, dns, refused, tls,
// ssrf, redirect, http_5xx...) and status code, from [Failure]: never an address, a host
// or a server's error text, so the feature cannot serve as a port scanner. The error that
// (*http.Client).Do returns names the URL and the address: log it for the operator only.
//
// Postbacks can be signed ([Signing]): with the s2s v1 query scheme, which postback's
// MethodSignedQuery sources verify, or with Standard Webhooks headers, the delivery's ID
// as webhook-id, so that receivers verify the sender and dedup on the ID. Secrets have at
// least postback.MinSecretLen bytes; each attempt is signed afresh, at its own time.
//
// Nothing secret is stored or logged: secrets are filled in only at send time, and
// [Redact] (signatures, tokens, keys, passwords and configured parameters in URLs, and
// user information), [RedactHeader] (Authorization, cookies, webhook-signature, token and
// key headers) and [RedactSecrets] (known secret values, in a response that echoes them)
// clean what is kept in the attempt log.
//
// # Operations
//
// A dead letter is a delivery that will not be attempted again by itself:
// ListDeliveries with status dead (and an endpoint) lists them with their attempts, whose
// status codes and failure classes say why. Fix the cause (the receiver's URL, its
// credentials, its outage), then replay: [Worker.Replay] of one delivery or
// [Worker.ReplayEndpoint] of every dead delivery of an endpoint. A replayed delivery is
// pending again at once, with the same ID, its attempt history kept, and a whole new
// schedule and horizon.
//
// A disabled endpoint (GetEndpoint or ListEndpoints: Disabled, DisabledReason, DisabledAt,
// LastSuccessAt) receives nothing; its pending deliveries wait, and new ones queue up.
// When the receiver is fixed, [Worker.Enable] enables it (which restarts the clock of
// auto-disable); its pending deliveries flow again, and its dead ones, dead-lettered while
// it failed, wait for a ReplayEndpoint. An endpoint disabled by a 410 was told to stop by
// its receiver: ask the affiliate before enabling it.
//
// A delivery pending with no attempts long after it was due has an endpoint that no
// running worker knows: check the configuration. WorkerOptions.OnResult sees every attempt
// as it is recorded, and the logger gets one record per dead letter and per disabled
// endpoint: wire them to the alerts an operator reads.
//
// Several workers, in one process or many sharing a database, may run at once: a delivery
// is attempted by one of them at a time while its lease is valid, and a worker that stops
// (its context cancelled) starts no new attempt and waits for those in flight. A worker that
// is killed leaves its leases to lapse: its deliveries are attempted again after
// WorkerOptions.LeaseFor, with the same event ID, so a receiver may see a delivery twice
// when a worker dies between the receiver's answer and the recorded attempt: with group
// commit, each of the attempts waiting for their batch when it died (at most 9 × Workers).
//
// Leases are judged by the workers' clocks (WorkerOptions.Now), never by the store's: a
// lease expires at the time of the worker that took it plus LeaseFor; another worker finds
// it expired when its own clock reaches that time; and the holder's attempt is recorded only
// if it finished, by the holder's clock, before it. Neither store reads a clock of its own
// for this (pgstore compares the times its callers give it and never calls now()), so the
// clock of the database host does not matter: the skew between the hosts of workers that
// share a store does, and so does a host's clock stepped by hand. The margin is ten seconds:
// a worker starts an attempt only if, by its own clock, the attempt's Timeout ends at least
// ten seconds before its lease does (NewWorker refuses a LeaseFor that leaves less at the
// lease's start), and a lease that waited in the worker past that lapses unattempted. So no
// delivery is attempted by two workers at once while their clocks agree within those ten
// seconds, less the time the recording of an attempt takes. That is the whole margin of the
// attempt that starts latest in its lease, whatever LeaseFor is: a longer lease widens it
// only for the attempts that start early, and makes a dead worker's deliveries wait longer.
// A worker whose clock runs ahead of a lease's holder by more takes over the lease while it
// is in use: the receiver is sent the delivery twice, with one event ID, and only the later
// attempt is recorded (the holder's fencing token is stale: its attempt is refused as a lost
// lease, and its result dropped). A worker whose clock runs behind sees leases expire late,
// so that a dead worker's deliveries wait longer. NTP keeps hosts within milliseconds of
// each other: alert on a worker host whose clock offset nears a second.
package outbound
