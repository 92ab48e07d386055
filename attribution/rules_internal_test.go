package attribution

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestSurelyWithin: the shortcut never says "within" of an instant past the bound's end,
// in zones with daylight saving, with a half-hour change, and in the one that skipped a
// day (Pacific/Apia, 30 December 2011).
func TestSurelyWithin(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	taken := 0
	for _, name := range []string{"UTC", "Europe/Malta", "America/Toronto", "Australia/Lord_Howe", "Pacific/Apia", "Pacific/Kiritimati"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		for range 2000 {
			start := time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
			if rng.IntN(2) == 0 {
				start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))
			}
			s := Days(1 + rng.IntN(40))
			end := s.End(start, loc)
			// Half near the end, where the shortcut must give way; half anywhere up to it.
			elapsed := end.Sub(start) + time.Duration(rng.Int64N(int64(60*time.Hour))) - 30*time.Hour
			if rng.IntN(2) == 0 {
				elapsed = time.Duration(rng.Int64N(int64(end.Sub(start) + time.Hour)))
			}
			if surelyWithin(s, elapsed) {
				taken++
				if start.Add(elapsed).After(end) {
					t.Fatalf("%s: %s from %s is past the end %s, but surelyWithin says within", name, s, start, end)
				}
			}
		}
	}
	if taken < 1000 {
		t.Fatalf("the shortcut was taken only %d times: the test proves little", taken)
	}
	if !surelyWithin(Exactly(time.Minute), time.Minute) || surelyWithin(Exactly(time.Minute), time.Minute+1) {
		t.Fatal("an exact span is exact")
	}
}
