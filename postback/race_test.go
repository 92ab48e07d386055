//go:build race

package postback_test

// raceEnabled: the race detector makes sync.Pool drop items, so allocation counts differ.
const raceEnabled = true
