-- s2s schema, version 18, from version 17:
--   - revenue_facts.settled_in: the start of the period whose close counted the fact
--     (store.RevenueFact.SettledIn), NULL while no close has. A close marks the facts it
--     counts in its own transaction, so that a fact committed while a close was running
--     (after it listed the unsettled facts) stays NULL and is counted by the next close, as
--     an adjustment: every fact is settled exactly once, however the writes and closes of
--     several processes interleave. A timestamp (received_at) cannot say that: it is taken
--     before the commit, and commits are not in its order.
--   - revenue_facts_unsettled: the unsettled facts by occurred time, what a close lists; a
--     partial index, so that it holds only the facts of the periods still to close.
--   - the facts of a schema that closed periods at version 17 are marked settled in the
--     earliest close that was written after they were received and covers their time: the
--     close that could see them.

ALTER TABLE revenue_facts ADD COLUMN settled_in timestamptz;
UPDATE revenue_facts f SET settled_in = (SELECT c.start_at FROM period_closes c
    WHERE c.end_at > f.occurred_at AND c.closed_at > f.received_at ORDER BY c.start_at LIMIT 1);
CREATE INDEX revenue_facts_unsettled ON revenue_facts (occurred_at, id) WHERE settled_in IS NULL;
