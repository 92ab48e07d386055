-- Back to version 11, exactly: the column is dropped, nothing else changes.

ALTER TABLE inbound_log DROP COLUMN remote_addr;
