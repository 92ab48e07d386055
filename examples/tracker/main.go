// Command tracker is an s2s tracker as a service: the tracking link, the postback URL of
// every configured sender, outbound postbacks to the affiliates' trackers, and the delivery
// status page, with health checks, JSON logs, reloads, timeouts and limits. With no flags it
// serves the sample configuration beside this file, in memory, on loopback:
//
//	go run ./examples/tracker
//
// The sample configuration (examples/tracker/config.json) has two click campaigns
// (casino-summer with signed click IDs, casino-vip with signed tokens), two postback
// sources (casino, s2s v1 signed queries; keitaro, Keitaro's parameters with a token), a
// hybrid plan (a 50 EUR CPA and 25% RevShare) and one outbound endpoint, to which the
// conversions of affiliate aff-42 are sent. Its secrets are examples: change them.
//
// # Flags
//
//	-addr host:port        where to listen (default 127.0.0.1:8080); port 0 picks a free one
//	-config file           the configuration, s2s.Config's JSON (default examples/tracker/config.json)
//	-db url                PostgreSQL (postgres://...): migrated at start, then used through
//	                       pgstore; empty (the default, or $DATABASE_URL) keeps records in memory
//	-db-schema name        the PostgreSQL schema (default pgstore.DefaultSchema)
//	-db-conns n            the most PostgreSQL connections (default 20)
//	-allow-net cidr,...    networks outbound postbacks may reach although the SSRF guard refuses
//	                       them (loopback, private ranges), on any port; repeatable. Default:
//	                       none, so that only public https receivers are reached
//	-endpoint name=url     replace the URL template of the configured endpoint name (a receiver
//	                       of one's own, in tests); an http:// URL allows http for it; repeatable
//	-poll d                how often an idle delivery worker looks for due deliveries (default 1s);
//	                       a postback that creates a delivery wakes the worker at once anyway
//	-workers n             delivery attempts in flight at once (default outbound's)
//	-lease-for d           how long a delivery worker leases a delivery (default 2m): a worker that
//	                       dies leaves its deliveries to be attempted again after it. It must exceed
//	                       the attempt timeout (30s) by more than 10s, the margin that also bounds
//	                       the clock skew between the hosts of workers sharing a database (see
//	                       outbound's # Operations)
//	-sweep d               the interval of the sweep of parked events and inbound log pruning (1m)
//	-click-batch n         batch clicks, n at most, written every -click-interval and at shutdown
//	                       (default 0: each click is written before its redirect)
//	-click-interval d      the longest a batched click waits (default 1s)
//	-status-password p     require HTTP basic auth (any user name, this password) for the status
//	                       page; default $S2S_STATUS_PASSWORD. Prefer the variable: a flag shows in ps
//	-status-csrf-key k     the status page's CSRF key, base64 of at least 32 random bytes; default
//	                       $S2S_STATUS_CSRF_KEY, else random per process. Instances behind one load
//	                       balancer share one, so that a form shown by one is accepted by another
//	-no-status             do not serve the status page
//	-shutdown-timeout d    how long a shutdown waits for requests in flight (default 30s)
//	-log-level level       debug, info (default), warn or error
//
// The status page is served without authentication only when the listener is on a
// loopback address: on any other address the tracker refuses to start unless
// -status-password (or S2S_STATUS_PASSWORD) is set, or -no-status.
//
// # Routes
//
//	GET  /click/{campaign}?aff=...&sub1=...   the tracking link: 302 to the campaign's destination
//	     /postback/{source}                   a sender's postbacks (GET query, form or JSON POST)
//	     /status/                             the delivery status page
//	GET  /healthz                             200 "ok" while the process serves
//	GET  /readyz                              200 "ready" when the store answers, else 503 (also
//	                                          503 once a shutdown has begun)
//
// # Logs
//
// Logs are JSON lines (log/slog's JSON handler) on standard error. These messages are an
// interface, for scripts and tests:
//
//	{"level":"INFO","msg":"listening","addr":"127.0.0.1:8080","store":"memory","status_page":"loopback"}
//	{"level":"INFO","msg":"config reloaded","path":"...","config":{...}}         after a good SIGHUP
//	{"level":"ERROR","msg":"config reload refused; the running configuration is kept","path":"...","error":"..."}
//	{"level":"INFO","msg":"delivery attempted","delivery":"<id>","endpoint":"...","status":"delivered","http_status":200,"class":""}
//	{"level":"INFO","msg":"shutting down","signal":"terminated"}
//	{"level":"INFO","msg":"stopped"}                                              then exit status 0
//	{"level":"ERROR","msg":"exiting","error":"..."}                               then exit status 1
//
// addr is the address actually bound (with -addr 127.0.0.1:0, the port chosen); store is
// "memory" or "postgres"; status_page is "loopback" (unauthenticated, on loopback), "password"
// or "off". The error of a refused reload names the field, as in
// `s2s: invalid config: sources[0].auth.method: ...`. No log line holds a secret.
//
// # Lifecycle
//
//   - SIGHUP reads the -config file again and replaces the configuration atomically
//     (s2s.Tracker.SetConfig, with the -endpoint replacements applied again): a postback in
//     flight finishes under the configuration it started with. A file that does not decode or
//     validate is refused, logged with its field path, and the running configuration stays.
//   - SIGINT or SIGTERM: /readyz answers 503, the server stops accepting connections and waits
//     up to -shutdown-timeout for the requests in flight, then the delivery workers finish
//     their attempts, batched clicks are written, the store is closed, and the process exits
//     with status 0.
//   - The server's timeouts: 5s to read a request's header, 15s to read a request, 30s to
//     write a response, 2 min for an idle keep-alive connection. Headers are limited to 16 KiB
//     and bodies to 1 MiB (the postback handler refuses bodies over postback.MaxBodyBytes, the
//     click handler queries over 8 KiB, the status page forms over 4 KiB, each with its own
//     answer).
//
// # Try it
//
// In one shell, the tracker; in another, a click on a tracking link (the 302's Location
// carries the signed click ID as cid), then a first deposit for it, signed as the casino's
// operator signs it: the tracker's "sign" command prints the postback URL signed with the
// casino source's key from the configuration (-config, -source and -base as for the
// service; -source casino and -base http://127.0.0.1:8080 by default), then a postback in
// Keitaro's parameters with its token:
//
//	go run ./examples/tracker
//
//	cid=$(curl -s -o /dev/null -w '%{redirect_url}' 'http://127.0.0.1:8080/click/casino-summer?aff=aff-42&sub1=banner' | sed 's/.*cid=\([^&]*\).*/\1/')
//	curl -s "$(go run ./examples/tracker sign "click_id=$cid&player_id=p-1&event=ftd&amount=150.00&currency=EUR&txn_id=T-1")"
//	curl -s "http://127.0.0.1:8080/postback/keitaro?subid=$cid&tid=K-1&payout=25.00&currency=EUR&status=sale&token=example-keitaro-token-change-me"
//
// Each answers {"result":"accepted"} (202), and {"result":"duplicate"} (200) when sent again.
// Then open http://127.0.0.1:8080/status/: the postbacks, their conversions and the deliveries
// to aff-42's tracker, retrying (the sample endpoint's host does not exist; -endpoint and
// -allow-net point it at a receiver of one's own).
//
// # Tests
//
// main_test.go builds this program and runs it as a process, on memstore and on PostgreSQL
// (-db with -db-schema, a schema per test, when S2S_TEST_POSTGRES_URL is set): health, a
// click, postbacks, delivery to a receiver on loopback, SIGHUP with a good and a bad file,
// graceful shutdown, the status page's authentication and the server's limits.
// browser_test.go drives the status page in headless Chromium (chromedp; Debian's chromium
// package, which bash .ci/run installs): a rejected postback's reason, a dead delivery's
// last attempt, Replay making it pending and then delivered, hostile values rendered as
// text. Without Chromium it skips, except in CI (CI set), where it fails. The README's
// screenshot, docs/status-page.png, is made by
//
//	go test ./examples/tracker -run TestStatusPageScreenshot -update
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	if err := run(ctx, os.Args[1:], os.Stderr, os.Getenv, hup); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("exiting", "error", err.Error())
		}
		os.Exit(1)
	}
}
