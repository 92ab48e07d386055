package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/internal/pgtest"
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// wait bounds every wait of these tests for the tracker process: its start, a log line, its
// exit. They poll for a condition with this deadline; none sleeps for a fixed time.
const wait = 60 * time.Second

// The sample configuration's secrets, as its senders have them.
var (
	casinoKey    = postback.Key{ID: "k1", Secret: []byte("example-postback-secret-change-me")}
	keitaroToken = "example-keitaro-token-change-me"
)

// binary is the tracker, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "s2s-tracker-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tracker")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the tracker:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// logs are the JSON lines a tracker writes, as they come.
type logs struct {
	mu     sync.Mutex
	lines  []map[string]any
	raw    bytes.Buffer
	change chan struct{} // closed and replaced at every new line, and at the end
	ended  chan struct{} // closed when the stream has ended
}

// readLogs reads the lines of r until it ends, then calls end.
func readLogs(r io.Reader, end func()) *logs {
	l := &logs{change: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line map[string]any
			_ = json.Unmarshal(sc.Bytes(), &line) // a line that is not JSON is kept in raw only
			l.mu.Lock()
			l.raw.Write(sc.Bytes())
			l.raw.WriteByte('\n')
			if line != nil {
				l.lines = append(l.lines, line)
			}
			close(l.change)
			l.change = make(chan struct{})
			l.mu.Unlock()
		}
		if end != nil {
			end()
		}
		close(l.ended)
	}()
	return l
}

func (l *logs) log() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.raw.String()
}

// waitLog waits for a logged line that match accepts, and returns it. It fails t if the
// stream ends first or the wait deadline passes.
func (l *logs) waitLog(t *testing.T, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(wait)
	seen := 0
	for {
		l.mu.Lock()
		for ; seen < len(l.lines); seen++ {
			if match(l.lines[seen]) {
				line := l.lines[seen]
				l.mu.Unlock()
				return line
			}
		}
		change, ended := l.change, l.ended
		l.mu.Unlock()
		select {
		case <-change:
		case <-ended:
			l.mu.Lock()
			n := len(l.lines)
			l.mu.Unlock()
			if seen == n {
				t.Fatalf("the tracker's log ended before the line waited for")
			}
		case <-deadline:
			t.Fatalf("no such log line within %s", wait)
		}
	}
}

// count returns how many logged lines match accepts.
func (l *logs) count(match func(map[string]any) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if match(line) {
			n++
		}
	}
	return n
}

// proc is a running tracker process and the JSON lines it has logged.
type proc struct {
	*logs
	cmd  *exec.Cmd
	addr string // the address it logged as listening
	base string // http://addr

	exited chan struct{} // closed when the process has exited
	err    error         // Wait's, once exited
}

// start runs the tracker with args (from the module's root, as go run would be), waits
// for its "listening" line and returns it. It is killed when t ends if still running.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := startNoWait(t, env, args...)
	line := p.waitLog(t, msg("listening"))
	p.addr = line["addr"].(string)
	p.base = "http://" + p.addr
	return p
}

func startNoWait(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = "../.." // the module's root: the default -config is relative to it
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	p.logs = readLogs(stderr, func() {
		p.err = cmd.Wait()
		close(p.exited)
	})
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("tracker's log:\n%s", p.log())
		}
	})
	return p
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
}

// waitExit waits for the process to exit and returns Wait's error.
func (p *proc) waitExit(t *testing.T) error {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(wait):
		t.Fatalf("the tracker did not exit within %s", wait)
	}
	<-p.ended
	return p.err
}

