// Package commission computes what affiliates are owed, exactly, with no I/O: deals are data,
// calculators are pure functions, and every ledger line explains itself.
//
// A [Plan] is one deal as data, encoded as JSON and checked by [Plan.Validate]: CPA (fixed,
// by country, by volume tier, with qualification baselines, hold periods, caps and one CPA
// per player), RevShare on a configurable NGR [Formula] (with the MGA and Ontario formulas
// as named presets, see [NamedFormula]) with whole-tier or marginal bands, an admin fee and a negative-carryover policy
// (carry forward, none, ring-fenced high rollers), Forex IB rebates per lot and spread
// shares with damping and multi-level trees, prop-firm challenge CPA with payout-on-funded
// and refund/reset clawbacks, and sub-affiliate shares several levels deep. A plan with
// both CPA and RevShare is a hybrid deal. A [Program] holds plan histories with effective
// dates, per-affiliate overrides, the affiliate tree and the statement calendar (an IANA
// zone; periods are DST-safe). In a plan's JSON an amount may be a plain string such as
// "5000.00", in the plan's one currency, and a first tier may leave out its "from".
//
// The calculators ([Plan.CPALine], [Plan.NGR], [Plan.RevShareLine], [Plan.TradeLines],
// [Plan.PurchaseLine], and [Plan.TreeLines] to share an IB line up a tree) are pure functions
// of a plan and their input; all but TreeLines do not allocate. They return immutable [Line]
// values: an amount, the rule that produced it and its inputs; [Line.Explain] renders them
// as a trace (inputs, rule, arithmetic, rounding) when asked, never at calculation time. A
// calculator that pays nothing (a player who has not qualified, a cap reached) returns a
// zero line with a Reason, which belongs in no ledger; every line without a Reason belongs
// in the ledger, even a zero one (a RevShare period that paid nothing, a carried balance).
//
// [Replay] runs a whole event history, [Event] values named by the types of package
// [github.com/s2skit/s2s/event], through a program (the plan in force at each event's time)
// and returns the ledger, per-affiliate, per-period [Statement] values and why players
// earned no CPA, storing nothing: it is how history is recalculated and how a deal is tested
// or compared with another ([Compare]). Reversals and clawbacks are negative lines, never
// edits.
//
// All arithmetic is that of package [github.com/s2skit/s2s/money]: int64 minor units, exact
// rates, one rounding step per amount with the plan's rounding mode (a formula of several
// terms, or marginal bands, is summed exactly and rounded once). No binary floating point
// is used, and overflow is an error. The package imports only the standard library, money
// and event (whose event types it reads, so that "ftd" or "revenue" mean the same here as in
// postback and store); it reads no clock (time is always an input) and has no randomness.
//
// A sketch, testing a deal:
//
//	plan := commission.Plan{ID: "vip", Currency: money.EUR,
//		CPA:      &commission.CPA{Amount: money.MustParse("100", money.EUR)},
//		RevShare: &commission.RevShare{Rate: money.MustParseRate("30%"), Carryover: commission.CarryForward},
//	}
//	prog := &commission.Program{Zone: "Europe/Malta",
//		Default: []commission.Version{{From: start, Plan: plan}}}
//	res, err := commission.Replay(prog, events, nil)
//	...
//	for _, s := range res.Statements {
//		fmt.Println(s.AffiliateID, s.Period, s.Total) // and s.Lines[i].Explain() for the why
//	}
//
// # Concurrency
//
// Plans, programs, lines and statements are values that the package never modifies, and the
// package has no mutable state: calculators and Replay may run concurrently on shared plans,
// provided nobody modifies a plan while it is used. A line's Detail shares the plan's RevShare
// terms and its input Revenue (and a calculator's line its input's ExchangeRate) rather than
// copy them, so treat them as immutable once used; Replay's lines share only the program's
// and copies it made.
//
// # Lines and stores
//
// A [Line] survives JSON, and so any store, whole: its [Detail] snapshots what Explain needs,
// so a line read back explains itself exactly as the line computed, with no plan at hand.
// [Statements] rebuilds the statements from ledger lines (Replay itself uses it), so
// statements rebuilt from a store equal Replay's; [Line.StatementTime] is the instant that
// places a line in a statement, and package commissiontest has histories that produce a
// line of every rule and kind, for a store's tests.
//
// # Errors
//
// Every error wraps one of the sentinels, for [errors.Is]: [ErrInvalidPlan] (validation,
// naming the plan and the field, as in `commission: plan "vip": revshare.tiers[2].from:
// overlaps tiers[1]`), [ErrNoPlan] (no plan in force at an event's time), [ErrCurrency] (an
// amount in another currency than the plan's and no exchange rate: never guessed),
// [ErrInvalidEvent] (a malformed event, a duplicate ID, a reversal of an unknown event),
// [ErrInvalidLine] (a line that cannot be encoded or decoded) and [ErrOverflow] (beyond
// int64 minor units; errors from money keep money's sentinel in the chain too). Every
// message begins "commission: ", followed by where it happened, as in `commission: event
// "d1" (deposit): currency needs an exchange rate: ...`. A calculator that simply pays
// nothing is no error: it returns a zero line with a Reason.
package commission
