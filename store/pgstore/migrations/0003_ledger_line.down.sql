DROP INDEX ledger_lines_affiliate_statement;
ALTER TABLE ledger_lines
    DROP COLUMN statement_at,
    DROP COLUMN line;
