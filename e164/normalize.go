package e164

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

const (
	// maxInput bounds what reaches the parser, after parameters are
	// dropped: room for a 15-digit number, an international prefix and
	// generous separators.
	maxInput = 64
	// maxDigits is the most digits an E.164 number has, country code
	// included (ITU-T E.164 §6.1).
	maxDigits = 15
	// separators are the characters Normalize ignores.
	separators = " -.()"
)

// Normalize turns a dialled or received number into E.164 with a leading
// '+' ("+351210000000"). raw is a bare number: a Request-URI or To user part,
// or what an agent dialled. country is the ISO 3166-1 alpha-2 code
// (case-insensitive) that national numbers and the international prefix are
// read in.
//
// Parameters after the first ';' (";phone-context=+351") are dropped
// unread, and the separators space, '-', '.', '(' and ')' are ignored. What
// is left must be ASCII digits, optionally after one leading '+'.
//
// The digits are read as follows:
//
//   - "+351210000000": international.
//   - "00351210000000" (the country's international prefix: 00 in PT, GB
//     and DE, 011 in the US): international.
//   - anything else is read as a national number first ("210000000" in PT,
//     "0 20 7946 0000" in GB) and, only when that is not a valid national
//     number but "+" followed by the digits is a valid international number,
//     as international without its '+' ("351210000000" in GB). When neither
//     reading is valid, the national one is kept if its length is possible.
//     In PT "351210000000" is thus +351210000000, but in DE it is the valid
//     Dresden number +49351210000000.
//
// The result must have a possible length for its country calling code (see
// the package documentation on why validity is not required). A number that
// is only possible as a local number without its area code (US "555 0123"),
// and short codes such as "112", are errors wrapping ErrInvalid. An unknown
// country is an error wrapping ErrCountry; an empty country reads only
// international numbers ("+351210000000").
func Normalize(raw, country string) (string, error) {
	s, err := clean(raw)
	if err != nil {
		return "", err
	}
	region := unknownRegion
	if country != "" || s[0] != '+' {
		if region, err = regionOf(country); err != nil {
			return "", err
		}
	}
	n, err := read(raw, s, region)
	if err != nil {
		return "", err
	}
	e := phonenumbers.Format(n, phonenumbers.E164)
	switch {
	case len(e)-1 > maxDigits: // metadata without length rules lets these through
		return "", invalid(raw, "too long")
	case n.GetNationalNumber() == 0 || !isE164(e): // formats as the raw input
		return "", invalid(raw, "no subscriber number")
	case e != s && !stable(e, region):
		return "", invalid(raw, "reads back as another number")
	}
	return e, nil
}

// read parses s, raw cleaned, in region as Normalize documents.
func read(raw, s, region string) (*phonenumbers.PhoneNumber, error) {
	n := &phonenumbers.PhoneNumber{}
	if s[0] == '+' {
		if err := phonenumbers.ParseToNumber(s, region, n); err != nil {
			return nil, invalid(raw, err.Error())
		}
		return n, possible(raw, region, n)
	}
	nerr := phonenumbers.ParseAndKeepRawInputToNumber(s, region, n)
	switch {
	case nerr != nil:
	case n.GetCountryCodeSource() == phonenumbers.PhoneNumber_FROM_NUMBER_WITH_IDD:
		return n, possible(raw, region, n)
	case phonenumbers.IsValidNumber(n):
		return n, nil
	}
	intl := &phonenumbers.PhoneNumber{}
	if phonenumbers.ParseToNumber("+"+s, region, intl) == nil && phonenumbers.IsValidNumber(intl) {
		return intl, nil
	}
	if nerr != nil {
		return nil, invalid(raw, nerr.Error())
	}
	return n, possible(raw, region, n)
}

// possible reports why n's length is not possible for its country calling
// code, if it is not.
func possible(raw, region string, n *phonenumbers.PhoneNumber) error {
	why := phonenumbers.IsPossibleNumberWithReason(n)
	switch {
	case why == phonenumbers.IS_POSSIBLE:
		return nil
	case why == phonenumbers.INVALID_COUNTRY_CODE:
		return invalid(raw, "unknown country calling code")
	case phonenumbers.IsValidShortNumberForRegion(n, region):
		return invalid(raw, "short code, which has no E.164 form")
	case why == phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return invalid(raw, "local number without its area code")
	case why == phonenumbers.TOO_LONG:
		return invalid(raw, "too long")
	default:
		return invalid(raw, "too short or wrong length")
	}
}

// stable reports whether e reads back as itself. The parser strips what
// looks like a national prefix after the country code, so a possible but
// invalid number can shrink each time it is read ("+358002000000" becomes
// "+35802000000"); Normalize rejects those rather than return a number that
// it would change again.
func stable(e, region string) bool {
	var n phonenumbers.PhoneNumber
	return phonenumbers.ParseToNumber(e, region, &n) == nil && phonenumbers.Format(&n, phonenumbers.E164) == e
}

// clean drops parameters and separators from raw and checks that what is
// left is digits after an optional '+'. It returns a substring of raw when
// there was nothing to drop.
func clean(raw string) (string, error) {
	s, _, _ := strings.Cut(raw, ";")
	if len(s) > maxInput {
		return "", invalid(raw, "too long")
	}
	var b []byte // nil until a separator is dropped
	digits := 0
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '+' && digits == 0 && !strings.Contains(s[:i], "+"):
		case strings.IndexByte(separators, c) >= 0:
			if b == nil {
				b = make([]byte, i, len(s))
				copy(b, s[:i])
			}
			continue
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return "", invalid(raw, fmt.Sprintf("unexpected %q", r))
		}
		if b != nil {
			b = append(b, c)
		}
	}
	if digits == 0 {
		return "", invalid(raw, "no digits")
	}
	if b != nil {
		return string(b), nil
	}
	return s, nil
}

// regionOf checks country and returns it in upper case.
// ValidCountry checks that country is an ISO 3166-1 alpha-2 code the
// numbering data knows (any case); the error wraps ErrCountry.
func ValidCountry(country string) error {
	_, err := regionOf(country)
	return err
}

func regionOf(country string) (string, error) {
	if len(country) != 2 {
		return "", fmt.Errorf("%w %q: want an ISO 3166-1 alpha-2 code such as \"PT\"", ErrCountry, country)
	}
	region := strings.ToUpper(country)
	if phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return "", fmt.Errorf("%w %q", ErrCountry, country)
	}
	return region, nil
}

// unknownRegion is libphonenumber's region for numbers read without a
// country: only international numbers ("+...") can be.
const unknownRegion = "ZZ"

// invalid reports raw as an invalid number, quoting at most maxInput bytes
// of it.
func invalid(raw, reason string) error {
	if len(raw) > maxInput {
		return fmt.Errorf("%w %q...: %s", ErrInvalid, raw[:maxInput], reason)
	}
	return fmt.Errorf("%w %q: %s", ErrInvalid, raw, reason)
}
