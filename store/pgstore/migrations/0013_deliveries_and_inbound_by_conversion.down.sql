-- Back to version 12, exactly: the indexes of deliveries and inbound records by conversion
-- are dropped; no row is lost.

DROP INDEX inbound_log_conversion;
DROP INDEX deliveries_conversion;
