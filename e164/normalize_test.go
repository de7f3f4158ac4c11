package e164

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		country string
		want    string
		err     error // sentinel the error wraps; nil for success
	}{
		// International with '+': the country does not matter.
		{"plus PT", "+351210000000", "PT", "+351210000000", nil},
		{"plus other country", "+351210000000", "US", "+351210000000", nil},
		{"plus with separators", "+351 21-000.0000", "GB", "+351210000000", nil},
		{"plus GB national prefix in parentheses", "+44 (0) 20 7946 0000", "GB", "+442079460000", nil},
		{"plus DE mobile", "+49 1512 3456789", "PT", "+4915123456789", nil},
		{"plus US test range 555-01xx", "+1 202 555 0100", "PT", "+12025550100", nil},
		{"plus NANPA 500 test number", "+15005550006", "US", "+15005550006", nil},
		{"plus IT keeps leading zero", "+39 06 1234 5678", "PT", "+390612345678", nil},
		{"plus non-geographic 800", "+800 1234 5678", "DE", "+80012345678", nil},
		{"plus GB mobile drama range (invalid, possible)", "+44 7700 900123", "PT", "+447700900123", nil},
		{"plus FR fictional range (invalid, possible)", "+33 6 39 98 00 00", "DE", "+33639980000", nil},

		// The country's international prefix.
		{"00 from PT", "00351210000000", "PT", "+351210000000", nil},
		{"00 from GB", "00 351 21 000 0000", "GB", "+351210000000", nil},
		{"00 from DE", "0044 20 7946 0000", "DE", "+442079460000", nil},
		{"011 from US", "011 44 20 7946 0000", "US", "+442079460000", nil},
		{"00 is not the US prefix", "00442079460000", "US", "", ErrInvalid},
		{"0011 from AU", "0011 351 210000000", "AU", "+351210000000", nil},
		{"810 from RU", "810 351210000000", "RU", "+351210000000", nil},

		// National.
		{"PT national", "210000000", "PT", "+351210000000", nil},
		{"PT national lower-case country", "21 000 0000", "pt", "+351210000000", nil},
		{"GB national with trunk prefix", "0 20 7946 0000", "GB", "+442079460000", nil},
		{"GB national dashes", "020-7946-0000", "GB", "+442079460000", nil},
		{"US national", "(212) 555-0123", "US", "+12125550123", nil},
		{"US national with 1", "1-212-555-0123", "US", "+12125550123", nil},
		{"US 555-0100 test range", "202.555.0100", "US", "+12025550100", nil},
		{"DE national", "030 123456", "DE", "+4930123456", nil},
		{"DE mobile", "01512 3456789", "DE", "+4915123456789", nil},
		{"GB mobile drama range national", "07700 900123", "GB", "+447700900123", nil},

		// International without '+', read only when not a valid national number.
		{"no plus PT in PT", "351210000000", "PT", "+351210000000", nil},
		{"no plus PT in GB", "351210000000", "GB", "+351210000000", nil},
		{"no plus PT in US", "351210000000", "US", "+351210000000", nil},
		{"no plus GB in GB", "442079460000", "GB", "+442079460000", nil},
		{"no plus DE in DE", "4930123456", "DE", "+4930123456", nil},
		{"no plus in DE is national Dresden", "351210000000", "DE", "+49351210000000", nil},

		// Parameters are dropped unread.
		{"phone-context", "210000000;phone-context=+351", "PT", "+351210000000", nil},
		{"phone-context other country", "+442079460000;phone-context=+351", "PT", "+442079460000", nil},
		{"parameter only", ";phone-context=+351", "PT", "", ErrInvalid},

		// Invalid numbers.
		{"empty", "", "PT", "", ErrInvalid},
		{"plus only", "+", "PT", "", ErrInvalid},
		{"separators only", " - ", "PT", "", ErrInvalid},
		{"00 only", "00", "PT", "", ErrInvalid},
		{"00 and country code only", "00351", "PT", "", ErrInvalid},
		{"letters", "21000000a", "PT", "", ErrInvalid},
		{"vanity letters", "1-800-FLOWERS", "US", "", ErrInvalid},
		{"sip scheme", "sip:210000000", "PT", "", ErrInvalid},
		{"tel scheme", "tel:+351210000000", "PT", "", ErrInvalid},
		{"extension", "210000000 ext 12", "PT", "", ErrInvalid},
		{"star", "*72", "PT", "", ErrInvalid},
		{"hash", "210000000#", "PT", "", ErrInvalid},
		{"tab", "21\t0000000", "PT", "", ErrInvalid},
		{"plus in the middle", "21+0000000", "PT", "", ErrInvalid},
		{"two pluses", "++351210000000", "PT", "", ErrInvalid},
		{"devanagari digits", "२१००००००००", "PT", "", ErrInvalid},
		{"fullwidth digits", "２１００００００００", "PT", "", ErrInvalid},
		{"too short national", "2100", "PT", "", ErrInvalid},
		{"too short international", "+3512100", "PT", "", ErrInvalid},
		{"too long national", "2100000000", "PT", "", ErrInvalid},
		{"20 digits", "12345678901234567890", "PT", "", ErrInvalid},
		{"20 digits plus", "+12345678901234567890", "PT", "", ErrInvalid},
		{"very long", strings.Repeat("1", 1000), "PT", "", ErrInvalid},
		{"unknown country calling code", "+999123456", "PT", "", ErrInvalid},
		{"country code zero", "+0351210000000", "PT", "", ErrInvalid},
		{"US local without area code", "555-0123", "US", "", ErrInvalid},
		{"short code PT", "112", "PT", "", ErrInvalid},
		{"short code US", "911", "US", "", ErrInvalid},
		{"short code DE", "112", "DE", "", ErrInvalid},
		{"short code GB", "999", "GB", "", ErrInvalid},

		// Countries.
		{"unknown country", "+351210000000", "XX", "", ErrCountry},
		{"empty country, international", "+351210000000", "", "+351210000000", nil},
		{"empty country, national", "210000000", "", "", ErrCountry},
		{"alpha-3 country", "210000000", "PRT", "", ErrCountry},
		{"non-geographic region", "+80012345678", "001", "", ErrCountry},
		{"country code as country", "210000000", "35", "", ErrCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.raw, tt.country)
			checkErr(t, err, tt.err)
			if got != tt.want {
				t.Errorf("Normalize(%q, %q) = %q, want %q", tt.raw, tt.country, got, tt.want)
			}
			if q := fmt.Sprintf("%q", tt.raw); errors.Is(err, ErrInvalid) && len(tt.raw) <= maxInput && !strings.Contains(err.Error(), q) {
				t.Errorf("error %q does not quote the input", err)
			}
		})
	}
}

// checkErr fails unless err wraps want, or both are nil.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error %v, want one wrapping %v", err, want)
	}
}

func TestValidCountry(t *testing.T) {
	for _, c := range []string{"PT", "pt", "US", "GB"} {
		if err := ValidCountry(c); err != nil {
			t.Errorf("ValidCountry(%q) = %v", c, err)
		}
	}
	for _, c := range []string{"", "P", "ZZ", "PRT", "Portugal"} {
		if err := ValidCountry(c); !errors.Is(err, ErrCountry) {
			t.Errorf("ValidCountry(%q) = %v, want ErrCountry", c, err)
		}
	}
}

// TestNormalizeWithoutCountry: with no country only international numbers
// are read.
func TestNormalizeWithoutCountry(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"+351 21 000 0000", "+351210000000", nil},
		{"+44 20 7946 0000", "+442079460000", nil},
		{"210000000", "", ErrCountry},
		{"+999 1234", "", ErrInvalid},
	} {
		got, err := Normalize(tc.in, "")
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Normalize(%q, \"\") = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
