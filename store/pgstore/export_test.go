package pgstore

import "github.com/s2skit/s2s/store"

// LeaseStatement returns the SQL and the arguments of the statement that LeaseDeliveries
// runs for p, for tests that explain it.
func (s *Store) LeaseStatement(p store.LeaseParams) (string, []any) {
	w := s.leaseStatement(p, store.NormalizeTime(p.Now), store.NormalizeTime(p.Now.Add(p.LeaseFor)))
	return w.String(), w.args
}
