package money_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/s2skit/s2s/money"
)

func ExampleParse() {
	deposit, err := money.Parse("150.00", money.EUR, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(deposit, deposit.Minor())

	_, err = money.Parse("1e3", money.EUR, nil)
	fmt.Println(err)

	_, err = money.Parse("10.005", money.EUR, nil)
	fmt.Println(errors.Is(err, money.ErrPrecision), err)

	rounded, err := money.Parse("10.005", money.EUR, &money.ParseOptions{Round: true, Mode: money.HalfUp})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rounded)

	comma, err := money.Parse("1500,5", money.KWD, &money.ParseOptions{DecimalComma: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(comma)
	// Output:
	// 150.00 EUR 15000
	// money: invalid amount "1e3": exponent notation is not allowed
	// true money: invalid amount "10.005" for EUR: 3 decimal places, EUR allows 2
	// 10.01 EUR
	// 1500.500 KWD
}

func ExampleAmount_MulRate() {
	deposit := money.MustParse("150.00", money.EUR)
	commission, err := deposit.MulRate(money.MustParseRate("35%"), money.HalfEven)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(commission)

	// 0.05 EUR × 0.5 is 2.5 cents: the rounding mode decides, once.
	tie := money.MustParse("0.05", money.EUR)
	for _, mode := range []money.RoundingMode{money.HalfEven, money.HalfUp, money.Down} {
		v, err := tie.MulRate(money.MustParseRate("0.5"), mode)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(mode, v)
	}

	_, err = money.New(1<<62, money.EUR).MulRate(money.MustParseRate("2"), money.HalfEven)
	fmt.Println(errors.Is(err, money.ErrOverflow))
	// Output:
	// 52.50 EUR
	// half_even 0.02 EUR
	// half_up 0.03 EUR
	// down 0.02 EUR
	// true
}

func ExampleAmount_Allocate() {
	// Foemmel's conundrum: split 5 cents 30/70 without losing a cent.
	parts, err := money.MustParse("0.05", money.EUR).Allocate(30, 70)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(parts)

	thirds, err := money.MustParse("100.00", money.EUR).Allocate(1, 1, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(thirds)

	// A clawback splits as the mirror image.
	clawback, err := money.MustParse("-100.00", money.EUR).Allocate(1, 1, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(clawback)
	// Output:
	// [0.02 EUR 0.03 EUR]
	// [33.34 EUR 33.33 EUR 33.33 EUR]
	// [-33.34 EUR -33.33 EUR -33.33 EUR]
}

func ExampleAmount_Convert() {
	commission := money.MustParse("52.50", money.EUR)
	c, err := commission.Convert(money.ExchangeRate{
		From:   money.EUR,
		To:     money.USD,
		Rate:   money.MustParseRate("1.0843"),
		Source: "ECB",
		At:     time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC),
	}, money.HalfEven)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Amount)
	fmt.Printf("%s at %s (%s, %s), %s\n", c.Original, c.Rate.Rate, c.Rate.Source, c.Rate.At.Format(time.DateOnly), c.Mode)

	// Between exponents: 1 KWD = 492.1 JPY.
	jpy, err := money.MustParse("1.001", money.KWD).Convert(money.ExchangeRate{
		From: money.KWD, To: money.JPY, Rate: money.MustParseRate("492.1"), Source: "ECB", At: c.Rate.At,
	}, money.HalfUp)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(jpy.Amount)
	// Output:
	// 56.93 USD
	// 52.50 EUR at 1.0843 (ECB, 2026-11-23), half_even
	// 493 JPY
}

func ExampleParseRate() {
	for _, s := range []string{"0.35", "12.5%", "25bp", "1.0843", "-3"} {
		r, err := money.ParseRate(s)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s, "=", r)
	}
	fmt.Println(money.MustParseRate("0.50") == money.MustParseRate("50%"))
	_, err := money.ParseRate("1e-3")
	fmt.Println(err)
	// Output:
	// 0.35 = 0.35
	// 12.5% = 0.125
	// 25bp = 0.0025
	// 1.0843 = 1.0843
	// -3 = -3
	// true
	// money: invalid rate "1e-3": exponent notation is not allowed
}

func ExampleAmount_MarshalJSON() {
	b, err := json.Marshal(money.MustParse("150.00", money.EUR))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))

	var a money.Amount
	if err := json.Unmarshal([]byte(`{"minor":1500,"currency":"JPY"}`), &a); err != nil {
		log.Fatal(err)
	}
	fmt.Println(a)

	err = json.Unmarshal([]byte(`{"amount":150.00,"currency":"EUR"}`), &a)
	fmt.Println(err)
	// Output:
	// {"amount":"150.00","currency":"EUR"}
	// 1500 JPY
	// money: invalid amount JSON: "amount" must be a JSON string such as "150.00", not the number 150.00
}
