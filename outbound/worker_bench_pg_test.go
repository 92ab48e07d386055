package outbound_test

import (
	"testing"

	"github.com/s2skit/s2s/internal/pgtest"
)

// BenchmarkWorker_ThroughputPostgres delivers each batch through a Worker on pgstore, on a
// schema of its own: to compare with BenchmarkWorker_BareClientBaseline and
// BenchmarkWorker_Throughput (memstore) in worker_bench_test.go, in the same run. It skips
// without S2S_TEST_POSTGRES_URL.
//
//	go test -run=NONE -bench=Worker -benchmem ./outbound/
func BenchmarkWorker_ThroughputPostgres(b *testing.B) {
	st, _ := pgtest.Store(b)
	benchWorker(b, st)
}
