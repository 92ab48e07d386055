-- s2s schema, version 5, from version 4:
--   - a delivery keeps when it was last replayed (store.Delivery.ReplayedAt): NULL if never.
--     A replay sets it, and the attempts after it keep it, so that the attempts made before
--     the replay are told from those after it.
-- Rows of version 4 are kept, as never replayed: version 4 did not record a replay, so a
-- delivery replayed under it reads with a zero ReplayedAt.

ALTER TABLE deliveries ADD COLUMN replayed_at timestamptz;
