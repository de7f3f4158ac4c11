package dtmf

import "strconv"

// Digit is a DTMF key: one of the ASCII characters '0'-'9', '*', '#' and
// 'A'-'D'. Other values, the zero value among them, are not valid digits.
type Digit byte

// eventDigits maps RFC 4733 §3.2 event codes 0-15 to their digits.
const eventDigits = "0123456789*#ABCD"

// Valid reports whether d is one of '0'-'9', '*', '#' and 'A'-'D'.
func Valid(d Digit) bool {
	_, ok := EventCode(d)
	return ok
}

// EventCode returns the RFC 4733 §3.2 event code of d: 0-9 for '0'-'9', 10
// for '*', 11 for '#' and 12-15 for 'A'-'D'. ok is false if d is not Valid.
func EventCode(d Digit) (code uint8, ok bool) {
	switch {
	case d >= '0' && d <= '9':
		return uint8(d - '0'), true
	case d == '*':
		return 10, true
	case d == '#':
		return 11, true
	case d >= 'A' && d <= 'D':
		return uint8(d-'A') + 12, true
	default:
		return 0, false
	}
}

// FromEventCode returns the digit of RFC 4733 §3.2 event code 0-15. ok is
// false for any other code (16 is flash, the rest are not DTMF).
func FromEventCode(code uint8) (d Digit, ok bool) {
	if code >= uint8(len(eventDigits)) {
		return 0, false
	}
	return Digit(eventDigits[code]), true
}

// String returns the digit as a one-character string ("5", "#"), or
// "Digit(n)" with its numeric value if d is not Valid.
func (d Digit) String() string {
	if code, ok := EventCode(d); ok {
		return eventDigits[code : code+1]
	}
	return "Digit(" + strconv.Itoa(int(d)) + ")"
}

// parseDigit returns the digit written as c, accepting 'a'-'d' for 'A'-'D'.
func parseDigit(c byte) (Digit, bool) {
	if c >= 'a' && c <= 'd' {
		c -= 'a' - 'A'
	}
	d := Digit(c)
	return d, Valid(d)
}
