package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/s2skit/s2s/postback"
)

// update makes TestStatusPageScreenshot write docs/status-page.png:
//
//	go test ./examples/tracker -run TestStatusPageScreenshot -update
var update = flag.Bool("update", false, "write docs/status-page.png from TestStatusPageScreenshot")

// screenshotPath is the README's screenshot of the status page, from this directory.
const screenshotPath = "../../docs/status-page.png"

// Hostile values, as a sender or a receiver might send them: each must render as text.
const (
	hostileScript = `<script>window.__pwned=1</script>`
	hostileAttr   = `"><img src=x onerror="window.__pwned=2">`
	hostileURL    = `javascript:window.__pwned=3`
	hostileBody   = `<script>window.__pwned=4</script><a href="javascript:window.__pwned=5">click</a>'"><b onmouseover="window.__pwned=6">x</b>`
	hostileTxn    = `T-"><script>window.__pwned=7</script>`
)

// chromium returns the path of a Chromium or Chrome binary. Without one the test fails in
// CI (where .ci/run installs Debian's chromium) and skips elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium binary on PATH: CI installs Debian's chromium package (bash .ci/run)")
	}
	t.Skip("no chromium binary on PATH: apt-get install chromium to run the browser tests")
	return ""
}

// browser returns a chromedp context of a headless Chromium, closed when t ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "starting Chromium") // with no deadline: it would stop the browser
	// Every wait of the test's actions ends at this deadline: generous, since on a loaded
	// CI machine (two cores, the whole suite under -race beside it) one run of the browser
	// flow was seen to take two minutes; a hang still fails, at the deadline.
	ctx, cancel = context.WithTimeout(ctx, 5*wait)
	t.Cleanup(cancel)
	return ctx
}

// heldReceiver is the affiliate's tracker for the browser tests: it refuses with a hostile
// body until fixed, then holds each request until released, then answers 200.
type heldReceiver struct {
	*receiver
	body    string // of the refusals
	mu      sync.Mutex
	fixed   bool
	release chan struct{}
	held    chan struct{}
}

func newHeldReceiver(t *testing.T, body string) *heldReceiver {
	h := &heldReceiver{body: body, release: make(chan struct{}), held: make(chan struct{}, 10)}
	h.receiver = newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		fixed := h.fixed
		h.mu.Unlock()
		if !fixed {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, h.body)
			return
		}
		h.held <- struct{}{}
		<-h.release
		_, _ = io.WriteString(w, "ok")
	})
	return h
}

// inProcess runs the tracker in this process as main does (run, its flags, its handlers),
// and returns its base URL and log.
func inProcess(t *testing.T, args ...string) (string, *logs) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0", "-config", "config.json"}, args...), w, func(string) string { return "" }, nil)
		_ = w.Close()
		done <- err
	}()
	l := readLogs(r, nil)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		<-l.ended
		if t.Failed() {
			t.Logf("tracker's log:\n%s", l.log())
		}
	})
	line := l.waitLog(t, msg("listening"))
	return "http://" + line["addr"].(string), l
}

// seed makes what the page is tested with: a click and an FTD with the transaction ID txn
// and the sub IDs subs, a forged postback (rejected), and the FTD's delivery, dead after the
// receiver refused it. It returns the delivery's ID.
func seed(t *testing.T, base string, l *logs, txn string, subs ...string) string {
	t.Helper()
	p := &proc{logs: l, base: base}
	q := url.Values{"aff": {"aff-42"}}
	for i, s := range subs {
		q.Set(fmt.Sprintf("sub%d", i+1), s)
	}
	cid := p.click(t, "casino-summer", q.Encode())
	q = ftd(cid, txn)
	for i, s := range subs {
		q.Set(fmt.Sprintf("sub%d", i+1), s)
	}
	resp, body := p.postback(t, "casino", q)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)

	forged, err := postback.SignQuery("/postback/casino", ftd(cid, "T-forged").Encode(), postback.Key{ID: "k1", Secret: []byte("not-the-casino-secret-at-all!!")}, time.Now())
	require.NoError(t, err)
	resp, _ = get(t, base+"/postback/casino?"+forged)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	dead := l.waitLog(t, func(m map[string]any) bool { return m["msg"] == "delivery attempted" && m["status"] == "dead" })
	require.Equal(t, float64(http.StatusBadRequest), dead["http_status"])
	return dead["delivery"].(string)
}

