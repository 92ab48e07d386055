-- s2s schema, version 5: a conversion's occurred_at is NULL when the sender gave no event
-- time; conversions are listed by their event time, occurred_at or else received_at.
ALTER TABLE conversions ALTER COLUMN occurred_at DROP NOT NULL;
DROP INDEX conversions_affiliate_occurred;
CREATE INDEX conversions_affiliate_event_time ON conversions (affiliate_id, (coalesce(occurred_at, received_at)), id);