func msg(m string) func(map[string]any) bool {
	return func(l map[string]any) bool { return l["msg"] == m }
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{
	Timeout:       wait,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// click follows a tracking link and returns the click ID its redirect carries.
func (p *proc) click(t *testing.T, campaign, query string) string {
	t.Helper()
	resp, _ := get(t, p.base+"/click/"+campaign+"?"+query)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	cid := loc.Query().Get("cid") // casino-summer's destination
	if cid == "" {
		cid = loc.Query().Get("btag") // casino-vip's
	}
	require.NotEmpty(t, cid, "the destination carries the click ID: %s", loc)
	return cid
}

// postback sends a postback of the casino source, signed as its operator signs them.
func (p *proc) postback(t *testing.T, source string, q url.Values) (*http.Response, string) {
	t.Helper()
	path := "/postback/" + source
	signed, err := postback.SignQuery(path, q.Encode(), casinoKey, time.Now())
	require.NoError(t, err)
	return get(t, p.base+path+"?"+signed)
}

// stores runs f on memstore and on PostgreSQL (a schema of its own per test), with the
// flags that select the store.
func stores(t *testing.T, f func(t *testing.T, storeArgs []string, sch *pgtest.Schema)) {
	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		f(t, nil, nil)
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		sch := pgtest.New(t)
		f(t, []string{"-db", sch.URL, "-db-schema", sch.Name}, &sch)
	})
}

// receiver is an affiliate's tracker on loopback that counts the postbacks it gets by event
// ID. Its handler answers with status, or blocks on hold while hold is set.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	events map[string]int
	got    chan string
}

func newReceiver(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{events: map[string]int{}, got: make(chan string, 100)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("event_id")
		rc.mu.Lock()
		rc.events[id]++
		rc.mu.Unlock()
		if handle != nil {
			handle(w, r)
		}
		rc.got <- id
	}))
	t.Cleanup(rc.Close)
	return rc
}

// endpointFlag points the sample endpoint at the receiver.
func (rc *receiver) endpointFlag() string {
	return "aff-42-tracker=" + rc.URL + "/pb?cid={click_id}&txn={transaction_id}&event={event}&payout={payout}&event_id={event_id}"
}

func ftd(cid, txn string) url.Values {
	return url.Values{"click_id": {cid}, "player_id": {"p-" + txn}, "event": {"ftd"}, "amount": {"150.00"},
		"currency": {"EUR"}, "txn_id": {txn}}
}

// TestTracker_Serves: health, a click, signed and vendor postbacks (with a retry and a
// forgery), the delivery to the affiliate's tracker on loopback (-allow-net, -endpoint), and
// the status page, on both stores.
func TestTracker_Serves(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, storeArgs []string, sch *pgtest.Schema) {
		rc := newReceiver(t, nil)
		p := start(t, nil, append([]string{"-addr", "127.0.0.1:0", "-allow-net", "127.0.0.0/8", "-endpoint", rc.endpointFlag()}, storeArgs...)...)
		require.Regexp(t, `^127\.0\.0\.1:\d+$`, p.addr, "the listening line has the bound address, its port chosen")
		require.NotEqual(t, "127.0.0.1:0", p.addr)

		resp, body := get(t, p.base+"/healthz")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "ok\n", body)
		resp, body = get(t, p.base+"/readyz")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)

		cid := p.click(t, "casino-summer", "aff=aff-42&sub1=banner")
		_, err := clickid.Parse(cid)
		require.Error(t, err, "casino-summer's click IDs are signed, not plain")

		resp, body = p.postback(t, "casino", ftd(cid, "T-1"))
		require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
		require.JSONEq(t, `{"result":"accepted"}`, body)
		resp, body = p.postback(t, "casino", ftd(cid, "T-1"))
		require.Equal(t, http.StatusOK, resp.StatusCode, "a retry is a duplicate: %s", body)
		require.JSONEq(t, `{"result":"duplicate"}`, body)
		// A forgery: signed with another secret.
		q := ftd(cid, "T-2")
		forged, err := postback.SignQuery("/postback/casino", q.Encode(), postback.Key{ID: "k1", Secret: []byte("not-the-casino-secret-at-all!!")}, time.Now())
		require.NoError(t, err)
		resp, body = get(t, p.base+"/postback/casino?"+forged)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
		require.Contains(t, body, "bad_signature")

		// Keitaro's parameters and token, for the second campaign's signed token.
		vip := p.click(t, "casino-vip", "aff=aff-42")
		resp, body = get(t, p.base+"/postback/keitaro?"+url.Values{"subid": {vip}, "tid": {"K-1"}, "payout": {"10.00"},
			"currency": {"EUR"}, "status": {"sale"}, "token": {keitaroToken}}.Encode())
		require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
		resp, body = get(t, p.base+"/postback/keitaro?"+url.Values{"subid": {vip}, "tid": {"K-2"}, "token": {"a-wrong-token-of-enough-length"}}.Encode())
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)

		// Both conversions of aff-42 are delivered to its tracker, each once.
		seen := map[string]bool{}
		for len(seen) < 2 {
			select {
			case id := <-rc.got:
				seen[id] = true
			case <-time.After(wait):
				t.Fatalf("the receiver got %d deliveries, want 2", len(seen))
			}
		}
		p.waitLog(t, func(l map[string]any) bool {
			return l["msg"] == "delivery attempted" && l["status"] == "delivered" && l["http_status"] == float64(200)
		})

		resp, body = get(t, p.base+"/status/inbound?outcome=rejected")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, "bad_signature", "the status page shows the rejected postback's reason")

		if sch != nil { // what the status page read is in the PostgreSQL schema the flags named
			st, _ := sch.Open(t)
			rs, err := st.ListInbound(t.Context(), store.ListInboundParams{Limit: 100})
			require.NoError(t, err)
			require.Len(t, rs, 5, "every postback answered is in the inbound log")
		}

		p.signal(t, syscall.SIGTERM)
		require.NoError(t, p.waitExit(t), "a clean shutdown exits 0")
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for id, n := range rc.events {
			require.Equal(t, 1, n, "rule: delivery %s received once", id)
		}
	})
}

