//go:build !unix

package outbound_test

import (
	"testing"
	"time"
)

// cpuNow returns 0: the process's CPU time is read on unix only.
func cpuNow() time.Duration { return 0 }

// cpuMeter reports nothing off unix (see the unix version).
type cpuMeter struct{}

func (*cpuMeter) start()                 {}
func (*cpuMeter) stop()                  {}
func (*cpuMeter) report(*testing.B, int) {}
