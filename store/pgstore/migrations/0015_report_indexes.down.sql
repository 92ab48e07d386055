-- Back to version 14, exactly: the indexes of version 15 are dropped; no row is lost.

DROP INDEX delivery_attempts_finished;
DROP INDEX clicks_affiliate_created;
