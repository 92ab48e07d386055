//go:build !unix

package outbound_test

import (
	"testing"
	"time"
)

// cpuNow returns 0: the process's CPU time is read on unix only.
func cpuNow() time.Duration { return 0 }

// reportCPU reports nothing off unix (see the unix version).
func reportCPU(*testing.B, time.Duration, int) {}
