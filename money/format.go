package money

import "strings"

// Decimal returns the amount as a decimal string with exactly its currency's exponent of
// decimals: "150.00" for 15000 EUR minor units, "-0.05", "1500" for JPY, "0.0001" for CLF. Parse
// accepts the result and returns a again. An amount with an invalid currency is formatted with
// no decimals.
func (a Amount) Decimal() string {
	var buf [32]byte
	return string(a.AppendDecimal(buf[:0]))
}

// AppendDecimal appends the decimal string that Decimal returns to dst and returns the extended
// buffer. It does not allocate if dst has room.
func (a Amount) AppendDecimal(dst []byte) []byte {
	if a.minor < 0 {
		dst = append(dst, '-')
	}
	return appendFixed(dst, magnitude(a.minor), max(a.cur.Exponent(), 0))
}

// String returns the decimal and the currency code separated by a space: "150.00 EUR". It is
// for people and logs; for an amount without a currency it returns the decimal alone.
func (a Amount) String() string {
	var buf [40]byte
	b := a.AppendDecimal(buf[:0])
	if a.cur != 0 {
		b = append(b, ' ')
		b = append(b, a.cur.String()...)
	}
	return string(b)
}

// AppendText implements [encoding.TextAppender]: it appends the decimal, one space and the
// currency code, as in "150.00 EUR". An amount whose currency is not Valid is an error wrapping
// ErrUnknownCurrency.
func (a Amount) AppendText(b []byte) ([]byte, error) {
	if !a.cur.Valid() {
		return b, newError(ErrUnknownCurrency, "cannot encode amount %s: currency %s is not a known currency", a, a.cur.describe())
	}
	b = a.AppendDecimal(b)
	b = append(b, ' ')
	return append(b, a.cur.String()...), nil
}

// MarshalText implements [encoding.TextMarshaler]: it returns the text that AppendText appends,
// such as "150.00 EUR".
func (a Amount) MarshalText() ([]byte, error) { return a.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts exactly a decimal that Parse
// accepts with nil options (at most the currency's exponent of decimals), one space and a
// currency code that ParseCurrency accepts: "150.00 EUR". Anything else is an error, and a is
// unchanged.
func (a *Amount) UnmarshalText(text []byte) error {
	s := string(text)
	num, code, ok := strings.Cut(s, " ")
	if !ok || num == "" || strings.Contains(code, " ") || len(code) != 3 {
		return newError(ErrSyntax, "invalid amount text %s: want a decimal, one space and a currency code, as in \"150.00 EUR\"", quote(s))
	}
	cur, err := ParseCurrency(code)
	if err != nil {
		return err
	}
	v, err := Parse(num, cur, nil)
	if err != nil {
		return err
	}
	*a = v
	return nil
}
