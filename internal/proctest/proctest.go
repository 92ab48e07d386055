// Package proctest runs this module's example programs as processes in tests: it builds a
// program with the race detector, starts it, finds the address it listens on from its JSON
// log, reads its log lines, and stops or kills it. It is test code (CI's dependency policy
// keeps ...test packages out of production).
//
//	bin := proctest.Build(t, "./examples/tracker")
//	p := proctest.Start(t, bin, "-addr", "127.0.0.1:0", "-db", url)
//	http.Get(p.URL + "/healthz")
//	p.Kill(t) // SIGKILL: a crash
//
// A program it starts must log JSON lines (log/slog's JSON handler) on standard error and
// one {"msg":"listening","addr":"host:port"} once it serves. Every wait is a poll of a
// condition with a deadline (Wait), never a fixed sleep. Processes still running when the
// test ends are killed.
//
// The tests of this package run examples/tracker as a cluster (two processes on one
// PostgreSQL) and through a crash (SIGKILL under load, then a restart).
package proctest

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Wait bounds each wait of a test for a process: its start, a log line, its exit, and the
// conditions the tests poll for.
const Wait = 45 * time.Second

// Poll is how often a condition is checked while waiting for it.
const Poll = 20 * time.Millisecond

// Build builds the main package pkg (a path relative to the module's root, such as
// "./examples/tracker") with the race detector into a directory of t's, and returns the
// binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	root := moduleRoot(t)
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.CommandContext(context.Background(), "go", "build", "-race", "-o", bin, pkg)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("proctest: go build -race %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// moduleRoot returns the directory of the module's go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		t.Fatalf("proctest: cannot find the module's root (go env GOMOD: %q, %v)", out, err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// Proc is a started program.
type Proc struct {
	// Addr is the address it logged as listening, and URL is "http://" + Addr.
	Addr, URL string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and its log is read
	err  error         // Wait's, once done is closed

	mu      sync.Mutex
	lines   []map[string]any // its JSON log lines, in order
	text    []string         // its lines that are not JSON (a panic, the race detector)
	checked bool             // whether checkRace has looked at its output
}

// Start starts bin with args (and the environment of the test process, plus env) and waits
// until it logs that it listens. It fails t if the process exits first or does not listen
// within Wait. The process is killed when t ends, if it still runs then.
func Start(t testing.TB, bin string, args []string, env ...string) *Proc {
	t.Helper()
	p := &Proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = os.Stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatalf("proctest: %v", err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("proctest: start %s: %v", bin, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var m map[string]any
			p.mu.Lock()
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines = append(p.lines, m)
			} else {
				p.text = append(p.text, sc.Text())
			}
			p.mu.Unlock()
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		p.checkRace(t)
	})
	var listening map[string]any
	if !p.waitFor(func() bool { listening = p.first("listening"); return listening != nil }) {
		t.Fatalf("proctest: %s did not log that it listens within %s; its log:\n%s", filepath.Base(bin), Wait, p.Log())
	}
	p.Addr, _ = listening["addr"].(string)
	p.URL = "http://" + p.Addr
	return p
}

// waitFor polls cond until it holds (true), the process exits, or Wait passes (false).
func (p *Proc) waitFor(cond func() bool) bool {
	deadline := time.Now().Add(Wait)
	tick := time.NewTicker(Poll)
	defer tick.Stop()
	for !cond() {
		select {
		case <-p.done:
			return cond()
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// first returns the first log line whose msg is msg, or nil.
func (p *Proc) first(msg string) map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.lines {
		if m["msg"] == msg {
			return m
		}
	}
	return nil
}

// Lines returns the JSON log lines logged so far whose msg is msg.
func (p *Proc) Lines(msg string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, m := range p.lines {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// Log returns everything the process logged so far, one line each, for a failure message.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, m := range p.lines {
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	for _, s := range p.text {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.String()
}

// Kill kills the process with SIGKILL, as a crash would, and waits for it to exit.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.checkRace(t)
}

// Stop asks the process to stop (SIGTERM) and waits for it to exit; it fails t if the
// process does not exit cleanly within Wait.
func (p *Proc) Stop(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(Wait):
		t.Fatalf("proctest: the process did not stop within %s; its log:\n%s", Wait, p.Log())
	}
	if p.err != nil {
		t.Fatalf("proctest: the process exited with %v; its log:\n%s", p.err, p.Log())
	}
	p.checkRace(t)
}

// checkRace fails t if the race detector reported a race in the process.
func (p *Proc) checkRace(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.checked {
		return
	}
	p.checked = true
	for _, s := range p.text {
		if strings.Contains(s, "WARNING: DATA RACE") {
			t.Errorf("proctest: the race detector reported a race in the process:\n%s", strings.Join(p.text, "\n"))
			return
		}
	}
}

// Eventually polls cond every Poll until it holds, and fails t with msg if it does not
// within Wait.
func Eventually(t testing.TB, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	tick := time.NewTicker(Poll)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("proctest: not within %s: "+msg, append([]any{Wait}, args...)...)
		}
		<-tick.C
	}
}
