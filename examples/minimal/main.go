// Command minimal is a complete tracker in about thirty lines, the one the README opens
// with: clicks, postbacks, attribution, commission, outbound delivery and the status page,
// configured by a JSON file, in memory or (with DATABASE_URL) on PostgreSQL:
//
//	go run ./examples/minimal examples/tracker/config.json
//
// For a service with flags, health checks, reloads and limits, see examples/tracker.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: minimal config.json")
	}
	var cfg s2s.Config // campaigns, sources, the commission program, endpoints: data
	b, err := os.ReadFile(os.Args[1])
	if err == nil {
		err = json.Unmarshal(b, &cfg) // validated, with field paths in its errors
	}
	check(err)
	var st store.Store // nil: in memory
	if url := os.Getenv("DATABASE_URL"); url != "" {
		db, err := sql.Open("pgx", url)
		check(err)
		check(pgstore.Migrate(context.Background(), db, nil))
		st, err = pgstore.New(db, nil)
		check(err)
	}
	tr, err := s2s.New(st, cfg, nil)
	check(err)
	page, err := tr.StatusPage(&statuspage.Options{Unauthenticated: true}) // loopback only
	check(err)
	mux := http.NewServeMux()
	mux.Handle("GET /click/{campaign}", tr.ClickHandler())
	mux.Handle("/postback/{source}", tr.PostbackHandler())
	mux.Handle("/status/", http.StripPrefix("/status", page))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	_ = tr.Run(ctx) // delivery, parked events, retention: until Ctrl-C, then it drains
	check(srv.Shutdown(context.Background()))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
