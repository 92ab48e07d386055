-- Back to version 3: the whole line as JSON in line, rebuilt from the columns (amounts in
-- money's {"minor", "currency"} form, which it reads back exactly), and detail as text.
ALTER TABLE ledger_lines ADD COLUMN line jsonb;

UPDATE ledger_lines SET line = jsonb_strip_nulls(jsonb_build_object(
    'kind',      kind,
    'rule',      rule,
    'plan',      plan,
    'affiliate', affiliate_id,
    'player',    nullif(player, ''),
    'event',     nullif(event, ''),
    'reverses',  nullif(reverses, ''),
    'at',        at,
    'payable',   payable,
    'period',    CASE WHEN period_start IS NOT NULL THEN jsonb_build_object('start', period_start, 'end', period_end) END,
    'amount',    jsonb_build_object('minor', amount_minor, 'currency', currency),
    'base',      CASE WHEN base_minor IS NOT NULL THEN jsonb_build_object('minor', base_minor, 'currency', base_currency) END,
    'rate',      rate::text,
    'tier',      nullif(tier, 0),
    'level',     nullif(level, 0),
    'mode',      mode,
    'fx',        CASE WHEN fx_from IS NOT NULL THEN jsonb_build_object('from', fx_from, 'to', fx_to, 'rate', fx_rate::text,
                     'source', fx_source, 'at', fx_at) END,
    'detail',    detail));

ALTER TABLE ledger_lines
    DROP CONSTRAINT ledger_lines_fx,
    DROP CONSTRAINT ledger_lines_base,
    ALTER COLUMN statement_at DROP NOT NULL,
    ALTER COLUMN detail TYPE text USING '',
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
    DROP COLUMN payable,
    DROP COLUMN at,
    DROP COLUMN reverses,
    DROP COLUMN event,
    DROP COLUMN player,
    DROP COLUMN plan;
