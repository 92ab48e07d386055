-- s2s schema, version 4, from version 3:
--   - endpoints: the delivery state of each outbound endpoint the store knows
--     (store.EndpointState): whether it is disabled, why and since when, when it was last
--     enabled, when it last succeeded and since when it has been failing. An endpoint with no
--     row is enabled, with no history. Names sort by their bytes (COLLATE "C"), as
--     ListEndpoints orders them, whatever the database's collation;
--   - deliveries are listed and replayed by endpoint and status, in creation order, on an
--     index of their own.

CREATE TABLE endpoints (
    name            text COLLATE "C" PRIMARY KEY,
    disabled        boolean NOT NULL,
    reason          text NOT NULL,        -- why it is disabled; '' when enabled
    disabled_at     timestamptz,          -- NULL when enabled
    enabled_at      timestamptz,          -- NULL if never enabled by EnableEndpoint
    last_success_at timestamptz,
    failing_since   timestamptz,
    CONSTRAINT endpoints_disabled CHECK (disabled = (disabled_at IS NOT NULL) AND disabled = (reason <> ''))
);

CREATE INDEX deliveries_endpoint_status_created ON deliveries (endpoint, status, created_at, id);
