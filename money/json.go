package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// MarshalJSON implements [json.Marshaler]. The amount is a JSON string, never a number, so that
// no decoder turns it into a binary floating-point value: {"amount":"150.00","currency":"EUR"}.
// An amount whose currency is not Valid (the zero Amount included) is an error wrapping
// ErrUnknownCurrency.
func (a Amount) MarshalJSON() ([]byte, error) {
	if !a.cur.Valid() {
		return nil, newError(ErrUnknownCurrency, "cannot encode amount %s: currency %s is not a known currency", a, a.cur.describe())
	}
	b := make([]byte, 0, 48)
	b = append(b, `{"amount":"`...)
	b = a.AppendDecimal(b)
	b = append(b, `","currency":"`...)
	b = append(b, a.cur.String()...)
	return append(b, `"}`...), nil
}

// UnmarshalJSON implements [json.Unmarshaler]. It accepts a JSON object with a "currency" (a
// string that ParseCurrency accepts) and exactly one of:
//   - "amount": a JSON string that Parse accepts with nil options, as in
//     {"amount":"150.00","currency":"EUR"}; a JSON number is refused, since many decoders
//     would have read it as a binary floating-point value;
//   - "minor": a JSON integer of minor units (no fraction, no exponent), as in
//     {"minor":15000,"currency":"EUR"}.
//
// Field names are case-sensitive, and unknown or repeated fields are refused. JSON null leaves
// a unchanged, as encoding/json expects; on any error a is unchanged too.
func (a *Amount) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	v, err := decodeAmountJSON(data)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func jsonError(problem string) error {
	return newError(ErrSyntax, "invalid amount JSON: %s", problem)
}

// quoteNumber shows a JSON number (ASCII, nothing to escape) in a message, cut like quote.
func quoteNumber(n json.Number) string {
	if len(n) <= maxQuoted {
		return string(n)
	}
	return string(n[:maxQuoted]) + "… (" + strconv.Itoa(len(n)) + " bytes)"
}

func decodeAmountJSON(data []byte) (Amount, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return Amount{}, jsonError(`want an object such as {"amount":"150.00","currency":"EUR"}`)
	}
	var amount, minor, code string
	var haveAmount, haveMinor, haveCode bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Amount{}, jsonError("malformed JSON")
		}
		key, _ := tok.(string)
		val, err := dec.Token()
		if err != nil {
			return Amount{}, jsonError("malformed JSON")
		}
		var seen *bool
		switch key {
		case "amount":
			seen = &haveAmount
			s, ok := val.(string)
			if n, isNum := val.(json.Number); isNum {
				return Amount{}, jsonError(`"amount" must be a JSON string such as "150.00", not the number ` + quoteNumber(n))
			}
			if !ok {
				return Amount{}, jsonError(`"amount" must be a JSON string such as "150.00"`)
			}
			amount = s
		case "minor":
			seen = &haveMinor
			n, ok := val.(json.Number)
			if !ok {
				return Amount{}, jsonError(`"minor" must be a JSON integer such as 15000`)
			}
			minor = string(n)
		case "currency":
			seen = &haveCode
			s, ok := val.(string)
			if !ok {
				return Amount{}, jsonError(`"currency" must be a JSON string such as "EUR"`)
			}
			code = s
		default:
			return Amount{}, jsonError("unknown field " + quote(key))
		}
		if *seen {
			return Amount{}, jsonError("repeated field " + quote(key))
		}
		*seen = true
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return Amount{}, jsonError("malformed JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Amount{}, jsonError("unexpected data after the object")
	}
	if !haveCode {
		return Amount{}, jsonError(`missing "currency"`)
	}
	if haveAmount == haveMinor {
		return Amount{}, jsonError(`want exactly one of "amount" and "minor"`)
	}
	cur, err := ParseCurrency(code)
	if err != nil {
		return Amount{}, err
	}
	if haveAmount {
		return Parse(amount, cur, nil)
	}
	digits := minor
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return Amount{}, jsonError(`"minor" must be a JSON integer such as 15000, without fraction or exponent, not ` + quoteNumber(json.Number(minor)))
		}
	}
	m, err := strconv.ParseInt(minor, 10, 64)
	if err != nil {
		return Amount{}, newError(ErrOverflow, "invalid amount JSON: \"minor\" %s is out of the int64 range (overflow)", quoteNumber(json.Number(minor)))
	}
	return Amount{minor: m, cur: cur}, nil
}
