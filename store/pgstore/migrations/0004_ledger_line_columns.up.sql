-- s2s schema, version 4: every field of a ledger line (a commission.Line) in a typed column of
-- its own. Money is BIGINT minor units beside a currency code; rates are exact numeric; the
-- line's Detail (what Explain needs beyond the other fields) is its own JSON, in detail, which
-- held free text until version 3 (always '' since). Version 3 kept the whole line as JSON in
-- line: its rows move into the columns here, and line goes. Lines of version 1, which had no
-- accrual or payable time, take their creation time.
ALTER TABLE ledger_lines
    ADD COLUMN plan          text NOT NULL DEFAULT '',
    ADD COLUMN player        text NOT NULL DEFAULT '',
    ADD COLUMN event         text NOT NULL DEFAULT '',
    ADD COLUMN reverses      text NOT NULL DEFAULT '',
    ADD COLUMN at            timestamptz,
    ADD COLUMN payable       timestamptz,
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

UPDATE ledger_lines SET
    plan          = coalesce(line->>'plan', ''),
    player        = coalesce(line->>'player', ''),
    event         = coalesce(line->>'event', ''),
    reverses      = coalesce(line->>'reverses', ''),
    at            = (line->>'at')::timestamptz,
    payable       = (line->>'payable')::timestamptz,
    -- money's JSON writes an amount's decimal with exactly its currency's digits.
    base_minor    = replace(line->'base'->>'amount', '.', '')::bigint,
    base_currency = line->'base'->>'currency',
    rate          = (line->>'rate')::numeric,
    tier          = coalesce((line->>'tier')::integer, 0),
    level         = coalesce((line->>'level')::integer, 0),
    mode          = line->>'mode',
    fx_from       = line->'fx'->>'from',
    fx_to         = line->'fx'->>'to',
    fx_rate       = (line->'fx'->>'rate')::numeric,
    fx_source     = line->'fx'->>'source',
    fx_at         = (line->'fx'->>'at')::timestamptz,
    detail        = line->'detail'
WHERE line IS NOT NULL;

UPDATE ledger_lines SET at = created_at, payable = created_at, statement_at = coalesce(period_start, created_at)
WHERE at IS NULL;

ALTER TABLE ledger_lines
    ALTER COLUMN at SET NOT NULL,
    ALTER COLUMN payable SET NOT NULL,
    ALTER COLUMN statement_at SET NOT NULL,
    ADD CONSTRAINT ledger_lines_base CHECK ((base_minor IS NULL) = (base_currency IS NULL)),
    ADD CONSTRAINT ledger_lines_fx CHECK ((fx_from IS NULL) = (fx_to IS NULL) AND (fx_from IS NULL) = (fx_rate IS NULL)
        AND (fx_from IS NULL) = (fx_source IS NULL) AND (fx_from IS NULL) = (fx_at IS NULL)),
    DROP COLUMN line;