// TestTracker_RefusesLoopbackDeliveriesByDefault: without -allow-net the SSRF guard refuses
// a receiver on loopback, and the receiver gets nothing.
func TestTracker_RefusesLoopbackDeliveriesByDefault(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	p := start(t, nil, "-addr", "127.0.0.1:0", "-endpoint", rc.endpointFlag())
	cid := p.click(t, "casino-summer", "aff=aff-42")
	resp, body := p.postback(t, "casino", ftd(cid, "T-1"))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	p.waitLog(t, func(l map[string]any) bool { return l["msg"] == "delivery attempted" && l["class"] == "ssrf" })
	p.signal(t, syscall.SIGINT)
	require.NoError(t, p.waitExit(t))
	rc.mu.Lock()
	defer rc.mu.Unlock()
	require.Empty(t, rc.events, "rule: no request reaches loopback without -allow-net")
}

// writeConfig writes the sample configuration, changed by edit, to path.
func writeConfig(t *testing.T, path string, edit func(cfg map[string]any)) {
	t.Helper()
	b, err := os.ReadFile("config.json")
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(b, &cfg))
	if edit != nil {
		edit(cfg)
	}
	b, err = json.Marshal(cfg)
	require.NoError(t, err)
	// Written whole and renamed, as a deployment tool would: a reload never reads half a file.
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, b, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// addSource adds a signed source named name with the casino's key.
func addSource(name string) func(cfg map[string]any) {
	return func(cfg map[string]any) {
		cfg["sources"] = append(cfg["sources"].([]any), map[string]any{"name": name,
			"auth": map[string]any{"method": "signed_query", "keys": []any{map[string]any{"id": "k1", "secret": string(casinoKey.Secret)}}}})
	}
}

