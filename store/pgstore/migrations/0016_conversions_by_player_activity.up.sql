-- s2s schema, version 16, from version 15:
--   - a player's last activity as of an instant (ConversionStore.LastActivity: the latest
--     event time of the player's conversions, which re-attribution after a span of
--     inactivity reads) is one entry of the index conversions_player_event_time, walked
--     back from that instant. Conversions without a player, which no lookup names, are left
--     out of it.
-- Building the index on a large conversions table takes a while, and CREATE INDEX blocks
-- inserts meanwhile. On a live database, build it first, without blocking, and this
-- migration then finds it:
--     CREATE INDEX CONCURRENTLY IF NOT EXISTS conversions_player_event_time
--         ON conversions (player_id, (coalesce(occurred_at, received_at))) WHERE player_id <> '';

CREATE INDEX IF NOT EXISTS conversions_player_event_time ON conversions (player_id, (coalesce(occurred_at, received_at))) WHERE player_id <> '';
