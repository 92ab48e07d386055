// Package commission will compute what affiliates are owed, with exact money and no I/O.
//
// Plans are data (JSON, validated, with effective dates): CPA (fixed, by country, by volume
// tier, with qualification baselines, hold periods and caps), RevShare on a configurable NGR
// formula with tiers and negative-carryover policies, hybrid deals, Forex IB per-lot and
// spread-share plans with multi-level trees, prop-firm challenge CPA with clawbacks, and
// sub-affiliate tiers. The output is immutable ledger lines that explain themselves,
// statements per affiliate and period, and what-if replays of an event history.
//
// It imports only [github.com/s2skit/s2s/money]. This package has no code yet.
package commission
