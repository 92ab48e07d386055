package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/s2skit/s2s/clickid"
	"github.com/s2skit/s2s/store"
)

var clicks = newTable("clicks", []column[store.Click]{
	clickID("id", false, func(c *store.Click) *clickid.ID { return &c.ID }),
	plain("affiliate_id", "text", func(c *store.Click) *string { return &c.AffiliateID }),
	plain("campaign_id", "text", func(c *store.Click) *string { return &c.CampaignID }),
	strs("sub_ids", func(c *store.Click) *[]string { return &c.SubIDs }),
	text("foreign_click_id", func(c *store.Click) *clickid.Foreign { return &c.ForeignClickID }),
	inet("ip", func(c *store.Click) *netip.Addr { return &c.IP }),
	plain("user_agent", "text", func(c *store.Click) *string { return &c.UserAgent }),
	plain("landing", "text", func(c *store.Click) *string { return &c.Landing }),
	timestamp("created_at", func(c *store.Click) *time.Time { return &c.CreatedAt }),
})

var bindings = newTable("player_bindings", []column[store.PlayerBinding]{
	plain("player_id", "text", func(b *store.PlayerBinding) *string { return &b.PlayerID }),
	plain("affiliate_id", "text", func(b *store.PlayerBinding) *string { return &b.AffiliateID }),
	plain("campaign_id", "text", func(b *store.PlayerBinding) *string { return &b.CampaignID }),
	clickID("click_id", true, func(b *store.PlayerBinding) *clickid.ID { return &b.ClickID }),
	text("method", func(b *store.PlayerBinding) *store.BindingMethod { return &b.Method }),
	timestamp("bound_at", func(b *store.PlayerBinding) *time.Time { return &b.BoundAt }),
})

// getClick reads the click with the given ID.
func (s *Store) getClick(ctx context.Context, db dbtx, id clickid.ID) (store.Click, error) {
	var w stmt
	w.sql("SELECT ", clicks.selected, " FROM ", s.prefix, "clicks WHERE id = ", w.arg(id, "uuid"))
	return getRow(ctx, db, clicks, &w)
}

// InsertClick implements [store.ClickStore].
func (s *Store) InsertClick(ctx context.Context, c store.Click) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c = c.Normalize()
	return s.run(ctx, oneStatement, func(db dbtx) error {
		var w stmt
		insertInto(&w, s.prefix, clicks)
		values(&w, clicks, []store.Click{c})
		w.sql(" ON CONFLICT (id) DO NOTHING")
		res, err := w.exec(ctx, db)
		if err != nil {
			return wrap(err, "insert click %s", c.ID)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return wrap(err, "insert click %s", c.ID)
		}
		old, err := s.getClick(ctx, db, c.ID)
		if err != nil {
			return wrap(err, "read click %s", c.ID)
		}
		if old.Equal(c) {
			return fmt.Errorf("pgstore: click %s: %w", c.ID, store.ErrDuplicate)
		}
		return fmt.Errorf("pgstore: click %s exists with other content: %w", c.ID, store.ErrConflict)
	})
}

// clicksPerStatement bounds a multi-row INSERT: 9 parameters a row stay far below
// PostgreSQL's 65,535.
const clicksPerStatement = 1000

// clickBatch inserts batches of clicks.
var clickBatch = batch[store.Click, clickid.ID]{
	what:  "click",
	table: clicks,
	ids:   newTable("clicks", []column[clickid.ID]{clickID("id", false, func(id *clickid.ID) *clickid.ID { return id })}),
	key:   func(c *store.Click) clickid.ID { return c.ID },
	text:  clickid.ID.UUIDString,
	equal: store.Click.Equal,
}

// InsertClicks implements [store.ClickStore] with multi-row INSERTs in one transaction. They
// skip the clicks that exist already (ON CONFLICT DO NOTHING) instead of aborting, so that the
// stored clicks can decide between ErrDuplicate and ErrConflict before the batch is rolled
// back.
func (s *Store) InsertClicks(ctx context.Context, p store.InsertClicksParams) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if len(p.Clicks) == 0 {
		return ctx.Err()
	}
	p = p.Normalize()
	return s.run(ctx, statements, func(db dbtx) error {
		return clickBatch.insert(ctx, db, s.prefix, p.Clicks, clicksPerStatement)
	})
}

