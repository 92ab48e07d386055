-- s2s schema, version 3: a ledger line is the persisted form of a commission.Line. The line is
-- kept whole in line, in commission.Line's own JSON encoding (which round-trips every field,
-- its Detail included); statement_at is its StatementTime, by which a ledger is listed per
-- statement period. kind, rule, amount and period stay as typed columns, for queries.
ALTER TABLE ledger_lines
    ADD COLUMN line         jsonb,
    ADD COLUMN statement_at timestamptz;
CREATE INDEX ledger_lines_affiliate_statement ON ledger_lines (affiliate_id, statement_at, id);