// TestTracker_Reload: SIGHUP applies a good file (a new source answers), refuses a bad one
// with the field's path in the log, and keeps the running configuration.
func TestTracker_Reload(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, storeArgs []string, _ *pgtest.Schema) {
		path := filepath.Join(t.TempDir(), "config.json")
		writeConfig(t, path, nil)
		p := start(t, nil, append([]string{"-addr", "127.0.0.1:0", "-config", path}, storeArgs...)...)
		cid := p.click(t, "casino-summer", "aff=aff-7")

		resp, body := p.postback(t, "casino2", ftd(cid, "T-1"))
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "no such source yet: %s", body)

		writeConfig(t, path, addSource("casino2"))
		p.signal(t, syscall.SIGHUP)
		ok := p.waitLog(t, msg("config reloaded"))
		require.Equal(t, path, ok["path"])
		require.NotContains(t, p.log(), string(casinoKey.Secret), "rule: no secret in the log")
		resp, body = p.postback(t, "casino2", ftd(cid, "T-1"))
		require.Equal(t, http.StatusAccepted, resp.StatusCode, "the reloaded configuration serves the new source: %s", body)

		// A bad file: an unknown authentication method in the third source.
		writeConfig(t, path, func(cfg map[string]any) {
			addSource("casino3")(cfg)
			cfg["sources"].([]any)[2].(map[string]any)["auth"].(map[string]any)["method"] = "hmac"
		})
		p.signal(t, syscall.SIGHUP)
		bad := p.waitLog(t, msg("config reload refused; the running configuration is kept"))
		require.Equal(t, "ERROR", bad["level"])
		require.Contains(t, bad["error"], `sources[2]: auth.method: "hmac"`, "the error names the field")
		resp, body = p.postback(t, "casino2", ftd(cid, "T-2"))
		require.Equal(t, http.StatusAccepted, resp.StatusCode, "the running configuration stays: %s", body)
		resp, _ = p.postback(t, "casino3", ftd(cid, "T-3"))
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "nothing of the refused file applies")

		// A file that is not JSON at all.
		require.NoError(t, os.WriteFile(path, []byte(`{"sources": [`), 0o600))
		p.signal(t, syscall.SIGHUP)
		require.Eventually(t, func() bool { return p.count(msg("config reload refused; the running configuration is kept")) == 2 }, wait, 10*time.Millisecond)
		resp, _ = p.postback(t, "casino2", ftd(cid, "T-4"))
		require.Equal(t, http.StatusAccepted, resp.StatusCode)

		p.signal(t, syscall.SIGTERM)
		require.NoError(t, p.waitExit(t))
	})
}

// TestTracker_GracefulShutdown: SIGTERM lets the delivery attempt in flight finish and be
// recorded, and writes the batched clicks, before the process exits 0.
func TestTracker_GracefulShutdown(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, storeArgs []string, sch *pgtest.Schema) {
		release := make(chan struct{})
		arrived := make(chan struct{}, 1)
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-release
		})
		p := start(t, nil, append([]string{"-addr", "127.0.0.1:0", "-allow-net", "127.0.0.0/8", "-endpoint", rc.endpointFlag(),
			"-click-batch", "100", "-click-interval", "1h"}, storeArgs...)...)

		// A click waits in the batch (an hour's interval, a hundred's size).
		batched := p.click(t, "casino-vip", "aff=aff-9")
		// A conversion of aff-42, whose delivery the receiver holds. Its click ID is a signed
		// token: attributed without the click record, which is still batched.
		cid := p.click(t, "casino-vip", "aff=aff-42")
		resp, body := p.postback(t, "casino", ftd(cid, "T-1"))
		require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
		select {
		case <-arrived:
		case <-time.After(wait):
			t.Fatal("the delivery did not arrive")
		}

		p.signal(t, syscall.SIGTERM)
		p.waitLog(t, msg("shutting down"))
		require.Zero(t, p.count(msg("stopped")), "the attempt in flight holds the shutdown")
		close(release)
		require.NoError(t, p.waitExit(t))
		// Its attempt was recorded before the process stopped.
		lines := p.log()
		attempted := strings.Index(lines, `"msg":"delivery attempted"`)
		stopped := strings.Index(lines, `"msg":"stopped"`)
		require.True(t, attempted >= 0 && attempted < stopped, "the attempt is logged before stopped:\n%s", lines)
		require.Contains(t, lines[attempted:stopped], `"status":"delivered"`)

		if sch != nil {
			st, _ := sch.Open(t)
			signer, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: []byte("example-click-key-change-me-012345")})
			require.NoError(t, err)
			for _, id := range []string{batched, cid} {
				tok, err := signer.VerifyToken(id)
				require.NoError(t, err, "casino-vip's click IDs are signed tokens")
				_, err = st.GetClick(t.Context(), tok.ID)
				require.NoError(t, err, "rule: a batched click is written at shutdown")
			}
			ds, err := st.ListDeliveries(t.Context(), store.ListDeliveriesParams{Status: store.DeliveryDelivered, Limit: 10})
			require.NoError(t, err)
			require.Len(t, ds, 1, "rule: the attempt in flight at shutdown is recorded")
		}
	})
}

