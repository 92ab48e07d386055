-- Back to version 10, exactly: the index is dropped, nothing else changes.

DROP INDEX ledger_lines_conversion;
