//go:build !race

package postback_test

const raceEnabled = false
