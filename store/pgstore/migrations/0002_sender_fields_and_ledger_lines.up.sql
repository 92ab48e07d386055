-- s2s schema, version 2, from version 1:
--   - a click's foreign click ID is foreign_click_id (store.Click.ForeignClickID);
--   - a conversion keeps the sub IDs and the foreign click ID its sender sent, and its
--     occurred_at is NULL when the sender gave no event time; conversions are listed by their
--     event time, occurred_at or else received_at (store.Conversion.EventTime), on an index of
--     that very expression;
--   - a ledger line is the persisted form of a commission.Line: every field in a typed column
--     of its own (money as BIGINT minor units beside a currency code, rates exact numeric),
--     its Detail (what Explain needs beyond the other fields) as JSON in detail, and its
--     StatementTime in statement_at, by which a ledger is listed per statement period.
-- Rows of version 1 are kept: a ledger line of version 1, which had no accrual or payable
-- time and no base, accrued and is payable at its creation, on a zero base in its currency.
-- Version 1's free-text detail is not kept (no release wrote one): commission's Detail is
-- structured.

ALTER TABLE clicks RENAME COLUMN foreign_id TO foreign_click_id;

ALTER TABLE conversions
    ADD COLUMN foreign_click_id text NOT NULL DEFAULT '',
    ADD COLUMN sub_ids          jsonb,                  -- JSON array of strings, NULL when none
    ALTER COLUMN occurred_at DROP NOT NULL;             -- NULL: the sender gave no event time
ALTER TABLE conversions ALTER COLUMN foreign_click_id DROP DEFAULT;
DROP INDEX conversions_affiliate_occurred;
CREATE INDEX conversions_affiliate_event_time ON conversions (affiliate_id, (coalesce(occurred_at, received_at)), id);

ALTER TABLE ledger_lines
    ADD COLUMN plan          text NOT NULL DEFAULT '',
    ADD COLUMN player        text NOT NULL DEFAULT '',
    ADD COLUMN event         text NOT NULL DEFAULT '',
    ADD COLUMN reverses      text NOT NULL DEFAULT '',
    ADD COLUMN at            timestamptz,
    ADD COLUMN payable       timestamptz,
    ADD COLUMN statement_at  timestamptz,
    ADD COLUMN base_minor    bigint,
    ADD COLUMN base_currency text,
    ADD COLUMN rate          numeric,                   -- NULL for no rate
    ADD COLUMN tier          integer NOT NULL DEFAULT 0,
    ADD COLUMN level         integer NOT NULL DEFAULT 0,
    ADD COLUMN mode          text NOT NULL DEFAULT 'half_even',
    ADD COLUMN fx_from       text,                      -- the fx_ columns: NULL for no conversion
    ADD COLUMN fx_to         text,
    ADD COLUMN fx_rate       numeric,
    ADD COLUMN fx_source     text,
    ADD COLUMN fx_at         timestamptz,
    ALTER COLUMN detail DROP NOT NULL,
    ALTER COLUMN detail TYPE jsonb USING NULL;          -- NULL for the zero Detail

UPDATE ledger_lines SET at = created_at, payable = created_at, statement_at = coalesce(period_start, created_at),
    base_minor = 0, base_currency = currency;

ALTER TABLE ledger_lines
    ALTER COLUMN plan DROP DEFAULT,
    ALTER COLUMN player DROP DEFAULT,
    ALTER COLUMN event DROP DEFAULT,
    ALTER COLUMN reverses DROP DEFAULT,
    ALTER COLUMN tier DROP DEFAULT,
    ALTER COLUMN level DROP DEFAULT,
    ALTER COLUMN mode DROP DEFAULT,
    ALTER COLUMN at SET NOT NULL,
    ALTER COLUMN payable SET NOT NULL,
    ALTER COLUMN statement_at SET NOT NULL,
    ALTER COLUMN base_minor SET NOT NULL,
    ALTER COLUMN base_currency SET NOT NULL,
    ADD CONSTRAINT ledger_lines_fx CHECK ((fx_from IS NULL) = (fx_to IS NULL) AND (fx_from IS NULL) = (fx_rate IS NULL)
        AND (fx_from IS NULL) = (fx_source IS NULL) AND (fx_from IS NULL) = (fx_at IS NULL));
CREATE INDEX ledger_lines_affiliate_statement ON ledger_lines (affiliate_id, statement_at, id);
