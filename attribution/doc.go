// Package attribution decides which affiliate earns a conversion, and says why.
//
// It is pure: no I/O and no clock of its own. A [Decider], compiled once from a [Config]
// (rules as data, JSON round trip, validated with errors that name the field), takes an
// [Input] (the canonical event as a store.Conversion, the click it carries, the player's
// other clicks, their binding, claims such as a promo code, and the receive time) and
// returns a [Decision]: the affiliate and campaign or nobody, the model that decided, the
// status, a machine-readable [Code] with a human sentence, the dedup key, the binding to
// create, the counter increments and whether the event must be parked.
//
// The package is being built (issue 11); its sections on models, windows, dedup and caps
// come with the code.
package attribution
