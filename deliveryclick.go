package s2s

import (
	"context"
	"errors"
	"fmt"

	"github.com/s2skit/s2s/attribution"
	"github.com/s2skit/s2s/store"
)

// withClick returns c as its outbound postbacks tell it: with the click that decided it
// (dec.ClickID), its foreign click ID and sub IDs, when c names no click of its own. An
// FTD, a deposit or a trade is attributed by its player's binding and carries no click,
// yet the affiliate's tracker matches every conversion by that click's IDs ({click_id},
// {foreign_click_id}, the presets' transaction ID). The stored conversion keeps what the
// sender sent; only the deliveries say more. A click no longer stored gives its ID alone.
func (t *Tracker) withClick(ctx context.Context, in *attribution.Input, dec *attribution.Decision, c store.Conversion) (store.Conversion, error) {
	if !c.ClickID.IsZero() || c.ForeignClickID != "" || dec.ClickID.IsZero() {
		return c, nil
	}
	c.ClickID = dec.ClickID
	k := in.Click
	if k == nil || k.ID != dec.ClickID {
		got, err := t.st.GetClick(ctx, dec.ClickID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return c, nil
		case err != nil:
			return c, fmt.Errorf("s2s: get click of delivery: %w", err)
		}
		k = &got
	}
	c.ForeignClickID = k.ForeignClickID
	if len(c.SubIDs) == 0 {
		c.SubIDs = k.SubIDs
	}
	return c, nil
}

// changeTold returns the stored conversion o, whose status a change moves, as the change's
// outbound postbacks tell it: with the click of the binding that decided it
// (attribution.ModelBinding), its foreign click ID and sub IDs, through withClick, as its
// own postbacks told it when it was recorded. The store keeps the sender's conversion,
// which names no click, so the click is the player's binding's as the store has it now,
// when that is still the binding that decided o: bound to o's affiliate and campaign, and
// not after o's event (a re-attribution since o binds the player again at a later event,
// to a click that did not decide o, and gives o no click rather than the wrong one).
func (t *Tracker) changeTold(ctx context.Context, cc *compiled, o store.Conversion) (store.Conversion, error) {
	if len(cc.routes) == 0 || o.AffiliateID == "" || o.PlayerID == "" || !o.ClickID.IsZero() || o.ForeignClickID != "" ||
		o.Decision.Model != string(attribution.ModelBinding) {
		return o, nil
	}
	b, err := t.st.GetBinding(ctx, o.PlayerID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return o, nil
	case err != nil:
		return o, fmt.Errorf("s2s: get binding of delivery: %w", err)
	}
	if b.AffiliateID != o.AffiliateID || b.CampaignID != o.CampaignID || b.BoundAt.After(o.EventTime()) {
		return o, nil
	}
	return t.withClick(ctx, &attribution.Input{}, &attribution.Decision{ClickID: b.ClickID}, o)
}
