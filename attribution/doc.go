// Package attribution will decide which affiliate earns a conversion, and say why.
//
// It will hold attribution windows per event type and campaign, evaluated on the event's own
// time with a bounded clock skew; models (last click, first click, lifetime player binding,
// binding priority, re-attribution); the dedup policy with named modes; the conversion status
// machine (pending, approved, rejected, reversed); fraud hooks (time to convert, self-referral,
// caps in an IANA zone); and decisions that carry their reasons.
//
// This package has no code yet.
package attribution
