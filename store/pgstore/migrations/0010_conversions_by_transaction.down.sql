-- Back to version 9, exactly: the index goes, no row does.

DROP INDEX conversions_transaction;
