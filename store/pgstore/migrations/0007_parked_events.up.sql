-- s2s schema, version 7, from version 6:
--   - parked_events: events that cannot be applied yet (store.ParkedEvent), such as a reversal
--     that arrived before its original. A row holds the event as a conversion's columns (its
--     own conversion ID as event_id), under a dedup key of its own (a retry of the event is a
--     duplicate), with when it was parked and, once applied or settled, when (resolved_at)
--     and to which conversion (applied_to; NULL for one settled against none).
--   - they are listed by source and transaction (what a recorded original looks them up by),
--     and the ones that wait oldest first, on a partial index of those alone, for a sweep.

CREATE TABLE parked_events (
    id               uuid PRIMARY KEY,
    event_id         uuid NOT NULL,
    dedup_key        text NOT NULL,
    source           text NOT NULL,
    event            text NOT NULL,
    click_id         uuid,
    foreign_click_id text NOT NULL,
    sub_ids          jsonb,                     -- JSON array of strings, NULL when none
    player_id        text NOT NULL,
    affiliate_id     text NOT NULL,
    campaign_id      text NOT NULL,
    transaction_id   text NOT NULL,
    amount_minor     bigint,
    amount_currency  text,
    status           text NOT NULL,
    occurred_at      timestamptz,               -- NULL: the sender gave no event time
    received_at      timestamptz NOT NULL,
    decision_model   text NOT NULL,
    decision_reason  text NOT NULL,
    decision_code    text NOT NULL,
    parked_at        timestamptz NOT NULL,
    resolved_at      timestamptz,               -- NULL while it waits
    applied_to       uuid REFERENCES conversions (id),
    CONSTRAINT parked_events_dedup_key UNIQUE (dedup_key),
    CONSTRAINT parked_events_amount CHECK ((amount_minor IS NULL) = (amount_currency IS NULL)),
    CONSTRAINT parked_events_applied CHECK (applied_to IS NULL OR resolved_at IS NOT NULL)
);
CREATE INDEX parked_events_transaction ON parked_events (source, transaction_id, parked_at, id);
CREATE INDEX parked_events_waiting ON parked_events (parked_at, id) WHERE resolved_at IS NULL;
