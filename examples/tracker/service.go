package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver behind -db

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/statuspage"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

// The server's limits (see the package doc, # Lifecycle).
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	maxBodyBytes      = 1 << 20
	readyTimeout      = 2 * time.Second
)

// defaultConfig is the sample configuration, relative to the module's root (where go run
// is run from).
const defaultConfig = "examples/tracker/config.json"

// settings are the parsed flags.
type settings struct {
	addr            string
	config          string
	db              string
	dbSchema        string
	dbConns         int
	allowNets       []netip.Prefix
	endpoints       map[string]string // name → URL template
	poll            time.Duration
	workers         int
	leaseFor        time.Duration
	sweep           time.Duration
	clickBatch      int
	clickInterval   time.Duration
	statusPassword  string
	statusCSRFKey   []byte
	noStatus        bool
	shutdownTimeout time.Duration
	logLevel        slog.Level
}

// parseFlags parses args; getenv gives the defaults that come from the environment.
func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (*settings, error) {
	s := &settings{endpoints: map[string]string{}}
	fs := flag.NewFlagSet("tracker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on; port 0 picks a free one")
	fs.StringVar(&s.config, "config", defaultConfig, "the configuration `file` (s2s.Config's JSON)")
	fs.StringVar(&s.db, "db", getenv("DATABASE_URL"), "PostgreSQL `url` (postgres://...); empty keeps records in memory")
	fs.StringVar(&s.dbSchema, "db-schema", pgstore.DefaultSchema, "the PostgreSQL `schema`, created and migrated at start")
	fs.IntVar(&s.dbConns, "db-conns", 20, "the most PostgreSQL connections")
	fs.Func("allow-net", "`cidr`s (comma-separated, repeatable) outbound postbacks may reach although the SSRF guard refuses them", func(v string) error {
		for part := range strings.SplitSeq(v, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(part))
			if err != nil {
				return err
			}
			s.allowNets = append(s.allowNets, p.Masked())
		}
		return nil
	})
	fs.Func("endpoint", "`name=url`: replace the URL template of a configured endpoint (repeatable)", func(v string) error {
		name, u, ok := strings.Cut(v, "=")
		if !ok || name == "" || u == "" {
			return errors.New("want name=url")
		}
		s.endpoints[name] = u
		return nil
	})
	fs.DurationVar(&s.poll, "poll", outbound.DefaultPollInterval, "how often an idle delivery worker looks for due deliveries")
	fs.IntVar(&s.workers, "workers", outbound.DefaultWorkers, "delivery attempts in flight at once")
	fs.DurationVar(&s.leaseFor, "lease-for", outbound.DefaultLeaseFor, "how long a delivery worker leases a delivery; more than the attempt timeout ("+
		outbound.DefaultTimeout.String()+") by over 10s")
	fs.DurationVar(&s.sweep, "sweep", s2s.DefaultSweepInterval, "the interval of the parked-event sweep and inbound log pruning")
	fs.IntVar(&s.clickBatch, "click-batch", 0, "batch up to `n` clicks (0: each click is written before its redirect)")
	fs.DurationVar(&s.clickInterval, "click-interval", s2s.DefaultClickInterval, "the longest a batched click waits")
	fs.StringVar(&s.statusPassword, "status-password", getenv("S2S_STATUS_PASSWORD"), "require HTTP basic auth with this password for the status page (default $S2S_STATUS_PASSWORD)")
	fs.Func("status-csrf-key", "the status page's CSRF `key`, base64 of at least 32 bytes, shared by the instances behind one load balancer (default $S2S_STATUS_CSRF_KEY; unset: random per process)", func(v string) error {
		return s.setCSRFKey(v)
	})
	fs.BoolVar(&s.noStatus, "no-status", false, "do not serve the status page")
	fs.DurationVar(&s.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a shutdown waits for requests in flight")
	fs.TextVar(&s.logLevel, "log-level", slog.LevelInfo, "debug, info, warn or error")
	if v := getenv("S2S_STATUS_CSRF_KEY"); v != "" {
		if err := s.setCSRFKey(v); err != nil {
			return nil, fmt.Errorf("S2S_STATUS_CSRF_KEY: %w", err)
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if s.leaseFor <= 0 {
		// Zero would be outbound's default, silently: a lease is given, or left at its default.
		return nil, fmt.Errorf("-lease-for %s: want a positive duration (default %s)", s.leaseFor, outbound.DefaultLeaseFor)
	}
	return s, nil
}

// setCSRFKey sets the status page's CSRF key from its base64 form.
func (s *settings) setCSRFKey(v string) error {
	k, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return errors.New("want base64 (of at least 32 random bytes)")
	}
	if len(k) < 32 {
		return fmt.Errorf("%d bytes, want at least 32", len(k))
	}
	s.statusCSRFKey = k
	return nil
}

// run is the tracker: it serves until ctx is done, reloading its configuration whenever
// hup receives. It returns nil after a clean shutdown.
func run(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string, hup <-chan os.Signal) error {
	if len(args) > 0 && args[0] == "sign" {
		return sign(args[1:], os.Stdout, stderr)
	}
	s, err := parseFlags(args, stderr, getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: s.logLevel}))
	cfg, err := loadConfig(s.config, s.endpoints)
	if err != nil {
		return err
	}

	st, ping, closeStore, err := openStore(ctx, s)
	if err != nil {
		return err
	}
	defer closeStore()

	tr, err := s2s.New(st, cfg, &s2s.Options{
		Logger:     log,
		HTTPClient: outbound.NewClient(&outbound.ClientOptions{Allow: s.allowNets}),
		Worker: &outbound.WorkerOptions{
			PollInterval: s.poll,
			Workers:      s.workers,
			LeaseFor:     s.leaseFor,
			OnResult:     func(r outbound.Result) { logAttempt(log, r) },
		},
		SweepInterval: s.sweep,
		ClickBatch:    s2s.ClickBatch{Size: s.clickBatch, Interval: s.clickInterval},
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	bound := ln.Addr().(*net.TCPAddr)
	var draining atomic.Bool
	h, statusMode, err := routes(tr, s, bound, ping, &draining)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           http.MaxBytesHandler(h, maxBodyBytes),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	ran := make(chan error, 1)
	go func() { ran <- tr.Run(runCtx) }()

	storeName := "memory"
	if s.db != "" {
		storeName = "postgres"
	}
	log.Info("listening", "addr", bound.String(), "store", storeName, "status_page", statusMode)

	for {
		select {
		case <-hup:
			reload(log, tr, s)
			continue
		case err := <-served:
			stopRun()
			<-ran
			return fmt.Errorf("serve: %w", err)
		case err := <-ran:
			_ = srv.Close()
			return fmt.Errorf("tracker: %w", err)
		case <-ctx.Done():
		}
		break
	}

	log.Info("shutting down", "signal", context.Cause(ctx).Error())
	draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("requests still in flight at the shutdown timeout were cut", "error", err.Error())
		_ = srv.Close()
	}
	stopRun()
	if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
		log.Error("delivery worker", "error", err.Error())
	}
	if err := tr.FlushClicks(sctx); err != nil {
		log.Error("batched clicks not written", "error", err.Error())
		return err
	}
	log.Info("stopped")
	return nil
}

