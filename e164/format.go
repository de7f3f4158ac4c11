package e164

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.38.0 -type=Style -linecomment -output=style_string.go

// Style is how a trunk wants a number written in the Request-URI user part.
// Its String is the config spelling that ParseStyle reads.
type Style int

const (
	// StyleUnknown is the zero Style; Format rejects it.
	StyleUnknown Style = iota // unknown
	// E164 is the number with its '+': "+351210000000".
	E164 // e164
	// E164NoPlus is the number without its '+': "351210000000".
	E164NoPlus // e164_no_plus
	// National is the number as dialled inside the trunk's country,
	// digits only and with the national trunk prefix where the country
	// uses one: GB "02079460000", PT "210000000", US "2125550123". A number
	// of another country calling code is written as International instead.
	National // national
	// International is the trunk country's international prefix, the
	// country calling code and the national number: "00351210000000" from
	// PT or GB, "011351210000000" from the US. Numbers of the trunk's own
	// country are written this way too.
	International // international
)

// ParseStyle reads a style as written in config: "e164", "e164_no_plus",
// "national" or "international", in any case.
func ParseStyle(s string) (Style, error) {
	for st := E164; st <= International; st++ {
		if strings.EqualFold(s, st.String()) {
			return st, nil
		}
	}
	return StyleUnknown, fmt.Errorf("%w %q: want e164, e164_no_plus, national or international", ErrStyle, s)
}

// UnmarshalText lets a Style be a config field; it reads what ParseStyle
// reads.
func (s *Style) UnmarshalText(text []byte) error {
	st, err := ParseStyle(string(text))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// Validate reports whether Format can write every number in style s for a
// trunk in country. National and International need the country's single
// international prefix: countries where the caller picks a carrier in it
// (BR, CO, KR, ...) have none, and must use E164 or E164NoPlus. Call it when
// the trunk's config is loaded, so that Format does not fail mid-call.
func (s Style) Validate(country string) error {
	region, err := regionOf(country)
	if err != nil {
		return err
	}
	switch s {
	case E164, E164NoPlus:
		return nil
	case National, International:
		_, err := internationalPrefix(region)
		return err
	default:
		return fmt.Errorf("%w %s", ErrStyle, s)
	}
}

// Format writes e164, a number as Normalize returns it, in the style a trunk
// in country wants, after techPrefix: the provider's routing prefix, digits,
// '*' and '#' ("1234#"), empty for most trunks. The result goes in the
// Request-URI user part.
//
// A National number of another country calling code than the trunk's is
// written as International, the way a person in that country would dial it
// (NANPA countries share +1, so a US trunk writes a Canadian number
// nationally). Errors wrap ErrInvalid (e164 or techPrefix), ErrCountry or
// ErrStyle (see Style.Validate).
func Format(e164 string, style Style, country, techPrefix string) (string, error) {
	region, err := regionOf(country)
	if err != nil {
		return "", err
	}
	if strings.Trim(techPrefix, "0123456789*#") != "" {
		return "", fmt.Errorf("%w: tech prefix %q: want digits, '*' and '#'", ErrInvalid, techPrefix)
	}
	var n phonenumbers.PhoneNumber
	if err := parseE164(e164, region, &n); err != nil {
		return "", err
	}
	switch style {
	case E164:
		return techPrefix + e164, nil
	case E164NoPlus:
		return techPrefix + e164[1:], nil
	case National:
		if int(n.GetCountryCode()) == phonenumbers.GetCountryCodeForRegion(region) {
			return techPrefix + digitsOnly(phonenumbers.Format(&n, phonenumbers.NATIONAL)), nil
		}
		fallthrough
	case International:
		idd, err := internationalPrefix(region)
		if err != nil {
			return "", err
		}
		return techPrefix + idd + e164[1:], nil
	default:
		return "", fmt.Errorf("%w %s", ErrStyle, style)
	}
}

// parseE164 parses s into n, and checks that s is in the form Normalize
// returns.
func parseE164(s, region string, n *phonenumbers.PhoneNumber) error {
	if !isE164(s) {
		return invalid(s, "not in E.164 form (+ and up to 15 digits)")
	}
	if err := phonenumbers.ParseToNumber(s, region, n); err != nil {
		return invalid(s, err.Error())
	}
	if phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE ||
		phonenumbers.Format(n, phonenumbers.E164) != s {
		return invalid(s, "not in E.164 form (normalize it first)")
	}
	return nil
}

// isE164 reports whether s is '+' and 1 to 15 ASCII digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 2 || len(s) > maxDigits+1 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
}

// internationalPrefix returns the digits dialled in region before a country
// calling code: 00 in most of Europe, 011 in NANPA, 0011 in AU. Where the
// numbering data has several prefixes and prefers one, that one is used;
// the wait-for-tone mark of "8~10" (RU) is dropped.
func internationalPrefix(region string) (string, error) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return "", fmt.Errorf("e164: numbering data: %w", err)
	}
	for _, m := range coll.GetMetadata() {
		if m.GetId() != region {
			continue
		}
		p := m.GetPreferredInternationalPrefix()
		if p == "" {
			p = m.GetInternationalPrefix()
		}
		p = strings.ReplaceAll(p, "~", "")
		if p == "" || strings.Trim(p, "0123456789") != "" {
			break
		}
		return p, nil
	}
	return "", fmt.Errorf("%w: country %q has no single international prefix (use e164 or e164_no_plus)", ErrStyle, region)
}

// digitsOnly drops everything but ASCII digits from s.
func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
