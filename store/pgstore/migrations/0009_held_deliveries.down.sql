-- Back to version 8, exactly. What version 8 has no column for is dropped: which pending
-- deliveries are held. Nothing is lost: version 8 finds a disabled endpoint's deliveries by
-- its state alone, and the next up holds them again.

DROP INDEX deliveries_held;
DROP INDEX deliveries_due;
ALTER TABLE deliveries DROP COLUMN held;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