// noInjection fails t if the page at hand holds anything a hostile value could have made:
// a script element, an element with an event handler attribute, a javascript: link, or the
// global a hostile script would have set.
func noInjection(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const bad = [];
		if (document.querySelectorAll('script').length) bad.push('a script element');
		for (const el of document.querySelectorAll('*'))
			for (const a of el.attributes)
				if (a.name.startsWith('on')) bad.push('an ' + a.name + ' attribute on ' + el.tagName);
		for (const a of document.querySelectorAll('a[href]'))
			if (!/^https?:$/.test(new URL(a.href, location.href).protocol)) bad.push('a link to ' + a.href);
		if (window.__pwned !== undefined) bad.push('window.__pwned = ' + window.__pwned);
		return bad;
	})()`))
	require.NoError(t, err)
	require.Empty(t, bad, "rule: every hostile value renders as text on %s", page)
}

// text returns the visible text of the first element that the CSS selector sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return s
}

// TestStatusPage_Browser drives the status page of the tracker in headless Chromium: the
// rejected postback's reason and the dead delivery's last attempt are shown, hostile values
// are text, and Replay makes the dead delivery pending and then delivered.
func TestStatusPage_Browser(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	rc := newHeldReceiver(t, hostileBody)
	base, l := inProcess(t, "-allow-net", "127.0.0.0/8", "-endpoint", rc.endpointFlag())
	id := seed(t, base, l, hostileTxn, hostileScript, hostileAttr, hostileURL)
	status := base + "/status/"

	// The rejected postback and its reason.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(status+"inbound?outcome=rejected"),
		chromedp.WaitVisible(`//td/code[text()="bad_signature"]`),
	))
	row := text(t, ctx, `tbody tr`)
	require.Contains(t, row, "rejected")
	require.Contains(t, row, "401", "the status the sender was answered")

	// Every postback, with its hostile parameters as text.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(status+"inbound"),
		chromedp.WaitVisible(`//td/code[text()="bad_signature"]`),
	))
	page := text(t, ctx, `main`)
	require.Contains(t, page, "sub1="+url.QueryEscape(hostileScript), "the parameters as sent")
	noInjection(t, ctx, "the inbound log")

	// The conversion, its sub IDs and transaction ID as text.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(status+"conversions?affiliate=aff-42"),
		chromedp.WaitVisible(`//td[contains(., "ftd")]`),
	))
	page = text(t, ctx, `main`)
	for _, v := range []string{hostileTxn, "sub1=" + hostileScript, "sub2=" + hostileAttr, "sub3=" + hostileURL} {
		require.Contains(t, page, v, "rule: a hostile value renders as text")
	}
	noInjection(t, ctx, "the conversions")

	// The dead letter and its last attempt.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(status+"deliveries?status=dead"),
		chromedp.WaitVisible(`//a[text()="`+id+`"]`),
	))
	row = text(t, ctx, `tbody tr`)
	require.Contains(t, row, "dead")
	require.Contains(t, row, "400", "the last attempt's HTTP status")
	require.Contains(t, row, "http_4xx", "the last attempt's failure class")

	// Its page: the receiver's hostile response, as text.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(`//a[text()="`+id+`"]`),
		chromedp.WaitVisible(`//caption[contains(., "Attempts")]`),
	))
	page = text(t, ctx, `main`)
	require.Contains(t, page, hostileBody, "rule: the receiver's response renders as text")
	noInjection(t, ctx, "the delivery")

	// Replay: pending while the receiver holds the attempt, then delivered.
	rc.mu.Lock()
	rc.fixed = true
	rc.mu.Unlock()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[aria-label="Replay delivery `+id+`"]`)),
		chromedp.WaitVisible(`//p[@role="status"]`),
		chromedp.WaitVisible(`//tr[th[text()="Status"]]/td/span[text()="pending"]`),
	))
	select {
	case <-rc.held:
	case <-time.After(wait):
		t.Fatal("the replayed delivery was not attempted")
	}
	close(rc.release)
	l.waitLog(t, func(m map[string]any) bool {
		return m["msg"] == "delivery attempted" && m["delivery"] == id && m["status"] == "delivered"
	})
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(`//tr[th[text()="Status"]]/td/span[text()="delivered"]`),
	))
	attempts, err := chromedp.Run(ctx, chromedp.Text(`//caption[contains(., "Attempts")]/..`))
	require.NoError(t, err)
	require.Contains(t, attempts, "400")
	require.Contains(t, attempts, "200", "both attempts, the replay's last")
	noInjection(t, ctx, "the replayed delivery")

	// The dead letter is gone, and the delivered list has it.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(status+"deliveries?status=delivered"),
		chromedp.WaitVisible(`//a[text()="`+id+`"]`),
	))
}

// TestStatusPageScreenshot renders the status page's delivery view after a replay, as the
// README shows it. With -update it writes docs/status-page.png:
//
//	go test ./examples/tracker -run TestStatusPageScreenshot -update
//
// Without, it checks that the committed screenshot is a PNG of the size this test renders.
func TestStatusPageScreenshot(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	rc := newHeldReceiver(t, `{"error":"unknown click ID: the affiliate's tracker was reset"}`)
	base, l := inProcess(t, "-allow-net", "127.0.0.0/8", "-endpoint", rc.endpointFlag())
	id := seed(t, base, l, "DEP-20261203-0042", "banner-728x90", "newsletter")
	rc.mu.Lock()
	rc.fixed = true
	rc.mu.Unlock()
	close(rc.release)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/status/delivery?id="+id),
		chromedp.Click(chromedp.CSS(`button[aria-label="Replay delivery `+id+`"]`)),
		chromedp.WaitVisible(`//p[@role="status"]`),
	))
	l.waitLog(t, func(m map[string]any) bool {
		return m["msg"] == "delivery attempted" && m["delivery"] == id && m["status"] == "delivered"
	})
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/status/delivery?id="+id),
		chromedp.WaitVisible(`//tr[th[text()="Status"]]/td/span[text()="delivered"]`),
	))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	require.NoError(t, err, "the screenshot")
	got, err := png.DecodeConfig(bytes.NewReader(shot))
	require.NoError(t, err, "the screenshot is a PNG")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(screenshotPath), 0o755))
		require.NoError(t, os.WriteFile(screenshotPath, shot, 0o644))
		t.Logf("wrote %s (%dx%d)", screenshotPath, got.Width, got.Height)
		return
	}
	b, err := os.ReadFile(screenshotPath)
	require.NoError(t, err, "docs/status-page.png is committed: go test ./examples/tracker -run TestStatusPageScreenshot -update")
	want, err := png.DecodeConfig(bytes.NewReader(b))
	require.NoError(t, err, "%s is a PNG", screenshotPath)
	require.Equal(t, want.Width, got.Width, "the screenshot's width: regenerate it with -update")
	require.True(t, strings.HasSuffix(screenshotPath, ".png"))
}
