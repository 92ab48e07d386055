// Command operator is the sending side of s2s: a casino backend that reports its players'
// deposits to an affiliate tracker (examples/tracker, or any tracker that verifies s2s v1
// signed postbacks), and never loses or doubles one.
//
//	S2S_OPERATOR_SECRET=... go run ./examples/operator \
//		-db postgres://postgres@127.0.0.1:5432/casino?sslmode=disable \
//		-tracker http://127.0.0.1:8080/postback/casino -key-id k1 -allow-net 127.0.0.0/8
//
// What it does:
//
//   - A middleware keeps the click_id (or btag) of the landing URL, the tracker's redirect
//     to the casino (GET /?click_id=...), in a first-party cookie, and the sign-up
//     (POST /signup) stores it with the new player, in the casino's own table.
//   - The payment provider's callback (POST /deposit, with deposit_id, player_id and
//     amount) records the deposit in one transaction of the casino's database: its own
//     deposit row, the postback to the tracker, and the wallet's credit. The postback is
//     written to an outbox (package pgstore's tables, schema s2s) through the store's view
//     of that transaction, pgstore.Store.WithTx: one RecordConversion of the event the
//     casino reports, with its delivery, rendered by an outbound.Endpoint (the tracker's
//     native s2s v1 parameters). If the transaction rolls back (the wallet's deposit limit
//     refuses the credit, say), no postback exists to be sent; if it commits, the postback
//     is there, whatever happens to the process next.
//   - An outbound.Worker delivers the outbox: it signs each attempt with the source's key
//     (kid, ts, sig), retries while the tracker is down or answers 5xx, and records every
//     attempt. The delivery's ID is the same on every attempt, and the tracker dedups the
//     deposit on its transaction ID, so it is counted once.
//
// The first deposit of a player is reported as event ftd, the next ones as deposit; a
// player who came from no affiliate link is reported to nobody. A repeated callback of one
// deposit_id is recorded once, and answered 200 with "duplicate".
//
// Flags: -addr (127.0.0.1:8081; it logs {"msg":"listening","addr":...}), -db (required:
// the casino's PostgreSQL; it creates its tables and migrates the outbox), -tracker (the
// tracker's postback URL of this source), -key-id and the secret in S2S_OPERATOR_SECRET
// (the tracker's signed_query key of the source; a secret is not a flag, which ps would
// show), -allow-net (comma-separated networks the postbacks may reach although they are
// private or loopback; by default only public https destinations).
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the host's choice of driver

	"github.com/s2skit/s2s/outbound"
)

// envSecret holds the s2s v1 key's secret.
const envSecret = "S2S_OPERATOR_SECRET"

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log, os.Args[1:]); err != nil {
		log.Error("operator", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "address to listen on")
	dsn := fs.String("db", "", "the casino's PostgreSQL URL (required)")
	tracker := fs.String("tracker", "http://127.0.0.1:8080/postback/casino", "the tracker's postback URL of this source")
	keyID := fs.String("key-id", "k1", "the s2s v1 key ID (kid); its secret is in "+envSecret)
	allowNet := fs.String("allow-net", "", "comma-separated networks postbacks may reach although private or loopback, e.g. 127.0.0.0/8")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("-db is required: the outbox must share the casino's database to share its transactions")
	}
	var allow []netip.Prefix
	for _, s := range strings.Split(*allowNet, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("-allow-net: %w", err)
		}
		allow = append(allow, p)
	}
	db, err := sql.Open("pgx", *dsn)
	if err != nil {
		return err
	}
	defer db.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := newCasino(ctx, db, casinoOptions{
		Tracker: *tracker, KeyID: *keyID, Secret: os.Getenv(envSecret),
		Client: outbound.NewClient(&outbound.ClientOptions{Allow: allow}),
		Logger: log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: c.handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute,
	}
	log.Info("listening", "addr", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	worked := make(chan error, 1)
	go func() { worked <- c.Run(ctx) }()
	select {
	case err = <-served:
		stop()
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	<-worked // the worker waits for its attempts in flight
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
