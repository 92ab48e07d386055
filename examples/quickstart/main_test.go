package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The quickstart is the README's first command: its story must stay true, step by step.
func TestQuickstart(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	require.NoError(t, run(&out))
	got := out.String()
	for _, want := range []string{
		"302 -> http://casino.example/welcome?click_id=",
		"registration           202 {\"result\":\"accepted\"}",
		"first deposit 150.00   202 {\"result\":\"accepted\"}",
		"the same, retried      200 {\"result\":\"duplicate\"}",
		"forged: 15000.00       401 {\"result\":\"rejected\",\"reason\":\"bad_signature\"}",
		"TX-1 again, 1500.00    409 {\"result\":\"conflict\"}",
		"credited to affiliate \"aff-42\"",
		"accrual cpa 50.00 EUR to aff-42 for player p-1",
		"revenue R-1      GGR 1234.56  202 {\"result\":\"accepted\"}",
		"revenue R-2      GGR -334.56  202 {\"result\":\"accepted\"}",
		"s2s: the period is still open",
		"close November on December 1st: closed; again: nothing new: true",
		"accrual revshare 240.00 EUR to aff-42",
		"revshare  net 240.00 EUR (1 line(s))",
		"&event=ftd&payout=50.00",
		"2026-11 aff-42 / summer: 2 clicks, 1 registration(s), 1 FTD(s), FTDs per click 50.00%",
		"cpa       net 50.00 EUR (1 line(s))",
		"Next: go run ./examples/tracker",
	} {
		require.Contains(t, got, want)
	}
	// The click ID the redirect carried is the one the outbound postback carries.
	i := strings.Index(got, "click_id=") + len("click_id=")
	id := got[i : i+26]
	require.Contains(t, got, "/pb?cid="+id+"&event=ftd")
}
