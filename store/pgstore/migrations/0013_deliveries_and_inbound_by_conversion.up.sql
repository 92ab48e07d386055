-- s2s schema, version 13, from version 12:
--   - deliveries_conversion indexes the deliveries of each conversion in the order
--     ListConversionDeliveries returns them, and inbound_log_conversion the inbound log's
--     records of each conversion (ListInboundParams.ConversionID), newest first when walked
--     back: a status page's timeline of one event, without walking the outbox or the log.
--     Both are partial: a row that names no conversion (an unattributed postback, a
--     rejected one) costs no index entry.
-- Building them on large tables takes a while, and CREATE INDEX blocks writes meanwhile. To
-- keep taking postbacks, build them beforehand, outside this migration and with search_path
-- set to the schema, under the same names and definitions:
--     CREATE INDEX CONCURRENTLY IF NOT EXISTS deliveries_conversion
--         ON deliveries (conversion_id, created_at, id) WHERE conversion_id IS NOT NULL;
--     CREATE INDEX CONCURRENTLY IF NOT EXISTS inbound_log_conversion
--         ON inbound_log (conversion_id, received_at, id) WHERE conversion_id IS NOT NULL;
-- and then migrate: IF NOT EXISTS keeps the indexes you built.
-- Rows of version 12 are kept as they are.

CREATE INDEX IF NOT EXISTS deliveries_conversion ON deliveries (conversion_id, created_at, id) WHERE conversion_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS inbound_log_conversion ON inbound_log (conversion_id, received_at, id) WHERE conversion_id IS NOT NULL;
