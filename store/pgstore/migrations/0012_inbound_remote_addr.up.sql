-- s2s schema, version 12, from version 11:
--   - inbound_log.remote_addr: the network address a postback came from (store.InboundRecord
--     RemoteAddr), empty when unknown. It is not indexed: the log is listed by time, source
--     and outcome, and the address is read with the record.
-- Rows of version 11 get an empty address.

ALTER TABLE inbound_log ADD COLUMN remote_addr text NOT NULL DEFAULT '';
