-- s2s schema, version 15, from version 14:
--   - clicks_affiliate_created indexes an affiliate's clicks by time, with their campaign,
--     so that a report (store.ReportStore's Aggregate) counts one affiliate's clicks of a
--     range from the index alone, never walking the clicks table.
--   - delivery_attempts_finished indexes attempts by when they finished, with their status
--     code, so that an endpoint's failure rate over a window (CountAttempts) reads the
--     attempts of that window only.
-- The conversions, revenue facts and ledger lines of a report are found by the indexes they
-- have already (conversions_affiliate_event_time, revenue_facts_affiliate_occurred,
-- ledger_lines_affiliate_statement).
-- Building them on large tables takes a while, and CREATE INDEX blocks writes meanwhile. To
-- keep taking clicks, build them beforehand, outside this migration and with search_path
-- set to the schema, under the same names and definitions:
--     CREATE INDEX CONCURRENTLY IF NOT EXISTS clicks_affiliate_created
--         ON clicks (affiliate_id, created_at, campaign_id);
--     CREATE INDEX CONCURRENTLY IF NOT EXISTS delivery_attempts_finished
--         ON delivery_attempts (finished_at, delivery_id, status_code);
-- and then migrate: IF NOT EXISTS keeps the indexes you built.
-- Rows of version 14 are kept as they are.

CREATE INDEX IF NOT EXISTS clicks_affiliate_created ON clicks (affiliate_id, created_at, campaign_id);
CREATE INDEX IF NOT EXISTS delivery_attempts_finished ON delivery_attempts (finished_at, delivery_id, status_code);
