package s2s

import (
	"github.com/s2skit/s2s/outbound"
	"github.com/s2skit/s2s/statuspage"
)

// StatusPage returns the delivery status page of the Tracker (package statuspage): its
// inbound log, conversions with their decisions, deliveries with every attempt, dead
// letters, endpoint health and statements, from the Tracker's store. Fields that opts
// leaves nil are the Tracker's: its worker performs the actions (a replay is attempted at
// once), the endpoints are the running configuration's (as SetConfig changes them; their
// secrets are never shown), and the clock and logger are the Tracker's Options. opts must
// say how requests are authenticated (statuspage.Options.Authorize or Unauthenticated):
// the page refuses to be built otherwise. Mount it at a prefix with http.StripPrefix.
func (t *Tracker) StatusPage(opts *statuspage.Options) (*statuspage.Handler, error) {
	var o statuspage.Options
	if opts != nil {
		o = *opts
	}
	if o.Actions == nil {
		o.Actions = t.worker
	}
	if o.Endpoints == nil {
		o.Endpoints = func() outbound.Endpoints { return t.cfg.Load().endpoints }
	}
	if o.Now == nil {
		o.Now = t.now
	}
	if o.Logger == nil {
		o.Logger = t.log
	}
	return statuspage.New(t.st, &o)
}
