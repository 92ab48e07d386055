DROP INDEX conversions_affiliate_event_time;
UPDATE conversions SET occurred_at = received_at WHERE occurred_at IS NULL;
ALTER TABLE conversions ALTER COLUMN occurred_at SET NOT NULL;
CREATE INDEX conversions_affiliate_occurred ON conversions (affiliate_id, occurred_at, id);
