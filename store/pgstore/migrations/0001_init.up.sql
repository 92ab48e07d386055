-- s2s schema, version 1. The statements use unqualified names: pgstore.Migrate runs them with
-- search_path set to the configured schema; set it yourself if you apply them with another tool.
-- Money is BIGINT minor units plus a currency code; times are timestamptz (microseconds).

CREATE TABLE clicks (
    id          uuid PRIMARY KEY,          -- time-ordered (UUIDv7 layout): appends to the index
    affiliate_id text NOT NULL,
    campaign_id text NOT NULL,
    sub_ids     jsonb,                     -- JSON array of strings, NULL when none
    foreign_id  text NOT NULL,
    ip          inet,
    user_agent  text NOT NULL,
    landing     text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE player_bindings (
    player_id    text PRIMARY KEY,
    affiliate_id text NOT NULL,
    campaign_id  text NOT NULL,
    click_id     uuid,
    method       text NOT NULL,
    bound_at     timestamptz NOT NULL
);

CREATE TABLE conversions (
    id              uuid PRIMARY KEY,
    dedup_key       text NOT NULL,
    source          text NOT NULL,
    event           text NOT NULL,
    click_id        uuid,
    player_id       text NOT NULL,
    affiliate_id    text NOT NULL,
    campaign_id     text NOT NULL,
    transaction_id  text NOT NULL,
    amount_minor    bigint,
    amount_currency text,
    status          text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    decision_model  text NOT NULL,
    decision_reason text NOT NULL,
    CONSTRAINT conversions_dedup_key UNIQUE (dedup_key),
    CONSTRAINT conversions_amount CHECK ((amount_minor IS NULL) = (amount_currency IS NULL))
);
CREATE INDEX conversions_affiliate_occurred ON conversions (affiliate_id, occurred_at, id);

CREATE TABLE conversion_history (
    conversion_id uuid NOT NULL REFERENCES conversions (id),
    seq           integer NOT NULL,
    status        text NOT NULL,
    reason        text NOT NULL,
    at            timestamptz NOT NULL,
    PRIMARY KEY (conversion_id, seq)
);

CREATE TABLE ledger_lines (
    id            uuid PRIMARY KEY,
    conversion_id uuid REFERENCES conversions (id),
    affiliate_id  text NOT NULL,
    kind          text NOT NULL,
    amount_minor  bigint NOT NULL,
    currency      text NOT NULL,
    rule          text NOT NULL,
    detail        text NOT NULL,
    period_start  timestamptz,
    period_end    timestamptz,
    created_at    timestamptz NOT NULL
);
CREATE INDEX ledger_lines_affiliate_created ON ledger_lines (affiliate_id, created_at, id);

CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,     -- also the event ID receivers dedup on
    conversion_id    uuid REFERENCES conversions (id),
    endpoint         text NOT NULL,
    method           text NOT NULL,
    url              text NOT NULL,
    header           jsonb,
    body             bytea,
    status           text NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    lease_token      bigint NOT NULL DEFAULT 0,
    lease_expires_at timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_status_created ON deliveries (status, created_at, id);

CREATE TABLE delivery_attempts (
    delivery_id uuid NOT NULL REFERENCES deliveries (id),
    n           integer NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    status_code integer NOT NULL,
    response    text NOT NULL,
    error       text NOT NULL,
    PRIMARY KEY (delivery_id, n)
);