// loadConfig reads and decodes the configuration file strictly, with the endpoint URLs of
// -endpoint replaced.
func loadConfig(path string, endpoints map[string]string) (s2s.Config, error) {
	var cfg s2s.Config
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	for name, u := range endpoints {
		e, ok := cfg.Endpoints.Lookup()(name)
		if !ok {
			return cfg, fmt.Errorf("-endpoint %s: no endpoint %q in %s", name, name, path)
		}
		e.URL = u
		if pu, err := url.Parse(u); err == nil && pu.Scheme == "http" {
			e.AllowHTTP = true
		}
		if err := e.Compile(); err != nil {
			return cfg, fmt.Errorf("-endpoint %s: %w", name, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// reload reads the configuration file again and gives it to the Tracker; a bad one is
// logged and the running one stays.
func reload(log *slog.Logger, tr *s2s.Tracker, s *settings) {
	cfg, err := loadConfig(s.config, s.endpoints)
	if err == nil {
		err = tr.SetConfig(cfg)
	}
	if err != nil {
		log.Error("config reload refused; the running configuration is kept", "path", s.config, "error", err.Error())
		return
	}
	log.Info("config reloaded", "path", s.config, "config", cfg)
}

// openStore opens the store the flags name: memory, or PostgreSQL migrated to the schema.
// ping tells whether the store answers (nil for memory).
func openStore(ctx context.Context, s *settings) (store.Store, func(context.Context) error, func(), error) {
	if s.db == "" {
		return nil, nil, func() {}, nil // nil: s2s.New's in-memory store
	}
	db, err := sql.Open("pgx", s.db)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("-db: %w", err)
	}
	db.SetMaxOpenConns(s.dbConns)
	db.SetMaxIdleConns(s.dbConns)
	if err := pgstore.Migrate(ctx, db, &pgstore.MigrateOptions{Schema: s.dbSchema}); err != nil {
		_ = db.Close()
		return nil, nil, nil, fmt.Errorf("-db: migrate: %w", err)
	}
	st, err := pgstore.New(db, &pgstore.Options{Schema: s.dbSchema})
	if err != nil {
		_ = db.Close()
		return nil, nil, nil, fmt.Errorf("-db: %w", err)
	}
	return st, db.PingContext, func() { _ = db.Close() }, nil
}

// routes is the tracker's mux. statusMode says how the status page is served: "loopback",
// "password" or "off".
func routes(tr *s2s.Tracker, s *settings, bound *net.TCPAddr, ping func(context.Context) error, draining *atomic.Bool) (http.Handler, string, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /click/{campaign}", tr.ClickHandler())
	mux.Handle("/postback/{source}", tr.PostbackHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		switch {
		case draining.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "shutting down\n")
			return
		case ping != nil:
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := ping(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "store unreachable\n")
				return
			}
		}
		_, _ = io.WriteString(w, "ready\n")
	})

	mode := "off"
	switch {
	case s.noStatus:
	case s.statusPassword != "":
		mode = "password"
	case bound.IP.IsLoopback():
		mode = "loopback"
	default:
		return nil, "", fmt.Errorf("-addr %s is not a loopback address and the status page would be served without authentication: set S2S_STATUS_PASSWORD (or -status-password), or -no-status", bound)
	}
	if mode != "off" {
		// The page is mounted behind this program's own authentication (basic auth), or
		// unauthenticated on loopback: either way statuspage's Unauthenticated.
		page, err := tr.StatusPage(&statuspage.Options{Unauthenticated: true, CSRFKey: s.statusCSRFKey})
		if err != nil {
			return nil, "", err
		}
		var h http.Handler = http.StripPrefix("/status", page)
		if mode == "password" {
			h = basicAuth(s.statusPassword, h)
		}
		mux.Handle("/status/", h)
	}
	return mux, mode, nil
}

// basicAuth requires HTTP basic auth with password (any user name), compared in constant
// time over digests, so that neither its content nor its length leaks.
func basicAuth(password string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got, ok := r.BasicAuth()
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="s2s status", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// logAttempt logs one delivery attempt: never its URL or response, which may hold secrets.
func logAttempt(log *slog.Logger, r outbound.Result) {
	attrs := []slog.Attr{
		slog.String("delivery", r.Delivery.ID.String()),
		slog.String("endpoint", r.Delivery.Endpoint),
		slog.String("status", string(r.Delivery.Status)),
		slog.Int("http_status", r.Attempt.StatusCode),
		slog.String("class", string(r.Class)),
	}
	level := slog.LevelInfo
	if r.Err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", r.Err.Error()))
	}
	log.LogAttrs(context.Background(), level, "delivery attempted", attrs...)
}
