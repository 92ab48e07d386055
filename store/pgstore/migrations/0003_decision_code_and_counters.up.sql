-- s2s schema, version 3, from version 2:
--   - a conversion's decision has a machine-readable code (store.Decision.Code) beside its
--     model and reason; conversions of version 2 have none ('');
--   - counters (store.Increment): named values that writes increment atomically with the
--     records that cause them, refused past a limit the caller gives. A counter never
--     incremented has no row, and reads as 0.

ALTER TABLE conversions ADD COLUMN decision_code text NOT NULL DEFAULT '';
ALTER TABLE conversions ALTER COLUMN decision_code DROP DEFAULT;

CREATE TABLE counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL,
    CONSTRAINT counters_value CHECK (value > 0)
);