// TestTracker_StatusPageAuth: the status page is open on loopback only; elsewhere the tracker
// refuses to start without a password, and with one it asks for it.
func TestTracker_StatusPageAuth(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		p := startNoWait(t, nil, "-addr", "0.0.0.0:0")
		require.Error(t, p.waitExit(t), "an open status page on every interface is refused")
		require.Contains(t, p.log(), "S2S_STATUS_PASSWORD")
		require.Zero(t, p.count(msg("listening")))
	})
	t.Run("password", func(t *testing.T) {
		t.Parallel()
		p := startNoWait(t, []string{"S2S_STATUS_PASSWORD=a-status-password-for-the-test"}, "-addr", "0.0.0.0:0")
		line := p.waitLog(t, msg("listening"))
		require.Equal(t, "password", line["status_page"])
		_, port, err := net.SplitHostPort(line["addr"].(string))
		require.NoError(t, err)
		base := "http://127.0.0.1:" + port
		resp, _ := get(t, base+"/status/")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
		req, err := http.NewRequest(http.MethodGet, base+"/status/", nil)
		require.NoError(t, err)
		req.SetBasicAuth("ops", "a-wrong-password")
		resp, err = noRedirects.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		req.SetBasicAuth("ops", "a-status-password-for-the-test")
		resp, err = noRedirects.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotContains(t, p.log(), "a-status-password-for-the-test", "rule: no secret in the log")
		p.signal(t, syscall.SIGTERM)
		require.NoError(t, p.waitExit(t))
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		p := startNoWait(t, nil, "-addr", "0.0.0.0:0", "-no-status")
		line := p.waitLog(t, msg("listening"))
		require.Equal(t, "off", line["status_page"])
		_, port, err := net.SplitHostPort(line["addr"].(string))
		require.NoError(t, err)
		resp, _ := get(t, "http://127.0.0.1:"+port+"/status/")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		p.signal(t, syscall.SIGTERM)
		require.NoError(t, p.waitExit(t))
	})
}

// TestTracker_Limits: a header over the limit is refused, and a connection that sends no
// header is closed at the read-header timeout.
func TestTracker_Limits(t *testing.T) {
	t.Parallel()
	p := start(t, nil, "-addr", "127.0.0.1:0")
	req, err := http.NewRequest(http.MethodGet, p.base+"/healthz", nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("x", maxHeaderBytes+4096))
	resp, err := noRedirects.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	conn, err := net.Dial("tcp", p.addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(readHeaderTimeout+wait)))
	began := time.Now()
	_, err = conn.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "the server closes a connection that sends no request")
	require.GreaterOrEqual(t, time.Since(began), readHeaderTimeout-time.Second, "closed at the read-header timeout, not before")

	// A body over the postback handler's limit is refused with its reason.
	resp, err = noRedirects.Post(p.base+"/postback/casino", "application/x-www-form-urlencoded", strings.NewReader(strings.Repeat("a", postback.MaxBodyBytes+1)))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(b))
	p.signal(t, syscall.SIGTERM)
	require.NoError(t, p.waitExit(t))
}

// TestTracker_BadStart: a bad configuration file or flag stops the tracker at start, with
// the field named.
func TestTracker_BadStart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.json")
	writeConfig(t, path, func(cfg map[string]any) {
		cfg["routes"].([]any)[0].(map[string]any)["endpoints"] = []any{"nope"}
	})
	p := startNoWait(t, nil, "-addr", "127.0.0.1:0", "-config", path)
	require.Error(t, p.waitExit(t))
	line := p.waitLog(t, msg("exiting"))
	require.Contains(t, line["error"], `routes[0].endpoints[0]: no endpoint "nope"`, "the error names the field")

	p = startNoWait(t, nil, "-addr", "127.0.0.1:0", "-endpoint", "nope=http://127.0.0.1:1/x")
	require.Error(t, p.waitExit(t))
	line = p.waitLog(t, msg("exiting"))
	require.Contains(t, line["error"], `-endpoint nope: no endpoint "nope"`)
}

