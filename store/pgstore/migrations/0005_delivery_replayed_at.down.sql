-- Back to version 4, exactly. What version 4 has no column for is dropped, for good: when
-- each delivery was last replayed. The next up reads every delivery as never replayed. Take a
-- backup before going down.

ALTER TABLE deliveries DROP COLUMN replayed_at;
