-- Back to version 13, exactly. What version 13 has no table for is dropped, for good: every
-- revenue fact. Take a backup before going down if you need the revenue reports received.

DROP TABLE revenue_facts;
