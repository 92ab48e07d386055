-- Back to version 5, exactly: the index of clicks by foreign click ID is dropped; no row is
-- lost.

DROP INDEX clicks_foreign_click_id;
