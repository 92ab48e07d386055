-- s2s schema, version 17, from version 16:
--   - period_closes: the closed statement periods (store.PeriodClose), a row per period,
--     one chain: start_at is the primary key, so a period is closed once; a close follows
--     the last one (its start_at is the end_at of a close, checked when it is written), end_at
--     is unique, and of the closes only one is the first (a partial unique index), so that
--     concurrent closes of one period, or concurrent first closes, record exactly one.
--   - balances are the RevShare balances carried out of the period (affiliate, player,
--     amount), as one JSON array (NULL when none): read whole by the next close, never
--     queried by part.

CREATE TABLE period_closes (
    start_at  timestamptz PRIMARY KEY,
    end_at    timestamptz NOT NULL,
    first     boolean NOT NULL,
    closed_at timestamptz NOT NULL,
    balances  jsonb,
    CONSTRAINT period_closes_end UNIQUE (end_at),
    CONSTRAINT period_closes_span CHECK (start_at < end_at)
);
CREATE UNIQUE INDEX period_closes_first ON period_closes (first) WHERE first;
