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
