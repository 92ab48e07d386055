// Command load measures a tracker over HTTP on loopback: the requests per second and the
// p50 and p99 latencies of its click path (a tracking link answered 302) and its postback
// path (a signed FTD of a new player, answered 202), on memstore and, with -db, on pgstore,
// beside a bare net/http handler that answers the same requests with the same status and
// nothing else, measured in the same run:
//
//	go run ./examples/load                       # memstore, in-process tracker
//	go run ./examples/load -db postgres://...    # memstore and pgstore
//	go run ./examples/load -tracker ./tracker -config examples/tracker/config.json
//
// It drives wrk (Debian's, apt-get install wrk), which spends less CPU per request than a Go
// client, and pins the server to one core and wrk to another with taskset when the machine
// has two (-server-cpu, -client-cpu), so that the server's core is the one measured. Each run
// is bounded in time (-duration) and in count (-postbacks: the postbacks signed before a
// run, each sent once; a wrk thread stops when it has sent its share).
//
// The server is a child process, one per store: with -tracker, that binary (the
// examples/tracker service: its flags -addr 127.0.0.1:0, -config and -db, and its JSON log
// line {"msg":"listening","addr":...}); without, this program itself with -serve, a Tracker
// with the same handlers (ClickHandler on GET /click/{campaign}, PostbackHandler on
// /postback/{source}) and the configuration below. The postbacks are signed with the first
// key of the configuration's first signed_query source, for a click made through the click
// path first, so that each is resolved, attributed, paid a CPA and recorded with its
// counters, binding and inbound log record.
//
// The table it prints names the machine (cores, CPU model, load average): the figures are
// ratios to the bare handler on that machine, not absolute speeds.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
	"github.com/s2skit/s2s/store/pgstore"
)

// defaultConfig is the in-process tracker's configuration: one campaign, one signed source,
// a CPA of 50 EUR on a first deposit of at least 10 EUR.
const defaultConfig = `{
	"clicks": {"campaigns": [{"id": "summer", "destination": "https://casino.example/land?cid={click_id}&s1={sub1}"}]},
	"attribution": {"default": {"windows": {"default": "30d"}}},
	"sources": [{"name": "casino-x", "auth": {"method": "signed_query", "keys": [{"id": "k1", "secret": "load-test-secret-of-32-bytes-00"}]}}],
	"commission": {"default": [{"from": "2025-01-01T00:00:00Z", "plan": {"id": "cpa", "currency": "EUR", "rounding": "half_even",
		"cpa": {"amount": {"amount": "50.00", "currency": "EUR"}, "baseline": {"min_ftd": {"amount": "10.00", "currency": "EUR"}}}}}]}
}`

// loadSchema is the pgstore schema of the in-process tracker, apart from a host's own.
const loadSchema = "s2s_load"

