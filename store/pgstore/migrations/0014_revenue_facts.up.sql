-- s2s schema, version 14, from version 13:
--   - revenue_facts: the revenue facts (store.RevenueFact), a row per player's revenue
--     report: its identity (source, transaction_id), unique; its affiliate, player and
--     campaign; when the revenue is of (occurred_at) and when it was received; its amounts in
--     BIGINT minor units, signed (a player's winnings make ggr negative), in one currency.
--   - corrects names the fact of the same source that the row corrects (NULL if none): a
--     foreign key, so a correction refers to a recorded fact, and unique, so a fact is
--     corrected once at most.
--   - it is listed by occurred time, of one affiliate or of all (a period's revenue), and by
--     received time (the facts that came after their period was closed), each on an index of
--     its own.

CREATE TABLE revenue_facts (
    id             uuid PRIMARY KEY,
    source         text NOT NULL,
    transaction_id text NOT NULL,
    affiliate_id   text NOT NULL,
    player_id      text NOT NULL,
    campaign_id    text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    received_at    timestamptz NOT NULL,
    corrects       text,
    currency       text NOT NULL,
    ggr            bigint NOT NULL,
    bonuses        bigint NOT NULL,
    fees           bigint NOT NULL,
    taxes          bigint NOT NULL,
    deposits       bigint NOT NULL,
    withdrawals    bigint NOT NULL,
    CONSTRAINT revenue_facts_key UNIQUE (source, transaction_id),
    CONSTRAINT revenue_facts_corrected_once UNIQUE (source, corrects),
    CONSTRAINT revenue_facts_corrects FOREIGN KEY (source, corrects) REFERENCES revenue_facts (source, transaction_id),
    CONSTRAINT revenue_facts_not_itself CHECK (corrects IS DISTINCT FROM transaction_id)
);
CREATE INDEX revenue_facts_occurred ON revenue_facts (occurred_at, id);
CREATE INDEX revenue_facts_affiliate_occurred ON revenue_facts (affiliate_id, occurred_at, id);
CREATE INDEX revenue_facts_received ON revenue_facts (received_at, id);
