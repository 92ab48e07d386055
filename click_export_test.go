package s2s

import "context"

// RunClicks is runClicks, for the tests until Run starts it.
func RunClicks(t *Tracker, ctx context.Context) error { return t.runClicks(ctx) }
