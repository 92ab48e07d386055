// Package pgstore will hold the PostgreSQL implementation of the store contract, over
// database/sql (the host brings the driver), with embedded migrations, ...Tx methods that join
// the host's own transaction, and leasing of outbound deliveries with FOR UPDATE SKIP LOCKED.
//
// Its tests run against the server named by S2S_TEST_POSTGRES_URL and are skipped without it.
// This package has no code yet.
package pgstore
