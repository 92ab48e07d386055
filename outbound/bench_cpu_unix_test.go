//go:build unix

package outbound_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuNow returns the CPU time this process has used, user and system.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter adds up the CPU time this process uses while it runs: the timed part of a
// benchmark, on a machine shared with other work, where ns/delivery moves with the load
// and the CPU much less. It counts the sender, the receiver and the worker (the PostgreSQL
// server's work is another process's, and not counted).
type cpuMeter struct {
	total, since time.Duration
}

func (m *cpuMeter) start() { m.since = cpuNow() }
func (m *cpuMeter) stop()  { m.total += cpuNow() - m.since }

// report reports the CPU time per delivery of n.
func (m *cpuMeter) report(b *testing.B, n int) {
	b.ReportMetric(float64(m.total)/float64(n), "cpu-ns/delivery")
}
