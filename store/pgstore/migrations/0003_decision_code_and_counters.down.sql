-- Back to version 2, exactly. What version 2 has no column or table for is dropped, for
-- good: the decision codes of conversions, and every counter. The next up starts every
-- counter again at 0, so caps and tier counts restart as if nothing had been recorded.
-- Take a backup before going down.

DROP TABLE counters;
ALTER TABLE conversions DROP COLUMN decision_code;
