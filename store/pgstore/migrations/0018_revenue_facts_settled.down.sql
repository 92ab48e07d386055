-- Back to version 17, exactly: which close counted each revenue fact is dropped (version 17
-- tells it from the facts' times, and misses a fact committed while a close was running).

DROP INDEX revenue_facts_unsettled;
ALTER TABLE revenue_facts DROP COLUMN settled_in;
