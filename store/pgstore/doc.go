// Package pgstore is the PostgreSQL implementation of [store.Store], over database/sql: the
// host opens the pool with the driver of its choice (github.com/jackc/pgx/v5/stdlib, which the
// tests use, or github.com/lib/pq), so importing s2s links no driver.
//
//	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
//	...
//	if err := pgstore.Migrate(ctx, db, nil); err != nil { ... } // schema "s2s"
//	st, err := pgstore.New(db, nil)
//
// # Migrations
//
// The schema ships inside the package as numbered SQL files. [Migrate] applies the missing
// ones in one transaction and records them in the table s2s_migrations; it is safe to run from
// several processes at once (a transaction-scoped advisory lock serialises them). Teams with
// their own migration tool take the same files from [Migrations]: they follow
// golang-migrate's layout (NNNN_title.up.sql, NNNN_title.down.sql), which golang-migrate
// applies as they are, with search_path set to the schema.
//
// # Transactions
//
// [Store.WithTx] returns a view of the store bound to a *sql.Tx the host has begun: a
// [store.Store] like any other, so code that holds a store.Store (the Tracker) writes in the
// host's transaction without knowing it, and no one type-asserts. An operator's own rows (the
// deposit), the conversion and its outbox entries then commit together or not at all:
//
//	tx, err := db.BeginTx(ctx, nil)
//	...
//	_, err = tx.ExecContext(ctx, "INSERT INTO deposits ...")
//	_, err = st.WithTx(tx).RecordConversion(ctx, params)
//	...
//	err = tx.Commit()
//
// Every write of the view runs in a savepoint: when it fails, with ErrDuplicate or any other
// error, nothing of the call remains and the host's transaction is still usable. The view's
// reads see the transaction's uncommitted rows. Leasing deliveries in a view makes the leases
// part of the transaction (see [Store.WithTx]).
//
// # How money and time are kept
//
// Amounts are BIGINT minor units beside a currency code, rates exact numeric, never a float;
// times are timestamptz, so they come back in UTC at microsecond precision
// ([store.TimePrecision]). A ledger line keeps every field of its commission.Line in a typed
// column and its Detail (what Explain needs beyond them) in one jsonb column, so a line read
// back explains itself. Unique constraints, not
// isolation levels, protect money: the dedup key is a UNIQUE column and INSERT ... ON
// CONFLICT DO NOTHING decides which of concurrent records wins, under the default READ
// COMMITTED level (see [Store.WithTx] for what stricter levels change). Driver errors are
// mapped onto the store sentinels (a unique violation is [store.ErrConflict], a
// foreign-key violation [store.ErrInvalid], a serialization failure or deadlock
// [store.ErrSerialization]) with the driver's error kept in the chain for errors.As.
//
// # Counters
//
// An increment ([store.Increment]) is an INSERT ... ON CONFLICT DO UPDATE of the counter's row
// in the statement that writes its record, which takes the row's lock and returns the value
// after the increment; a value past the increment's limit rolls the whole call back
// ([store.ErrLimit]), so that no one ever sees it. Under READ COMMITTED, concurrent writers of
// one counter wait for each other and each adds to the latest committed value: a limit is
// exact. A write's increments take their locks in the order of their counters' names, after
// the conversion's, so concurrent writes of the same counters do not deadlock (a host
// transaction that makes several writes can still meet another in a cycle: PostgreSQL then
// aborts one, which is [store.ErrSerialization]). A write without increments stays one
// statement and one round trip; one with increments runs in a transaction.
//
// A record's player binding is a CTE of the same statement: a first binding is an INSERT ...
// ON CONFLICT (player_id) DO NOTHING, which waits for a concurrent binding of the player and
// keeps it, so that exactly one binding is stored and every record commits; a rebind is an
// UPDATE conditional on every column of the binding it replaces, in a transaction that rolls
// the record back when the UPDATE found the row changed ([store.RebindError]). A reversal
// finds the conversions of its transaction on the partial index conversions_transaction
// (source, transaction_id, received_at, id), with one read; a player's last activity
// (LastActivity) is one entry of the partial index conversions_player_event_time (player_id,
// event time), walked back from its instant.
//
// # Outbox
//
// [Store.LeaseDeliveries] leases due deliveries with one UPDATE over a FOR UPDATE SKIP LOCKED
// subquery: workers in any number of processes skip each other's rows instead of waiting.
// Each lease increments the delivery's fencing token, and [Store.RecordAttempt] checks the
// token and the lease's expiry under the row lock, so a worker whose lease was lost cannot
// record anything. RecordAttempt is one statement, one round trip: the check, the attempt,
// the delivery's new status, its endpoint's state and the attempts it returns.
// [Store.RecordAttempts] ([store.AttemptRecorder]) records a batch of attempts in one
// transaction of three statements, durable with one commit: one for the checks, the
// attempts and the deliveries' new status, one that locks their endpoints' rows in the order
// of their names, and one that writes what the attempts, applied in the order they
// finished, change there. A worker with many attempts in flight pays one commit per batch
// instead of one per attempt.
//
// Endpoint state ([store.EndpointStore]) is a row per known endpoint in the table endpoints.
// RecordAttempt updates it in the statement that records the attempt, only when the attempt
// changes it, with an UPDATE that READ COMMITTED evaluates again under the row's lock, so
// concurrent attempts of one endpoint lose no update, and those that change nothing (the
// failures of an endpoint failing already) wait for no other (BenchmarkRecordAttemptParallel16);
// DisableEndpoint and EnableEndpoint are one conditional statement each, so that of
// concurrent calls exactly one applies.
//
// The lease walks an index of the pending deliveries in leasing order, which leaves out the
// deliveries of disabled endpoints: those are held, in an index of their own by endpoint.
// DisableEndpoint holds the endpoint's pending deliveries (an UPDATE of its backlog, paid
// once: about 1.7 s for 100,000), and a delivery recorded, retried or replayed for a
// disabled endpoint is held as it is written. So a disabled endpoint's backlog, however long,
// costs a lease nothing: with 100,000 due deliveries of a disabled endpoint before the 10 it
// leases, a lease takes what it takes without them (BenchmarkLeaseDeliveries), where walking
// over them took about 50 ms. Holding is a hint that no write locks anything for: the lease
// checks each endpoint's state wherever it finds a delivery, and takes the held deliveries
// of endpoints enabled again (EnableEndpoint leaves them held, and costs nothing in the
// backlog) from their index, in their turn; so a race between a write and a disabling or
// enabling costs at most a delivery walked over, never one leased wrongly or left behind.
// Until vacuum removes them, the old versions that holding a backlog leaves in the walked
// index cost a lease a buffer per heap page of them. The deliveries of an excluded endpoint
// are still walked over, row by row: with 100,000 of them due before the others, a lease
// takes about 14 ms.
//
// ReplayDeliveries is one UPDATE on the index of deliveries by endpoint, status and
// creation, which ListDeliveries by endpoint pages through.
//
// # Parked events
//
// A parked event ([store.ParkedEvent]) is a row of parked_events, unique by its dedup key, and
// [Store.ParkEvent] one INSERT ... ON CONFLICT DO NOTHING, which decides between concurrent
// parks as RecordConversion does between concurrent records. [Store.ChangeStatus] resolves
// the events it applies (ChangeStatusParams.Resolve) with an UPDATE of their rows in its
// second statement, which takes their locks and resolves only those that wait: a concurrent
// resolution of one of them waits for the first to commit, finds it resolved and rolls back
// its whole change ([store.ErrConflict]). A recorded original finds its events on the index
// parked_events_transaction (source, transaction_id, parked_at, id); a sweep lists the ones
// that wait on a partial index of those alone, which stays small however many were resolved.
//
// # Inbound log
//
// The inbound log ([store.InboundStore]) is the table inbound_log, one row per postback
// received. [Store.LogInbound] is one INSERT ... ON CONFLICT (id) DO NOTHING: one statement
// and one round trip, as fast as the same hand-written INSERT (about 0.25 ms durable, on one
// connection: BenchmarkLogInbound). Its row has four index entries, each appended at the end
// of its index: the primary key (IDs are time-ordered), inbound_log_received (received_at,
// id), by which it is listed newest first and pruned, inbound_log_source and
// inbound_log_outcome (source or outcome, received_at, id), by which it is listed per
// source and per outcome; ConversionID is no foreign key, so that logging reads nothing.
// [Store.PruneInbound] deletes the oldest rows 10,000 at a time, each DELETE a statement of
// its own (about 30 ms each), so that a prune of millions never holds a long transaction;
// run it often (hourly, say) so that each run is short. Past some tens of millions of rows a
// day, partition the table by received_at and drop whole partitions instead, as for clicks
// below (the primary key then has to include received_at).
//
// # Revenue facts
//
// Revenue facts ([store.RevenueStore]) are the table revenue_facts, one row per report, its
// amounts BIGINT minor units beside one currency column. [Store.RecordRevenue] is one INSERT
// ... ON CONFLICT DO NOTHING: the unique constraints on the identity (source,
// transaction_id), the ID and the corrected fact (source, corrects) decide among concurrent
// records, and a foreign key from (source, corrects) to the identity refuses a correction of
// a fact not recorded ([store.ErrInvalid]). A period's revenue is listed on
// revenue_facts_affiliate_occurred (affiliate_id, occurred_at, id) or revenue_facts_occurred
// (occurred_at, id), and what came late on revenue_facts_received (received_at, id).
//
// # Reports
//
// [Store.Aggregate] ([store.ReportStore]) is four aggregate queries, one per table (clicks,
// conversions, revenue_facts, ledger_lines), each a GROUP BY over the rows of the periods'
// range that an index finds: for one affiliate, clicks_affiliate_created (read alone, once
// vacuum has marked the pages visible), conversions_affiliate_event_time,
// revenue_facts_affiliate_occurred and ledger_lines_affiliate_statement; a row's period is
// width_bucket of its time over the bounds. TestAggregate_ServedByIndexes proves with
// EXPLAIN that a month of one affiliate of 40 reads no table whole. A report of every
// affiliate reads each table's rows of the range. [Store.CountAttempts] counts an
// endpoint's attempts of a window on delivery_attempts_finished (finished_at, delivery_id,
// status_code, migration 15), joined to their deliveries by primary key.
//
// # Closed periods
//
// Closed periods ([store.PeriodStore]) are the table period_closes, one row per period with
// its carried balances as one JSON array. [Store.ClosePeriod] is one transaction: an INSERT
// ... SELECT that writes the close only when it follows the last one (its start_at is a
// close's end_at) or none exists, ON CONFLICT DO NOTHING on the primary key start_at, the
// unique end_at and the partial unique index of the first close, so that of concurrent
// closes of a period (or first closes) exactly one is written; then its ledger lines, in
// batches of store.MaxLines.
//
// # High click volume and partitioning
//
// [Store.InsertClicks] writes batches with multi-row INSERTs (1,000 rows a statement) in one
// transaction. Click IDs are time-ordered (the UUIDv7 layout of package clickid), so inserts
// append to the primary key index instead of splitting random pages. Clicks have two other
// indexes. clicks_foreign_click_id (foreign_click_id, created_at, id) is partial: it holds
// only the clicks that carry a foreign click ID, so a click without one costs its insert no
// update of it, and [Store.GetClickByForeign] reads a row or two of it, walked back from the
// latest. clicks_affiliate_created (affiliate_id, created_at, campaign_id, migration 15)
// takes every click: it is what reports count an affiliate's clicks from (see # Reports),
// appended to near the end of each affiliate's range, the price of a report that reads no
// click row.
//
// The same property makes the clicks table ready for time partitioning without a new key:
// range-partition it on id, with bounds made from the first millisecond of each period, and
// drop whole partitions for retention. Keep every partition for longer than the longest
// attribution window plus the longest delay a postback can have (a monthly revenue report,
// say), or late conversions will find no click. For example, for November 2026:
//
//	CREATE TABLE s2s.clicks_new (LIKE s2s.clicks INCLUDING ALL) PARTITION BY RANGE (id);
//	CREATE TABLE s2s.clicks_2026_11 PARTITION OF s2s.clicks_new FOR VALUES
//	    FROM ('01a19467-e800-0000-0000-000000000000')  -- 2026-11-01T00:00:00Z in ms, as hex
//	    TO   ('01a22ee6-b000-0000-0000-000000000000'); -- 2026-12-01T00:00:00Z
//	-- copy or attach the existing rows, then swap the tables in one transaction.
//
// A bound is the Unix time in milliseconds as 12 hex digits, followed by zeros:
// (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || repeat('0', 20))::uuid.
//
// # CockroachDB and YugabyteDB
//
// The SQL stays within what both also accept (uuid, jsonb, inet, bytea, partial indexes,
// ON CONFLICT, RETURNING, savepoints, FOR UPDATE SKIP LOCKED), with one exception: Migrate
// takes pg_advisory_xact_lock, which CockroachDB does not implement, so on CockroachDB run
// Migrate from one process, or apply [Migrations] with your own tool.
//
// # Concurrency
//
// A Store is safe for concurrent use; it holds nothing but the pool and its SQL.
package pgstore
