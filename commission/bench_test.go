package commission_test

import (
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/s2skit/s2s/commission"
	"github.com/s2skit/s2s/event"
	"github.com/s2skit/s2s/money"
)

// Each hot benchmark sits beside a baseline of what a user would otherwise write, exact
// arithmetic with math/big.Rat, so the ratio is visible in one run:
// go test -run=NONE -bench=. -benchmem ./commission/

func BenchmarkCPA(b *testing.B) {
	b.ReportAllocs()
	p := cpaPlan()
	in := commission.CPAInput{
		AffiliateID: "aff-1", PlayerID: "player-1", EventID: "dep-1", At: day(3), Country: "DE", Registered: day(0),
		FTD: eur("50"), Deposits: eur("80"), Wagered: eur("300"), Rounds: 40, Verified: true, PeriodCount: 12, PeriodTotal: eur("1200"),
	}
	for b.Loop() {
		l, err := p.CPALine(in)
		if err != nil || l.Amount.Minor() != 15000 {
			b.Fatal(l.Amount, err)
		}
	}
}

// BenchmarkBaselineBigRatCPA is the same qualification and payout with math/big.Rat amounts.
func BenchmarkBaselineBigRatCPA(b *testing.B) {
	b.ReportAllocs()
	rat := func(s string) *big.Rat { r, _ := new(big.Rat).SetString(s); return r }
	minFTD, minDeps, minWager := rat("20"), rat("50"), rat("100")
	countries := map[string]*big.Rat{"DE": rat("150")}
	for b.Loop() {
		ftd, deps, wager := rat("50"), rat("80"), rat("300")
		if ftd.Cmp(minFTD) < 0 || deps.Cmp(minDeps) < 0 || wager.Cmp(minWager) < 0 {
			b.Fatal("not qualified")
		}
		amount := rat("100")
		if c, ok := countries["DE"]; ok {
			amount = c
		}
		if amount.FloatString(2) != "150.00" {
			b.Fatal("wrong amount")
		}
	}
}

// BenchmarkRevShareTiered is one player-month: the MGA NGR of a revenue report and a
// marginal three-band RevShare with an admin fee.
func BenchmarkRevShareTiered(b *testing.B) {
	b.ReportAllocs()
	p := tiered(true)
	p.RevShare.NGR = mga
	p.RevShare.AdminFee = money.MustParseRate("5%")
	rev := commission.Revenue{GGR: eur("84000.17"), Bonuses: eur("1000"), Deposits: eur("20000"), Withdrawals: eur("8000")}
	in := commission.RevShareInput{AffiliateID: "aff-1", Players: 1, CarryIn: eur("-100")}
	for b.Loop() {
		ngr, err := p.NGR(&rev)
		if err != nil {
			b.Fatal(err)
		}
		in.NGR = ngr
		l, _, err := p.RevShareLine(in)
		if err != nil || l.Amount.Minor() != 1_902_485 {
			b.Fatal(l.Amount, err)
		}
	}
}