// TestRun_InProcess runs the service in this process, as main does, to cover run's own
// shutdown path under the race detector.
func TestRun_InProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-config", "config.json"}, w, func(string) string { return "" }, nil)
		_ = w.Close()
	}()
	sc := bufio.NewScanner(r)
	require.True(t, sc.Scan())
	var l map[string]any
	require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
	require.Equal(t, "listening", l["msg"])
	resp, _ := get(t, "http://"+l["addr"].(string)+"/readyz")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cancel()
	go func() { _, _ = io.Copy(io.Discard, r) }()
	require.NoError(t, <-done)
}

// TestTracker_StatusCSRFKeyShared: instances given one -status-csrf-key (here by
// S2S_STATUS_CSRF_KEY) accept each other's status page forms, as behind a load balancer; an
// instance with a key of its own refuses them.
func TestTracker_StatusCSRFKeyShared(t *testing.T) {
	t.Parallel()
	key := []string{"S2S_STATUS_CSRF_KEY=" + base64.StdEncoding.EncodeToString([]byte("a-csrf-key-of-32-bytes-for-tests!"))}
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	a := start(t, key, "-addr", "127.0.0.1:0", "-allow-net", "127.0.0.0/8", "-endpoint", rc.endpointFlag())
	b := start(t, key, "-addr", "127.0.0.1:0")
	c := start(t, nil, "-addr", "127.0.0.1:0")

	// A dead delivery on a, and the replay form that a's dead letters show.
	cid := a.click(t, "casino-summer", "aff=aff-42")
	resp, body := a.postback(t, "casino", ftd(cid, "T-1"))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	dead := a.waitLog(t, func(l map[string]any) bool { return l["msg"] == "delivery attempted" && l["status"] == "dead" })
	resp, body = get(t, a.base+"/status/deliveries?status=dead")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "the dead letters page has a Replay form")
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "s2s_statuspage_csrf" {
			cookie = ck
		}
	}
	require.NotNil(t, cookie, "the page sets its CSRF cookie")

	replay := func(base string) int {
		form := url.Values{"csrf": {m[1]}, "id": {dead["delivery"].(string)}}
		req, err := http.NewRequest(http.MethodPost, base+"/status/replay", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		resp, err := noRedirects.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusForbidden, replay(c.base), "rule: another key refuses the form")
	require.Equal(t, http.StatusSeeOther, replay(b.base), "rule: the shared key accepts a form shown by another instance")
	require.Equal(t, http.StatusSeeOther, replay(a.base))

	bad := startNoWait(t, []string{"S2S_STATUS_CSRF_KEY=c2hvcnQ="}, "-addr", "127.0.0.1:0")
	require.Error(t, bad.waitExit(t), "a short key is refused")
	require.Contains(t, bad.log(), "S2S_STATUS_CSRF_KEY: 5 bytes, want at least 32")
}

// TestParseFlags_LeaseFor: -lease-for sets the delivery workers' lease (outbound's default
// without it); a lease that is not a positive duration is refused at parsing, and one that
// an attempt could outlive (not more than the attempt timeout and its 10 s margin) by the
// worker the tracker starts, so that the flag reaches the worker's options.
func TestParseFlags_LeaseFor(t *testing.T) {
	t.Parallel()
	noEnv := func(string) string { return "" }
	s, err := parseFlags(nil, io.Discard, noEnv)
	require.NoError(t, err)
	require.Equal(t, outbound.DefaultLeaseFor, s.leaseFor, "rule: outbound's default lease without the flag")
	s, err = parseFlags([]string{"-lease-for", "5m"}, io.Discard, noEnv)
	require.NoError(t, err)
	require.Equal(t, 5*time.Minute, s.leaseFor)
	for _, v := range []string{"0", "-1s", "soon"} {
		_, err := parseFlags([]string{"-lease-for", v}, io.Discard, noEnv)
		require.Error(t, err, "rule: -lease-for %s is refused", v)
	}
	err = run(t.Context(), []string{"-addr", "127.0.0.1:0", "-config", "config.json", "-lease-for", "40s"}, io.Discard, noEnv, nil)
	require.ErrorContains(t, err, "LeaseFor (40s) must exceed Timeout (30s)", "rule: the worker is given the lease, and refuses one an attempt could outlive")
}