func main() {
	var (
		serve     = flag.String("serve", "", "internal: serve \"bare\" or \"tracker\" on -addr and log its address")
		addr      = flag.String("addr", "127.0.0.1:0", "with -serve: the address to listen on")
		db        = flag.String("db", "", "a PostgreSQL URL: measure pgstore too")
		tracker   = flag.String("tracker", "", "the tracker binary to measure (examples/tracker); empty: this program's in-process tracker")
		config    = flag.String("config", "", "the tracker's configuration (JSON); empty: the built-in one")
		duration  = flag.Duration("duration", 5*time.Second, "the longest a run lasts")
		postbacks = flag.Int("postbacks", 300000, "the most postbacks a run sends (signed before it); more than the bare handler's rate times -duration, or its rate is a lower bound (the table says so)")
		conns     = flag.Int("connections", 32, "wrk's connections")
		threads   = flag.Int("threads", 1, "wrk's threads")
		serverCPU = flag.String("server-cpu", "0", "the core the server is pinned to (taskset -c); empty: not pinned")
		clientCPU = flag.String("client-cpu", "1", "the core wrk is pinned to; empty: not pinned")
		profile   = flag.String("cpuprofile", "", "with -serve: write the server's CPU profile to this file when it stops")
	)
	flag.Parse()
	cfgJSON := []byte(defaultConfig)
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err != nil {
			log.Fatal(err)
		}
		cfgJSON = b
	}
	if *serve != "" {
		if *profile != "" {
			f, err := os.Create(*profile)
			if err != nil {
				log.Fatal(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				log.Fatal(err)
			}
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
		if err := serveMode(*serve, *addr, *db, cfgJSON); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *tracker != "" && *config == "" {
		log.Fatal("load: -tracker needs the -config it runs with, to sign its postbacks")
	}
	l := &loader{tracker: *tracker, config: *config, cfgJSON: cfgJSON, duration: *duration, postbacks: *postbacks,
		conns: *conns, threads: *threads, serverCPU: *serverCPU, clientCPU: *clientCPU}
	if runtime.NumCPU() < 2 {
		l.serverCPU, l.clientCPU = "", ""
	}
	stores := []string{""}
	if *db != "" {
		stores = append(stores, *db)
	}
	if err := l.run(stores); err != nil {
		log.Fatal(err)
	}
}

// serveMode serves the bare handler or the in-process tracker, and logs the JSON line the
// loader waits for.
func serveMode(kind, addr, dbURL string, cfgJSON []byte) error {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	mux := http.NewServeMux()
	switch kind {
	case "bare":
		// What the tracker's handlers answer, and nothing else: a 302 to a fixed destination
		// and a 202 with the accepted body.
		mux.HandleFunc("GET /click/{campaign}", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://casino.example/land?cid=0&s1="+url.QueryEscape(r.URL.Query().Get("sub1")), http.StatusFound)
		})
		mux.HandleFunc("/postback/{source}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"result":"accepted"}`+"\n")
		})
	case "tracker":
		var cfg s2s.Config
		if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
			return err
		}
		var st store.Store // nil: memstore
		if dbURL != "" {
			db, err := sql.Open("pgx", dbURL)
			if err != nil {
				return err
			}
			db.SetMaxOpenConns(64)
			db.SetMaxIdleConns(64)
			if err := pgstore.Migrate(context.Background(), db, &pgstore.MigrateOptions{Schema: loadSchema}); err != nil {
				return err
			}
			if st, err = pgstore.New(db, &pgstore.Options{Schema: loadSchema}); err != nil {
				return err
			}
		}
		tr, err := s2s.New(st, cfg, &s2s.Options{Logger: logger.With("component", "tracker")})
		if err != nil {
			return err
		}
		mux.Handle("GET /click/{campaign}", tr.ClickHandler())
		mux.Handle("/postback/{source}", tr.PostbackHandler())
	default:
		return fmt.Errorf("load: -serve %q: want bare or tracker", kind)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Info("listening", "addr", ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loader runs the measurements.
type loader struct {
	tracker, config      string
	cfgJSON              []byte
	duration             time.Duration
	postbacks            int
	conns, threads       int
	serverCPU, clientCPU string
	dir                  string // scripts and request files
}

// result is one wrk run's figures.
type result struct {
	Requests  int64   `json:"requests"`
	Duration  int64   `json:"duration_us"`
	P50, P99  float64 // µs
	Errors    int64   `json:"errors"`
	NonOK     int64   `json:"status_errors"`
	PerSecond float64
	Spent     bool // every postback of the file was sent before the time was up: a lower bound
}

// row is one line of the table: a store's path beside the bare handler's.
type row struct {
	path, store   string
	subject, bare result
}

func (l *loader) run(stores []string) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("load: wrk is not installed (Debian: apt-get install -y wrk)")
	}
	if l.serverCPU != "" || l.clientCPU != "" {
		if _, err := exec.LookPath("taskset"); err != nil {
			l.serverCPU, l.clientCPU = "", ""
		}
	}
	dir, err := os.MkdirTemp("", "s2s-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l.dir = dir
	if err := os.WriteFile(filepath.Join(dir, "lines.lua"), []byte(linesLua), 0o600); err != nil {
		return err
	}
	key, source, campaign, err := signing(l.cfgJSON)
	if err != nil {
		return err
	}
	var rows []row
	for _, dbURL := range stores {
		name := "memstore"
		if dbURL != "" {
			name = "pgstore"
		}
		rs, err := l.measure(name, dbURL, key, source, campaign)
		if err != nil {
			return fmt.Errorf("load: %s: %w", name, err)
		}
		rows = append(rows, rs...)
	}
	l.print(os.Stdout, rows)
	return nil
}

// measure runs the click and postback paths on a tracker with one store, each beside the
// bare handler, alternating them so that a change in the machine's load falls on both.
func (l *loader) measure(storeName, dbURL string, key postback.Key, source, campaign string) ([]row, error) {
	bare, err := l.start("bare", "")
	if err != nil {
		return nil, err
	}
	defer bare.stop()
	tr, err := l.start("tracker", dbURL)
	if err != nil {
		return nil, err
	}
	defer tr.stop()
	click, err := makeClick(tr.addr, campaign)
	if err != nil {
		return nil, err
	}
	clickPath := "/click/" + url.PathEscape(campaign) + "?aff=aff-load&sub1=banner"
	clicks := row{path: "click", store: storeName}
	if clicks.bare, err = l.wrk(bare.addr, clickPath, "", http.StatusFound); err != nil {
		return nil, err
	}
	if clicks.subject, err = l.wrk(tr.addr, clickPath, "", http.StatusFound); err != nil {
		return nil, err
	}
	file, err := l.signPostbacks(key, source, click)
	if err != nil {
		return nil, err
	}
	pbs := row{path: "postback", store: storeName}
	if pbs.bare, err = l.wrk(bare.addr, "", file, http.StatusAccepted); err != nil {
		return nil, err
	}
	if pbs.subject, err = l.wrk(tr.addr, "", file, http.StatusAccepted); err != nil {
		return nil, err
	}
	return []row{clicks, pbs}, nil
}

// server is a child process serving on addr.
type server struct {
	cmd  *exec.Cmd
	addr string
}

// start starts a server (the bare handler, or the tracker on dbURL's store), pinned to the
// server's core, and waits for its "listening" line.
func (l *loader) start(kind, dbURL string) (*server, error) {
	var args []string
	if kind == "tracker" && l.tracker != "" {
		args = []string{l.tracker, "-addr", "127.0.0.1:0", "-config", l.config}
		if dbURL != "" {
			args = append(args, "-db", dbURL)
		}
	} else {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		args = []string{self, "-serve", kind, "-addr", "127.0.0.1:0"}
		if dbURL != "" {
			args = append(args, "-db", dbURL)
		}
		if l.config != "" {
			args = append(args, "-config", l.config)
		}
	}
	if l.serverCPU != "" {
		args = append([]string{"taskset", "-c", l.serverCPU}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	out, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr // a service may log to either; both come through the pipe
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" && line.Addr != "" {
				select {
				case found <- line.Addr:
				default:
				}
			}
		}
	}()
	s := &server{cmd: cmd}
	select {
	case s.addr = <-found:
		return s, nil
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s did not log its address within a minute", strings.Join(args, " "))
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// makeClick follows the tracking link once and returns the click ID its redirect carries.
func makeClick(addr, campaign string) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + addr + "/click/" + url.PathEscape(campaign) + "?aff=aff-load")
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("the click path answered %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", err
	}
	// A plain click ID parses; a signed ID or token (a campaign's "click_id": "signed" or
	// "token") is longer, of the same alphabet: the longest such value.
	best := ""
	for _, vs := range loc.Query() {
		for _, v := range vs {
			if _, err := clickid.Parse(v); err == nil {
				return v, nil
			}
			if len(v) > len(best) && len(v) >= clickid.EncodedLen && strings.Trim(v, "0123456789abcdefghjkmnpqrstvwxyz") == "" {
				best = v
			}
		}
	}
	if best == "" {
		return "", fmt.Errorf("no click ID in the redirect to %s", loc)
	}
	return best, nil
}

