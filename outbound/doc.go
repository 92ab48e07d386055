// Package outbound sends postbacks to the receivers that expect them: affiliates' trackers
// and networks. It renders each postback from an [Endpoint]'s templates into a stored
// delivery, written to the store's outbox in the same call as the conversion that causes it,
// and a [Worker] sends the deliveries later, retrying failures, until each is delivered or
// dead-lettered. Requests go out through a client that refuses internal addresses at dial
// time and never follows a redirect.
//
// A sketch, with the store st and a compiled endpoint ep:
//
//	d, err := ep.Delivery(outbound.ValuesOf(conv, payout), now) // with the conversion: RecordConversionParams.Deliveries
//	...
//	w, err := outbound.NewWorker(st, func(name string) (*outbound.Endpoint, bool) {
//		return ep, name == ep.Name
//	}, nil)
//	...
//	err = w.Run(ctx) // until ctx is done
//
// # Templates
//
// (The templates' owner writes this section: macro dialects, escaping by position, functions,
// bodies, presets and the lint run when a template is parsed.)
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
// nothing: the attempt's result is dropped, and the delivery is the other worker's. What a
// response means:
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
// Nothing is dead-lettered for a configuration error; the worker logs it once per endpoint.
//
// An endpoint's SendDelay postpones the first attempt of each new delivery
// (Endpoint.Delivery sets NextAttemptAt).
//
// # Security
//
// (The client's owner writes this section: the dial-time SSRF guard, redirects, limits,
// signing, and what is redacted before anything is stored or shown.)
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
// when a worker dies between the receiver's answer and the recorded attempt.
package outbound
