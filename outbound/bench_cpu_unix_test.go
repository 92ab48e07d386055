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

// reportCPU reports the CPU time this process used since start per delivery of n: on a
// machine shared with other work, where ns/delivery moves with the load, what the sender,
// the receiver and the worker cost (the PostgreSQL server's work is another process's, and
// not counted).
func reportCPU(b *testing.B, start time.Duration, n int) {
	b.ReportMetric(float64(cpuNow()-start)/float64(n), "cpu-ns/delivery")
}