// signPostbacks writes the run's postbacks, one request target a line: FTDs of new players
// (a random prefix per run, so that a store that keeps earlier runs' records answers none as
// a duplicate) for click, signed with key.
func (l *loader) signPostbacks(key postback.Key, source, click string) (string, error) {
	var run [4]byte
	if _, err := rand.Read(run[:]); err != nil {
		return "", err
	}
	prefix := hex.EncodeToString(run[:])
	f, err := os.CreateTemp(l.dir, "postbacks-*.txt")
	if err != nil {
		return "", err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	path := "/postback/" + source
	now := time.Now()
	for i := range l.postbacks {
		n := prefix + "-" + strconv.Itoa(i)
		q, err := postback.SignQuery(path, "event=ftd&click_id="+click+"&player_id=p-"+n+"&txn_id=t-"+n+"&amount=100.00&currency=EUR", key, now)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(w, "%s?%s\n", path, q)
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// wrk runs wrk against addr: on path, or on the request targets of file, each once; it
// checks that every answer had the status want (the script counts the others).
func (l *loader) wrk(addr, path, file string, want int) (result, error) {
	args := []string{"wrk", "-t", strconv.Itoa(l.threads), "-c", strconv.Itoa(l.conns), "-d", l.duration.String(),
		"-s", filepath.Join(l.dir, "lines.lua"), "http://" + addr, "--", strconv.Itoa(want), strconv.Itoa(l.threads), path, file}
	if l.clientCPU != "" {
		args = append([]string{"taskset", "-c", l.clientCPU}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	var r result
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			var raw struct {
				Requests, Duration, Errors, Other int64
				P50, P99                          float64
			}
			if err := json.Unmarshal([]byte(rest), &raw); err != nil {
				return result{}, fmt.Errorf("wrk's result %q: %w", rest, err)
			}
			r = result{Requests: raw.Requests, Duration: raw.Duration, P50: raw.P50, P99: raw.P99, Errors: raw.Errors, NonOK: raw.Other}
		}
	}
	if r.Duration == 0 {
		return result{}, fmt.Errorf("wrk printed no result: %s", out)
	}
	if r.Errors > 0 || r.NonOK > 0 {
		return result{}, fmt.Errorf("%d socket errors and %d answers other than %d in %d requests", r.Errors, r.NonOK, want, r.Requests)
	}
	r.PerSecond = float64(r.Requests) / (float64(r.Duration) / 1e6)
	r.Spent = file != "" && r.Requests >= int64(l.postbacks)
	return r, nil
}

// print writes the table, with the machine it was measured on.
func (l *loader) print(w io.Writer, rows []row) {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	loadavg := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		loadavg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	pin := "not pinned"
	if l.serverCPU != "" {
		pin = "server on cpu " + l.serverCPU + ", wrk on cpu " + l.clientCPU
	}
	fmt.Fprintf(w, "machine: %d cores, %s, load average %s; %s; wrk -t%d -c%d, at most %s and %d postbacks a run\n\n",
		runtime.NumCPU(), model, loadavg, pin, l.threads, l.conns, l.duration, l.postbacks)
	fmt.Fprintln(w, "| path | store | requests/s | p50 | p99 | bare net/http requests/s | p50 | p99 | ratio |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	spent := false
	for _, r := range rows {
		ratio := fmt.Sprintf("%.2f×", r.subject.PerSecond/r.bare.PerSecond)
		if r.bare.Spent {
			ratio = "≤ " + ratio
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.path, r.store,
			rate(r.subject), us(r.subject.P50), us(r.subject.P99), rate(r.bare), us(r.bare.P50), us(r.bare.P99), ratio)
		spent = spent || r.subject.Spent || r.bare.Spent
	}
	if spent {
		fmt.Fprintf(w, "\n≥: every one of the %d postbacks was sent before the time was up, so the rate is a lower bound; raise -postbacks.\n", l.postbacks)
	}
}

// rate formats a run's requests per second, marked ≥ when the run was bounded by its count.
func rate(r result) string {
	s := strconv.FormatFloat(r.PerSecond, 'f', 0, 64)
	if r.Spent {
		s = "≥ " + s
	}
	return s
}

func us(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " µs"
}

// signing returns the first key of the configuration's first signed_query source, its
// name, and its first campaign.
func signing(cfgJSON []byte) (postback.Key, string, string, error) {
	var cfg s2s.Config
	if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
		return postback.Key{}, "", "", err
	}
	if len(cfg.Clicks.Campaigns) == 0 {
		return postback.Key{}, "", "", errors.New("load: the configuration has no campaign")
	}
	for _, s := range cfg.Sources {
		if s.Auth.Method == postback.MethodSignedQuery && len(s.Auth.Keys) > 0 {
			k := s.Auth.Keys[0]
			return postback.Key{ID: k.ID, Secret: []byte(k.Secret)}, s.Name, cfg.Clicks.Campaigns[0].ID, nil
		}
	}
	return postback.Key{}, "", "", errors.New("load: the configuration has no signed_query source")
}

// linesLua is wrk's script: it sends the request target given (the click path), or each
// line of a file once, the lines shared among the threads (a thread stops when its share is
// sent); it counts the answers other than the expected status, and prints one JSON line.
const linesLua = `
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  want = tonumber(args[1])
  local n = tonumber(args[2])
  reqs = {}
  if args[4] ~= nil and args[4] ~= "" then
    local i = 0
    for line in io.lines(args[4]) do
      if i % n == id then reqs[#reqs + 1] = wrk.format("GET", line) end
      i = i + 1
    end
  else
    reqs[1] = wrk.format("GET", args[3])
    loop = true
  end
  pos = 0
  other = 0
end

function request()
  pos = pos + 1
  if pos > #reqs then
    if not loop then wrk.thread:stop() end
    pos = #reqs -- sent again before the thread stops: a duplicate, counted apart
  end
  return reqs[pos]
end

function response(status, headers, body)
  if status == 200 and not loop then
    dup = (dup or 0) + 1
  elseif status ~= want then
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o = 0
  for _, t in ipairs(threads) do o = o + t:get("other") end
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"duration":%d,"errors":%d,"other":%d,"p50":%d,"p99":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, o,
    latency:percentile(50), latency:percentile(99)))
end
`
