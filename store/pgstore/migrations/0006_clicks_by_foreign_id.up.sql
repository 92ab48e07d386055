-- s2s schema, version 6, from version 5:
--   - clicks are found by the foreign click ID they carry (store.ClickStore.GetClickByForeign),
--     the latest first, on a partial index of the clicks that carry one: a click without a
--     foreign ID ('') costs no index entry, and its insert no index update.
-- Building the index on a large clicks table takes a while, and CREATE INDEX blocks inserts
-- of clicks meanwhile. To keep taking clicks, build it beforehand, outside this migration and
-- with search_path set to the schema, under the same name and definition:
--     CREATE INDEX CONCURRENTLY IF NOT EXISTS clicks_foreign_click_id
--         ON clicks (foreign_click_id, created_at, id) WHERE foreign_click_id <> '';
-- and then migrate: IF NOT EXISTS keeps the index you built.

CREATE INDEX IF NOT EXISTS clicks_foreign_click_id ON clicks (foreign_click_id, created_at, id) WHERE foreign_click_id <> '';
