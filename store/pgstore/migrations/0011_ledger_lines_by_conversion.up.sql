-- s2s schema, version 11, from version 10:
--   - ledger_lines_conversion indexes the lines of each conversion in the order
--     ListConversionLines returns them, so that a reversal reads what its original earned
--     without walking the affiliate's ledger.
-- Rows of version 10 are kept as they are.

CREATE INDEX ledger_lines_conversion ON ledger_lines (conversion_id, created_at, id) WHERE conversion_id IS NOT NULL;
