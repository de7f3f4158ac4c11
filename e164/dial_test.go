package e164

import (
	"testing"
)

func TestOutside(t *testing.T) {
	pt := DialRules{Country: "PT"}
	pt9 := DialRules{Country: "PT", OutsidePrefix: "9"}
	gb9 := DialRules{Country: "GB", OutsidePrefix: "9"}
	gb0 := DialRules{Country: "GB", OutsidePrefix: "0"}
	us := DialRules{Country: "US", MaxExtensionDigits: 4}
	de := DialRules{Country: "DE"}
	tests := []struct {
		name    string
		rules   DialRules
		dialled string
		want    string
		ok      bool
		err     error
	}{
		// No outside prefix: length decides.
		{"extension", pt, "101", "", false, nil},
		{"longest extension", pt, "123456", "", false, nil},
		{"national", pt, "210000000", "+351210000000", true, nil},
		{"national with separators", pt, "21 000 0000", "+351210000000", true, nil},
		{"plus", pt, "+442079460000", "+442079460000", true, nil},
		{"international prefix", pt, "00442079460000", "+442079460000", true, nil},
		{"long but invalid", pt, "1234567", "", false, ErrInvalid},
		{"short code is an extension", pt, "112", "", false, nil},
		{"plus too short", pt, "+35", "", false, ErrInvalid},
		{"plus garbage", pt, "+35a", "", false, ErrInvalid},
		{"name", pt, "alice", "", false, nil},
		{"feature code", pt, "*72", "", false, nil},
		{"feature code with digits", pt, "*72210000000", "", false, nil},
		{"hash", pt, "210000000#", "", false, nil},
		{"empty", pt, "", "", false, nil},
		{"phone-context", pt, "210000000;phone-context=+351", "+351210000000", true, nil},
		{"US max 4: extension", us, "1234", "", false, nil},
		{"US max 4: 7-digit local is invalid", us, "5550123", "", false, ErrInvalid},
		{"US national", us, "2125550123", "+12125550123", true, nil},
		{"US 1 and national", us, "12125550123", "+12125550123", true, nil},
		{"US 011", us, "011351210000000", "+351210000000", true, nil},
		{"DE national", de, "030123456", "+4930123456", true, nil},
		{"DE 00", de, "0044 20 7946 0000", "+442079460000", true, nil},

		// Outside prefix: only numbers starting with it are outside.
		{"prefix national", pt9, "9210000000", "+351210000000", true, nil},
		{"prefix international", pt9, "9 00 44 20 7946 0000", "+442079460000", true, nil},
		{"prefix short code", pt9, "9112", "", false, ErrInvalid},
		{"prefix alone", pt9, "9", "", false, ErrInvalid},
		{"no prefix long extension", pt9, "210000000", "", false, nil},
		{"no prefix international", pt9, "00442079460000", "", false, nil},
		{"plus needs no prefix", pt9, "+442079460000", "+442079460000", true, nil},
		{"prefix extension", pt9, "99", "", false, ErrInvalid},
		{"GB prefix 9 national", gb9, "9 020 7946 0000", "+442079460000", true, nil},
		{"GB prefix 9 international", gb9, "9 00351210000000", "+351210000000", true, nil},
		{"GB prefix 0 national", gb0, "0 020 7946 0000", "+442079460000", true, nil},
		{"GB prefix 0 international", gb0, "0 00351210000000", "+351210000000", true, nil},
		{"GB prefix 0 no prefix", gb0, "2079460000", "", false, nil},

		// Invalid rules.
		{"no country", DialRules{}, "210000000", "", false, ErrCountry},
		{"bad prefix", DialRules{Country: "PT", OutsidePrefix: "9a"}, "9210000000", "", false, nil},
		{"negative max", DialRules{Country: "PT", MaxExtensionDigits: -1}, "210000000", "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := tt.rules.Outside(tt.dialled)
			if tt.rules.Validate() != nil {
				if err == nil {
					t.Fatalf("Outside with invalid rules %+v: no error", tt.rules)
				}
				if tt.err != nil {
					checkErr(t, err, tt.err)
				}
				return
			}
			checkErr(t, err, tt.err)
			if got != tt.want || ok != tt.ok {
				t.Errorf("%+v.Outside(%q) = %q, %v; want %q, %v", tt.rules, tt.dialled, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestDialRulesValidate(t *testing.T) {
	tests := []struct {
		name  string
		rules DialRules
		err   error
	}{
		{"minimal", DialRules{Country: "PT"}, nil},
		{"full", DialRules{Country: "gb", OutsidePrefix: "9", MaxExtensionDigits: 4}, nil},
		{"no country", DialRules{}, ErrCountry},
		{"unknown country", DialRules{Country: "ZZ"}, ErrCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.rules.Validate(), tt.err)
		})
	}
	for _, r := range []DialRules{
		{Country: "PT", OutsidePrefix: "+"},
		{Country: "PT", OutsidePrefix: "9 "},
		{Country: "PT", MaxExtensionDigits: -1},
	} {
		if r.Validate() == nil {
			t.Errorf("%+v.Validate() = nil, want an error", r)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		pattern, e164 string
		want          bool
	}{
		{"*", "+351210000000", true},
		{"+351", "+351210000000", true},
		{"+35", "+351210000000", true},
		{"+351210000000", "+351210000000", true},
		{"+3512100000001", "+351210000000", false},
		{"+352", "+351210000000", false},
		{"+1800", "+18005550100", true},
		{"+1800", "+12125550123", false},
		{"351", "+351210000000", false},
		{"+", "+351210000000", false},
		{"", "+351210000000", false},
		{"+3a", "+351210000000", false},
		{"*", "351210000000", false},
		{"*", "", false},
		{"+351", "+351 210000000", false},
	}
	for _, tt := range tests {
		if got := Matches(tt.pattern, tt.e164); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tt.pattern, tt.e164, got, tt.want)
		}
	}
}

func TestValidatePattern(t *testing.T) {
	for _, p := range []string{"*", "+1", "+351", "+1800", "+351210000000"} {
		if err := ValidatePattern(p); err != nil {
			t.Errorf("ValidatePattern(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "+", "351", "+0", "+35 1", "**", "+1234567890123456", "+1*"} {
		if err := ValidatePattern(p); err == nil {
			t.Errorf("ValidatePattern(%q) = nil, want an error", p)
		}
	}
}

func TestBest(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		e164     string
		want     int
		ok       bool
	}{
		{"longest wins", []string{"+3", "+351", "+35"}, "+351210000000", 1, true},
		{"prefix beats star", []string{"*", "+351"}, "+351210000000", 1, true},
		{"star alone", []string{"+44", "*"}, "+351210000000", 1, true},
		{"first of equals", []string{"+351", "+351"}, "+351210000000", 0, true},
		{"first of stars", []string{"*", "*"}, "+351210000000", 0, true},
		{"toll free over country", []string{"+1", "+1800"}, "+18005550100", 1, true},
		{"none", []string{"+44", "+1"}, "+351210000000", -1, false},
		{"empty", nil, "+351210000000", -1, false},
		{"invalid patterns ignored", []string{"351", "", "+35"}, "+351210000000", 2, true},
		{"invalid number", []string{"*"}, "351210000000", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Best(tt.patterns, tt.e164)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Best(%q, %q) = %d, %v; want %d, %v", tt.patterns, tt.e164, got, ok, tt.want, tt.ok)
			}
		})
	}
}