// BenchmarkBaselineBigRatRevShareTiered is the same computation with math/big.Rat.
func BenchmarkBaselineBigRatRevShareTiered(b *testing.B) {
	b.ReportAllocs()
	rat := func(s string) *big.Rat { r, _ := new(big.Rat).SetString(s); return r }
	from := []*big.Rat{rat("0"), rat("10000"), rat("50000")}
	rates := []*big.Rat{rat("0.25"), rat("0.30"), rat("0.35")}
	hundred := big.NewRat(100, 1)
	round := func(x *big.Rat) *big.Rat { // half-even to cents
		v := new(big.Rat).Mul(x, hundred)
		q, r := new(big.Int).QuoRem(v.Num(), v.Denom(), new(big.Int))
		twice := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
		if c := twice.Cmp(v.Denom()); c > 0 || (c == 0 && q.Bit(0) == 1) {
			if v.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		return new(big.Rat).SetFrac(q, big.NewInt(100))
	}
	for b.Loop() {
		ngr := new(big.Rat).Mul(rat("84000.17"), rat("0.835"))
		ngr.Sub(ngr, rat("1000"))
		ngr.Sub(ngr, new(big.Rat).Mul(rat("20000"), rat("0.1")))
		ngr.Sub(ngr, new(big.Rat).Mul(rat("8000"), rat("0.1")))
		base := new(big.Rat).Add(round(ngr), rat("-100"))
		base.Sub(base, round(new(big.Rat).Mul(base, rat("0.05"))))
		sum := new(big.Rat)
		for i := range from {
			if base.Cmp(from[i]) <= 0 {
				break
			}
			hi := base
			if i+1 < len(from) && from[i+1].Cmp(base) < 0 {
				hi = from[i+1]
			}
			sum.Add(sum, new(big.Rat).Mul(new(big.Rat).Sub(hi, from[i]), rates[i]))
		}
		if round(sum).FloatString(2) != "19024.85" {
			b.Fatal(round(sum).FloatString(2))
		}
	}
}

// BenchmarkStatement replays a month of an affiliate with 10,000 players (a deposit and a
// revenue report each) through a hybrid plan and builds the statement.
func BenchmarkStatement(b *testing.B) {
	b.ReportAllocs()
	p := commission.Plan{ID: "hybrid", Currency: money.EUR,
		CPA:      &commission.CPA{Amount: eur("100"), Baseline: commission.Baseline{MinFTD: eur("20")}, Cap: commission.Cap{Count: 5000}},
		RevShare: &commission.RevShare{NGR: mga, Tiers: tiered(true).RevShare.Tiers, Marginal: true, Carryover: commission.CarryForward},
	}
	g := program(p)
	evs := make([]commission.Event, 0, 20_000)
	for i := range 10_000 {
		id := strconv.Itoa(i)
		at := day(i % 28).Add(time.Duration(i) * time.Second)
		evs = append(evs,
			commission.Event{ID: "d" + id, Type: event.Deposit, At: at, AffiliateID: "aff", PlayerID: id, Amount: money.New(int64(1000+i), money.EUR)},
			commission.Event{ID: "r" + id, Type: event.Revenue, At: at.Add(time.Hour), AffiliateID: "aff", PlayerID: id,
				Revenue: commission.Revenue{GGR: money.New(int64(i*37%50_000-10_000), money.EUR), Bonuses: money.New(int64(i%500), money.EUR)}})
	}
	for b.Loop() {
		res, err := commission.Replay(g, evs, nil)
		if err != nil || len(res.Statements) != 1 || len(res.Statements[0].Lines) != 5001 {
			b.Fatal(err)
		}
	}
}

// BenchmarkRevShareLine is a single RevShare line: a whole-tier RevShare of a given NGR.
func BenchmarkRevShareLine(b *testing.B) {
	b.ReportAllocs()
	p := tiered(false)
	in := commission.RevShareInput{AffiliateID: "aff-1", Players: 1, NGR: eur("12345.67"), CarryIn: eur("-100")}
	for b.Loop() {
		l, _, err := p.RevShareLine(in)
		if err != nil || l.Amount.Minor() != 367_370 {
			b.Fatal(l.Amount, err)
		}
	}
}

// BenchmarkBaselineBigRatRevShareLine is the same with math/big.Rat.
func BenchmarkBaselineBigRatRevShareLine(b *testing.B) {
	b.ReportAllocs()
	rat := func(s string) *big.Rat { r, _ := new(big.Rat).SetString(s); return r }
	from := []*big.Rat{rat("0"), rat("10000"), rat("50000")}
	rates := []*big.Rat{rat("0.25"), rat("0.30"), rat("0.35")}
	for b.Loop() {
		base := new(big.Rat).Add(rat("12345.67"), rat("-100"))
		rate := rates[0]
		for i := range from {
			if from[i].Cmp(base) <= 0 {
				rate = rates[i]
			}
		}
		if s := new(big.Rat).Mul(base, rate).FloatString(2); s != "3673.70" {
			b.Fatal(s)
		}
	}
}

// BenchmarkTrade is one closed trade through an IB plan: a per-lot rebate in points
// (5.00 × 1.3 lots × 1.25 = 8.125 → 8.12, half-even) and a
// damped spread share.
func BenchmarkTrade(b *testing.B) {
	b.ReportAllocs()
	p := ibPlan()
	in := commission.TradeInput{AffiliateID: "ib1", PlayerID: "c", EventID: "t", At: day(2), PeriodLots: money.MustParseRate("150"),
		Trade: commission.Trade{Symbol: "EURUSD", Lots: money.MustParseRate("1.3"), Open: day(1), Close: day(2),
			Spread: money.MustParseRate("0.0005"), AvgSpread: money.MustParseRate("0.0001")}}
	for b.Loop() {
		lot, spread, err := p.TradeLines(in)
		if err != nil || lot.Amount.Minor() != 812 || spread.Amount.Minor() != 260 {
			b.Fatal(lot.Amount, spread.Amount, err)
		}
	}
}
