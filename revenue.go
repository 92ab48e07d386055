package s2s

import (
	"context"
	"errors"
	"fmt"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
	"github.com/s2skit/s2s/postback"
	"github.com/s2skit/s2s/store"
)

// The reasons a revenue report is rejected for, in its Result.
const (
	// reasonBadRevenue: a report without a player or a ggr, or with a component outside
	// money's grammar (or in no currency).
	reasonBadRevenue postback.Reason = "bad_revenue"
	// reasonUnknownCorrection: a report that corrects a report of its source not recorded.
	reasonUnknownCorrection postback.Reason = "unknown_correction"
	// reasonRevenueNotApproved: a report that its sender marks other than approved
	// (pending, rejected, reversed): a revenue fact has no status, so only an approved
	// report is one; a report is changed by a correction (corrects), never by a status.
	reasonRevenueNotApproved postback.Reason = "revenue_not_approved"
)

// The parameters of a revenue report, read from the postback's Extra: each component an
// amount in the postback's currency, signed. "corrects" names the report it corrects.
const (
	paramGGR         = "ggr"
	paramBonuses     = "bonuses"
	paramFees        = "fees"
	paramTaxes       = "taxes"
	paramDeposits    = "deposits"
	paramWithdrawals = "withdrawals"
	paramCorrects    = "corrects"
)

// revenueFact reads pb, a revenue report, into a revenue fact of its source, transaction and
// player, without its ID, affiliate and receive time; a non-empty reason refuses it. The
// components are parsed strictly (money.Parse with no options: '.' decimals, at most the
// currency's places, an optional leading '-'), in pb.Currency; ggr is required, the others
// are zero when not sent.
func revenueFact(pb *postback.Postback) (store.RevenueFact, postback.Reason) {
	f := store.RevenueFact{Source: pb.Source, TransactionID: pb.TransactionID, PlayerID: pb.PlayerID, OccurredAt: pb.OccurredAt}
	if f.OccurredAt.IsZero() {
		f.OccurredAt = pb.ReceivedAt // as a conversion's event time falls back on its receipt
	}
	if pb.PlayerID == "" || pb.Currency == 0 {
		return f, reasonBadRevenue
	}
	dst := map[string]*money.Amount{paramGGR: &f.GGR, paramBonuses: &f.Bonuses, paramFees: &f.Fees, paramTaxes: &f.Taxes,
		paramDeposits: &f.Deposits, paramWithdrawals: &f.Withdrawals}
	ggr := false
	for _, p := range pb.Extra {
		if p.Key == paramCorrects {
			f.Corrects = p.Value
			continue
		}
		a, ok := dst[p.Key]
		if !ok {
			continue
		}
		v, err := money.Parse(p.Value, pb.Currency, nil)
		if err != nil {
			return f, reasonBadRevenue
		}
		*a, ggr = v, ggr || p.Key == paramGGR
	}
	if !ggr {
		return f, reasonBadRevenue
	}
	if err := store.CheckKey(f.Corrects); f.Corrects != "" && err != nil {
		return f, reasonBadRevenue
	}
	return f, ""
}

// revenue records a revenue report postback as a revenue fact (store.RevenueStore) of the
// affiliate that dec credits: Accepted when recorded, Duplicate for a retry of a recorded
// report, Conflict for a report ID recorded with other amounts or a second correction of
// one report, Rejected with a reason for a report that cannot be recorded (malformed, not
// approved by its sender, unattributed (attribution's code), or correcting a report not
// recorded). The RevShare it makes is computed when
// its period closes (ClosePeriod).
func (t *Tracker) revenue(ctx context.Context, in *attribution.Input, dec attribution.Decision, pb *postback.Postback) (postback.Result, error) {
	f, reason := revenueFact(pb)
	if reason == "" && pb.Status != event.StatusApproved {
		reason = reasonRevenueNotApproved // not attribution's code, which names who it credits
	}
	if reason != "" {
		return postback.Result{Outcome: postback.Rejected, Reason: reason}, nil
	}
	if !dec.Attributed() {
		code := dec.Code
		if code == "" {
			code = attribution.CodeNoClick
		}
		return rejected(code), nil
	}
	id, err := t.newID()
	if err != nil {
		return postback.Result{}, err
	}
	f.ID, f.AffiliateID, f.CampaignID, f.ReceivedAt = id, dec.AffiliateID, dec.CampaignID, in.Now
	_, err = t.st.RecordRevenue(ctx, f)
	if o, ok := writeOutcome(err); ok {
		return postback.Result{Outcome: o}, nil
	}
	switch {
	case errors.Is(err, store.ErrInvalid) && f.Corrects != "":
		return postback.Result{Outcome: postback.Rejected, Reason: reasonUnknownCorrection}, nil
	case errors.Is(err, store.ErrInvalid):
		return postback.Result{Outcome: postback.Rejected, Reason: reasonBadRevenue}, nil
	}
	return postback.Result{}, fmt.Errorf("s2s: record revenue %s/%s: %w", f.Source, f.TransactionID, err)
}
