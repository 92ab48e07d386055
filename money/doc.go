// Package money is exact money for affiliate commissions: amounts in whole minor units of an
// ISO 4217 currency, exact rates, explicit rounding, strict parsing, allocation that never loses
// a cent, and currency conversion that records the rate it used.
//
// An operator trusts s2s with what its affiliates are paid, so this package never approximates:
//
//   - An [Amount] is an int64 count of the currency's minor units (cents for EUR, yen for JPY,
//     fils for KWD) plus its [Currency]. That is how payment systems store and move money, it
//     adds, subtracts and compares exactly, and it holds up to ±92,233,720,368,547,758.07 EUR.
//   - A [Rate] is an exact decimal, an integer coefficient and a power of ten: "0.35" is 35/100,
//     not the nearest binary fraction. [Amount.MulRate] computes the exact product in 128 bits
//     and rounds it once, with the [RoundingMode] the caller names. A commission is rounded in
//     one step, never twice; [Amount.Convert] does the same for currency conversion.
//   - No binary floating point is used anywhere, in the API or inside: it cannot represent 0.10,
//     and every rounding it hides is a cent someone disputes. JSON amounts are strings, so no
//     decoder turns them into one. A test checks the package's sources for it.
//   - Overflow is an error ([ErrOverflow]), never a wrap-around; and no function panics except
//     [MustParse] and [MustParseRate].
//
// A sketch of a RevShare commission, split with a sub-affiliate and paid in dollars:
//
//	deposit, err := money.Parse("150.00", money.EUR, nil) // from a postback
//	...
//	commission, err := deposit.MulRate(money.MustParseRate("35%"), money.HalfEven) // 52.50 EUR
//	...
//	shares, err := commission.Allocate(80, 20) // 42.00 EUR and 10.50 EUR, summing to 52.50 EUR
//	...
//	paid, err := shares[0].Convert(money.ExchangeRate{
//		From: money.EUR, To: money.USD, Rate: money.MustParseRate("1.0843"),
//		Source: "ECB", At: fixing, // recorded in paid.Rate, so the conversion can be explained
//	}, money.HalfEven) // paid.Amount is 45.54 USD
//
// # Grammar
//
// [Parse] and [ParseRate] accept one strict decimal grammar, the same everywhere:
//
//	amount = [ "-" ] digit { digit } [ "." digit { digit } ]
//	rate   = amount [ "%" | "bp" | "bps" ]
//
// where digit is an ASCII 0-9. Leading zeros are allowed ("007.50") and "-0" is zero. Nothing
// else is: no "+", whitespace, thousands or "_" separators, exponents ("1e3"), hexadecimal,
// NaN, infinities, non-ASCII digits, or a missing integer or fraction part ("1.", ".5"). A
// decimal comma is accepted only with [ParseOptions].DecimalComma, and then "1,000" means one.
// An amount may have no more decimals than its currency's exponent (trailing zeros count)
// unless [ParseOptions].Round asks for rounding. Each refusal names its problem and quotes the
// input, cut to 32 bytes so that a hostile request body never lands whole in a log.
//
// # Currencies
//
// The currency table (currency_table.go) holds the 170 ISO 4217 currencies with their minor
// units: the codes and names of Debian iso-codes 4.15 (iso_4217.json), plus ZWG (Zimbabwe Gold,
// 2024) and XCG (Caribbean Guilder, 2025), minus the non-currency codes without minor units
// (XAU, XDR, XTS, XXX and the like). Codes withdrawn recently (ANG, CUC, HRK, SLL, ZWL, ...) are
// kept on purpose, so that historical records still parse. The exponents are ISO's: 0 for JPY,
// KRW, CLP and 14 others, 3 for BHD, IQD, JOD, KWD, LYD, OMR and TND, 4 for CLF and UYW, 2 for
// the rest. Payment providers sometimes use other exponents (ISK, HUF, TWD); convert to their
// minor units at that boundary, never by guessing an exponent from an amount string.
//
// # Encoding
//
// An Amount encodes as text "150.00 EUR" and as JSON {"amount":"150.00","currency":"EUR"}; JSON
// decoding also accepts {"minor":15000,"currency":"EUR"} and refuses a JSON number for
// "amount". A Rate encodes as its canonical decimal ("0.125"), a Currency as its code and a
// RoundingMode as its name ("half_even"). Amounts are stored as int64 minor units plus the
// three-letter code.
//
// # Concurrency
//
// Every type in the package is an immutable value (or, for [ExchangeRate] and [Converted], a
// plain struct of values); no method modifies its receiver except the Unmarshal methods, and
// the package has no mutable state. Values may be shared freely between goroutines.
//
// # Errors
//
// Every error wraps exactly one sentinel, for [errors.Is]: [ErrSyntax] (not the grammar),
// [ErrPrecision] (too many decimals), [ErrOverflow] (beyond int64), [ErrCurrencyMismatch]
// (amounts or a rate in different currencies), [ErrUnknownCurrency] (not in the table),
// [ErrInvalidRate] (a bad Rate scale or ExchangeRate), [ErrInvalidWeights] (bad Allocate
// weights) and [ErrInvalidMode] (an undeclared RoundingMode). The message names the operation,
// the values and the problem, as in
//
//	money: invalid amount "10.005" for EUR: 3 decimal places, EUR allows 2
//	money: add 1.00 EUR and 1.00 USD: currency mismatch
package money
