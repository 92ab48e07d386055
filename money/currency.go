package money

import "strconv"

// Currency is an ISO 4217 currency. It is a small comparable value: the three upper-case
// letters of the code packed into 15 bits as (l0-'@')<<10 | (l1-'@')<<5 | (l2-'@'), so that
// numeric order is alphabetical order. The zero value means "no currency" and is not valid.
//
// The package knows the currencies of its table (see the package documentation); a Currency
// built by conversion from another number is not Valid unless it is one of them.
type Currency uint16

// currencyInfo is one row of currencyTable.
type currencyInfo struct {
	cur  Currency
	code string
	exp  int8
	name string
}

// find returns the index of c in currencyTable, or -1. It does not allocate.
func find(c Currency) int {
	for h := currencyHash(c); ; h++ {
		i := currencySlots[h]
		if i == 0 {
			return -1
		}
		if currencyTable[i-1].cur == c {
			return int(i - 1)
		}
	}
}

// currencySlots is an open-addressing hash table over currencyTable: each slot holds an
// index+1, or 0 for an empty slot. With 170 currencies in 256 slots a lookup reads one or
// two slots; a uint8 slot index wraps around by itself.
var currencySlots = func() (t [256]uint8) {
	for i, ci := range currencyTable {
		h := currencyHash(ci.cur)
		for t[h] != 0 {
			h++
		}
		t[h] = uint8(i + 1)
	}
	return t
}()

// currencyHash is Fibonacci hashing of c to a slot of currencySlots.
func currencyHash(c Currency) uint8 {
	return uint8(uint32(c) * 0x9E3779B1 >> 24)
}

// ParseCurrency returns the Currency for an ISO 4217 code of exactly three ASCII letters, in
// any case ("EUR", "eur"). Anything else, and any code not in the package's table, is an
// error wrapping ErrUnknownCurrency. It does not allocate on success.
func ParseCurrency(code string) (Currency, error) {
	if len(code) != 3 {
		return 0, newError(ErrUnknownCurrency, "unknown currency %s: a currency code is 3 ASCII letters", quote(code))
	}
	var c Currency
	for i := range 3 {
		b := code[i]
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		if b < 'A' || b > 'Z' {
			return 0, newError(ErrUnknownCurrency, "unknown currency %s: a currency code is 3 ASCII letters", quote(code))
		}
		c = c<<5 | Currency(b-'@')
	}
	if find(c) < 0 {
		return 0, newError(ErrUnknownCurrency, "unknown currency %s: not in the ISO 4217 table", quote(code))
	}
	return c, nil
}

// String returns the ISO 4217 code, such as "EUR". The zero Currency returns "", and any other
// invalid value returns "%!Currency(N)" with its number.
func (c Currency) String() string {
	if i := find(c); i >= 0 {
		return currencyTable[i].code
	}
	if c == 0 {
		return ""
	}
	return "%!Currency(" + strconv.Itoa(int(c)) + ")"
}

// Exponent returns the number of decimal places of the currency's minor unit (ISO 4217 "minor
// units"): 2 for EUR, 0 for JPY, 3 for KWD, 4 for CLF. It returns -1 if c is not Valid.
func (c Currency) Exponent() int {
	if i := find(c); i >= 0 {
		return int(currencyTable[i].exp)
	}
	return -1
}

// Valid reports whether c is a currency of the package's table. The zero value is not valid.
func (c Currency) Valid() bool { return find(c) >= 0 }

// AppendText implements [encoding.TextAppender]: it appends the code, such as "EUR". It returns
// an error wrapping ErrUnknownCurrency if c is not Valid.
func (c Currency) AppendText(b []byte) ([]byte, error) {
	i := find(c)
	if i < 0 {
		return b, newError(ErrUnknownCurrency, "cannot encode currency %s: not a known currency", c.describe())
	}
	return append(b, currencyTable[i].code...), nil
}

// MarshalText implements [encoding.TextMarshaler]: it returns the code, such as "EUR". It returns
// an error wrapping ErrUnknownCurrency if c is not Valid.
func (c Currency) MarshalText() ([]byte, error) { return c.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler]: it accepts what ParseCurrency accepts.
// On error, c is unchanged.
func (c *Currency) UnmarshalText(text []byte) error {
	v, err := ParseCurrency(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// describe names c in an error message, including the zero value.
func (c Currency) describe() string {
	if c == 0 {
		return "(none)"
	}
	return c.String()
}
