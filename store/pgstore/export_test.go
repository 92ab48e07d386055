package pgstore

import "github.com/s2skit/s2s/store"

// LeaseStatement returns the SQL and the arguments of the statement that LeaseDeliveries
// runs for p, for tests that explain it.
func (s *Store) LeaseStatement(p store.LeaseParams) (string, []any) {
	w := s.leaseStatement(p, store.NormalizeTime(p.Now), store.NormalizeTime(p.Now.Add(p.LeaseFor)))
	return w.String(), w.args
}

// ReportStatements returns the SQL and the arguments of the statements that Aggregate runs
// for p, by table, and of CountAttempts for c, under "delivery_attempts", for tests that
// explain them.
func (s *Store) ReportStatements(p store.AggregateParams, c store.CountAttemptsParams) map[string]struct {
	SQL  string
	Args []any
} {
	out := map[string]struct {
		SQL  string
		Args []any
	}{}
	for name, w := range map[string]*stmt{
		"clicks": s.clicksAggregate(p), "conversions": s.conversionsAggregate(p), "revenue_facts": s.revenueAggregate(p),
		"ledger_lines": s.ledgerAggregate(p), "delivery_attempts": s.attemptsCount(c),
	} {
		out[name] = struct {
			SQL  string
			Args []any
		}{w.String(), w.args}
	}
	return out
}