// GetClick implements [store.ClickStore].
func (s *Store) GetClick(ctx context.Context, id clickid.ID) (store.Click, error) {
	if id.IsZero() {
		return store.Click{}, fmt.Errorf("pgstore: get click: the zero click ID: %w", store.ErrInvalid)
	}
	var c store.Click
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		c, err = s.getClick(ctx, db, id)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Click{}, fmt.Errorf("pgstore: click %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Click{}, wrap(err, "get click %s", id)
	}
	return c, nil
}

// GetClickByForeign implements [store.ClickStore] with one query on the partial index
// clicks_foreign_click_id (foreign_click_id, created_at, id), which holds only the clicks
// that carry a foreign ID, walked back from the latest: a row or two for a foreign ID that
// one click carries.
func (s *Store) GetClickByForeign(ctx context.Context, p store.GetClickByForeignParams) (store.Click, error) {
	if err := p.Validate(); err != nil {
		return store.Click{}, err
	}
	var c store.Click
	err := s.run(ctx, read, func(db dbtx) error {
		var w stmt
		// The index's predicate is spelled out, so that the planner can use it whatever it
		// knows of the parameter (a generic plan knows nothing of it).
		w.sql("SELECT ", clicks.selected, " FROM ", s.prefix, "clicks WHERE foreign_click_id <> '' AND foreign_click_id = ",
			w.arg(string(p.ForeignClickID), "text"))
		if p.CampaignID != "" {
			w.sql(" AND campaign_id = ", w.arg(p.CampaignID, "text"))
		}
		if !p.AsOf.IsZero() {
			w.sql(" AND created_at <= ", w.arg(store.NormalizeTime(p.AsOf), "timestamptz"))
		}
		w.sql(" ORDER BY created_at DESC, id DESC LIMIT 1")
		var err error
		c, err = getRow(ctx, db, clicks, &w)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Click{}, fmt.Errorf("pgstore: click with foreign id %q: %w", p.ForeignClickID, store.ErrNotFound)
	}
	if err != nil {
		return store.Click{}, wrap(err, "get click by foreign id %q", p.ForeignClickID)
	}
	return c, nil
}

// getBinding reads the binding of a player.
func (s *Store) getBinding(ctx context.Context, db dbtx, playerID string) (store.PlayerBinding, error) {
	var w stmt
	w.sql("SELECT ", bindings.selected, " FROM ", s.prefix, "player_bindings WHERE player_id = ", w.arg(playerID, "text"))
	return getRow(ctx, db, bindings, &w)
}

// BindPlayer implements [store.BindingStore].
func (s *Store) BindPlayer(ctx context.Context, b store.PlayerBinding) (store.PlayerBinding, error) {
	if err := b.Validate(); err != nil {
		return store.PlayerBinding{}, err
	}
	b = b.Normalize()
	var out store.PlayerBinding
	err := s.run(ctx, oneStatement, func(db dbtx) error {
		var w stmt
		insertInto(&w, s.prefix, bindings)
		values(&w, bindings, []store.PlayerBinding{b})
		w.sql(" ON CONFLICT (player_id) DO NOTHING")
		res, err := w.exec(ctx, db)
		if err != nil {
			return wrap(err, "bind player %q", b.PlayerID)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			out = b
			return wrap(err, "bind player %q", b.PlayerID)
		}
		if out, err = s.getBinding(ctx, db, b.PlayerID); err != nil {
			return wrap(err, "read binding of %q", b.PlayerID)
		}
		if out.SameBinding(b) {
			return fmt.Errorf("pgstore: player %q: %w", b.PlayerID, store.ErrDuplicate)
		}
		return fmt.Errorf("pgstore: player %q is bound to affiliate %q: %w", b.PlayerID, out.AffiliateID, store.ErrConflict)
	})
	return out, err
}

// GetBinding implements [store.BindingStore].
func (s *Store) GetBinding(ctx context.Context, playerID string) (store.PlayerBinding, error) {
	if err := store.CheckLookupKey(playerID); err != nil {
		return store.PlayerBinding{}, fmt.Errorf("pgstore: get binding: %w", err)
	}
	var b store.PlayerBinding
	err := s.run(ctx, read, func(db dbtx) error {
		var err error
		b, err = s.getBinding(ctx, db, playerID)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.PlayerBinding{}, fmt.Errorf("pgstore: binding of player %q: %w", playerID, store.ErrNotFound)
	}
	if err != nil {
		return store.PlayerBinding{}, wrap(err, "get binding of %q", playerID)
	}
	return b, nil
}
