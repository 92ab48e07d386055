-- s2s schema, version 10, from version 9:
--   - conversions are found by their source and transaction ID
--     (ConversionStore.ListConversionsByTransaction: the original of a reversal, whatever the
--     dedup mode), in order of receipt, through the index conversions_transaction. Conversions
--     without a transaction ID, which no lookup names, are left out of it.
-- Building the index on a large conversions table takes a while, and CREATE INDEX blocks
-- inserts meanwhile. On a live database, build it first, without blocking, and this
-- migration then finds it:
--     CREATE INDEX CONCURRENTLY IF NOT EXISTS conversions_transaction
--         ON conversions (source, transaction_id, received_at, id) WHERE transaction_id <> '';

CREATE INDEX IF NOT EXISTS conversions_transaction ON conversions (source, transaction_id, received_at, id) WHERE transaction_id <> '';
