-- s2s schema, version 9, from version 8:
--   - a pending delivery is held when its endpoint was disabled as the store last wrote it
--     (DisableEndpoint holds the endpoint's pending deliveries; a delivery recorded, retried or
--     replayed for a disabled endpoint is held from the start). The index deliveries_due, which
--     leases walk in leasing order, leaves held deliveries out, and deliveries_held keeps them
--     by endpoint, so that a disabled endpoint's backlog, however long, costs a lease nothing.
--     Held says where a pending delivery is indexed, not whether it may be leased: a lease
--     checks the endpoint's state wherever it finds a delivery, and leases the held deliveries
--     of an endpoint that is enabled again from deliveries_held, so that a held flag a
--     concurrent write left behind delays nothing.
-- Rows of version 8 are kept; the pending deliveries of endpoints disabled in version 8 are
-- held.

ALTER TABLE deliveries ADD COLUMN held boolean NOT NULL DEFAULT false; -- a delivery no write held is walked, and safe
UPDATE deliveries SET held = true WHERE status = 'pending' AND endpoint IN (SELECT name FROM endpoints WHERE disabled);

DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending' AND NOT held;
CREATE INDEX deliveries_held ON deliveries (endpoint, next_attempt_at, id) WHERE status = 'pending' AND held;
