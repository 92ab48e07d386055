-- Back to version 6, exactly. What version 6 has no table for is dropped, for good: every
-- parked event, resolved or waiting. A reversal that waited for its original is lost with it,
-- and its sender's retry is parked again as new. Take a backup before going down.

DROP TABLE parked_events;
