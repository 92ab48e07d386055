ALTER TABLE conversions
    DROP COLUMN sub_ids,
    DROP COLUMN foreign_click_id;
