package money_test

import (
	"sync"

	"github.com/s2skit/s2s/money"
)

// allCurrencies returns every currency that ParseCurrency knows, found by trying all 17,576
// three-letter codes, so that the tests see the table only through the API.
var allCurrencies = sync.OnceValue(func() []money.Currency {
	var all []money.Currency
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			for c := 'A'; c <= 'Z'; c++ {
				if cur, err := money.ParseCurrency(string([]rune{a, b, c})); err == nil {
					all = append(all, cur)
				}
			}
		}
	}
	return all
})

// modes lists every declared rounding mode.
var modes = []money.RoundingMode{money.HalfEven, money.HalfUp, money.Down, money.Up, money.Floor, money.Ceil}

// mustRate is money.MustParseRate, shortened for tables.
func mustRate(s string) money.Rate { return money.MustParseRate(s) }
