-- s2s schema, version 2: a conversion keeps the sub IDs and the foreign click ID its sender
-- sent (store.Conversion.SubIDs and ForeignClickID).
ALTER TABLE conversions
    ADD COLUMN foreign_click_id text NOT NULL DEFAULT '',
    ADD COLUMN sub_ids          jsonb;                     -- JSON array of strings, NULL when none
