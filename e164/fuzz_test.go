package e164

import (
	"errors"
	"testing"
)

// roundTripCountries are the countries a fuzzed result must read back in.
var roundTripCountries = []string{"PT", "GB", "US", "DE", "RU", "AU", "BR", "IT", "JP", "IN"}

// checkE164 fails unless e is a valid Normalize result: '+', at most 15
// digits, unchanged by Normalize in any country, and accepted by Format.
func checkE164(t *testing.T, e string) {
	t.Helper()
	if !isE164(e) {
		t.Fatalf("result %q is not '+' and 1 to 15 digits", e)
	}
	for _, c := range roundTripCountries {
		if back, err := Normalize(e, c); err != nil || back != e {
			t.Fatalf("Normalize(%q, %q) = %q, %v; want it unchanged", e, c, back, err)
		}
		for st := E164; st <= International; st++ {
			if _, err := Format(e, st, c, ""); err != nil && !errors.Is(err, ErrStyle) {
				t.Fatalf("Format(%q, %v, %q): %v", e, st, c, err)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []struct{ raw, country string }{
		{"+351210000000", "PT"},
		{"00351210000000", "PT"},
		{"351210000000", "DE"},
		{"210000000", "PT"},
		{"0 20 7946 0000", "GB"},
		{"011 44 20 7946 0000", "US"},
		{"(212) 555-0123", "US"},
		{"030 123456", "DE"},
		{"+44 (0) 20 7946 0000", "gb"},
		{"210000000;phone-context=+351", "PT"},
		{"+", "PT"},
		{"00", "PT"},
		{"", "PT"},
		{"12345678901234567890", "PT"},
		{"２１００００００００", "PT"},
		{"112", "PT"},
		{"+800 1234 5678", "XX"},
		{"8 495 123 45 67", "RU"},
		{"+39 06 1234 5678", "IT"},
	} {
		f.Add(s.raw, s.country)
	}
	f.Fuzz(func(t *testing.T, raw, country string) {
		e, err := Normalize(raw, country)
		if err != nil {
			if e != "" {
				t.Fatalf("Normalize(%q, %q) = %q with error %v", raw, country, e, err)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrCountry) {
				t.Fatalf("Normalize(%q, %q): error %v wraps no sentinel", raw, country, err)
			}
			return
		}
		checkE164(t, e)
	})
}

func FuzzOutside(f *testing.F) {
	for _, s := range []struct {
		dialled, country, prefix string
		max                      int
	}{
		{"101", "PT", "", 0},
		{"210000000", "PT", "", 0},
		{"9210000000", "PT", "9", 0},
		{"9 00 44 20 7946 0000", "PT", "9", 0},
		{"+442079460000", "GB", "9", 0},
		{"00351210000000", "GB", "0", 0},
		{"*72", "US", "", 4},
		{"alice", "DE", "", 0},
		{"9", "PT", "9", 0},
		{"", "PT", "", 0},
		{"+", "PT", "", 0},
		{"210000000", "PT", "", -1},
		{"210000000", "", "", 0},
	} {
		f.Add(s.dialled, s.country, s.prefix, s.max)
	}
	f.Fuzz(func(t *testing.T, dialled, country, prefix string, maxExt int) {
		r := DialRules{Country: country, OutsidePrefix: prefix, MaxExtensionDigits: maxExt}
		e, ok, err := r.Outside(dialled)
		switch {
		case err != nil:
			if ok || e != "" {
				t.Fatalf("%+v.Outside(%q) = %q, %v with error %v", r, dialled, e, ok, err)
			}
		case !ok:
			if e != "" {
				t.Fatalf("%+v.Outside(%q) = %q but not ok", r, dialled, e)
			}
		default:
			checkE164(t, e)
		}
	})
}
