-- s2s schema, version 8, from version 7:
--   - inbound_log: the inbound log (store.InboundRecord), a row per postback received,
--     rejected ones included: its source and method, what became of it (outcome, reason,
--     the HTTP status it was answered with), its redacted parameters, the conversion it
--     recorded or found (NULL if none; not a foreign key, so that logging reads nothing) and
--     how long it took (duration_ns, in nanoseconds).
--   - it is listed newest first by source and by outcome, and pruned by age, each on an
--     index of its own: four index entries per row, each appended at the end of its index
--     (times and time-ordered IDs grow), and no other.

CREATE TABLE inbound_log (
    id            uuid PRIMARY KEY,
    received_at   timestamptz NOT NULL,
    source        text NOT NULL,
    method        text NOT NULL,
    outcome       text NOT NULL,
    reason        text NOT NULL,
    http_status   integer NOT NULL,
    params        text NOT NULL,
    conversion_id uuid,
    duration_ns   bigint NOT NULL,
    CONSTRAINT inbound_log_duration CHECK (duration_ns >= 0)
);
CREATE INDEX inbound_log_received ON inbound_log (received_at, id);
CREATE INDEX inbound_log_source ON inbound_log (source, received_at, id);
CREATE INDEX inbound_log_outcome ON inbound_log (outcome, received_at, id);
