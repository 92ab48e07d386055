-- Back to version 1, exactly. What version 1 has no column for is dropped; a conversion
-- without an event time takes its receive time, which version 1 requires; a ledger line's
-- Detail is kept as its JSON text in version 1's free-text detail.
--
-- A down is not undone by the next up: that up drops version 1's free-text detail (so the
-- Detail kept here is lost, and Explain of those lines loses its inputs), and a conversion
-- that had no event time keeps the receive time it took here (so a later retry without one
-- is a conflict). Take a backup before going down.

DROP INDEX ledger_lines_affiliate_statement;
ALTER TABLE ledger_lines
    DROP CONSTRAINT ledger_lines_fx,
    ALTER COLUMN detail TYPE text USING coalesce(detail::text, ''),
    ALTER COLUMN detail SET NOT NULL,
    DROP COLUMN fx_at,
    DROP COLUMN fx_source,
    DROP COLUMN fx_rate,
    DROP COLUMN fx_to,
    DROP COLUMN fx_from,
    DROP COLUMN mode,
    DROP COLUMN level,
    DROP COLUMN tier,
    DROP COLUMN rate,
    DROP COLUMN base_currency,
    DROP COLUMN base_minor,
    DROP COLUMN statement_at,
    DROP COLUMN payable,
    DROP COLUMN at,
    DROP COLUMN reverses,
    DROP COLUMN event,
    DROP COLUMN player,
    DROP COLUMN plan;

DROP INDEX conversions_affiliate_event_time;
UPDATE conversions SET occurred_at = received_at WHERE occurred_at IS NULL;
ALTER TABLE conversions
    ALTER COLUMN occurred_at SET NOT NULL,
    DROP COLUMN sub_ids,
    DROP COLUMN foreign_click_id;
CREATE INDEX conversions_affiliate_occurred ON conversions (affiliate_id, occurred_at, id);

ALTER TABLE clicks RENAME COLUMN foreign_click_id TO foreign_id;
