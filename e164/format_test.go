package e164

import (
	"testing"
)

func TestParseStyle(t *testing.T) {
	tests := []struct {
		in   string
		want Style
		err  error
	}{
		{"e164", E164, nil},
		{"E164", E164, nil},
		{"e164_no_plus", E164NoPlus, nil},
		{"national", National, nil},
		{"International", International, nil},
		{"", StyleUnknown, ErrStyle},
		{"unknown", StyleUnknown, ErrStyle},
		{"international00", StyleUnknown, ErrStyle},
		{"e164-no-plus", StyleUnknown, ErrStyle},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseStyle(tt.in)
			checkErr(t, err, tt.err)
			if got != tt.want {
				t.Errorf("ParseStyle(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	for st := E164; st <= International; st++ {
		if got, err := ParseStyle(st.String()); err != nil || got != st {
			t.Errorf("ParseStyle(%v.String()) = %v, %v", st, got, err)
		}
	}
}

func TestStyleUnmarshalText(t *testing.T) {
	var s Style
	if err := s.UnmarshalText([]byte("e164_no_plus")); err != nil || s != E164NoPlus {
		t.Fatalf("UnmarshalText = %v, %v", s, err)
	}
	if err := s.UnmarshalText([]byte("bogus")); err == nil || s != E164NoPlus {
		t.Fatalf("UnmarshalText(bogus) = %v, %v; want an error and no change", s, err)
	}
}

func TestStyleValidate(t *testing.T) {
	tests := []struct {
		name    string
		style   Style
		country string
		err     error
	}{
		{"e164 PT", E164, "PT", nil},
		{"e164 BR", E164, "BR", nil},
		{"no plus BR", E164NoPlus, "BR", nil},
		{"national GB", National, "GB", nil},
		{"international US", International, "US", nil},
		{"national BR has no single prefix", National, "BR", ErrStyle},
		{"international KR has no single prefix", International, "KR", ErrStyle},
		{"unknown style", StyleUnknown, "PT", ErrStyle},
		{"out of range style", Style(42), "PT", ErrStyle},
		{"unknown country", E164, "XX", ErrCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.style.Validate(tt.country), tt.err)
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name    string
		e164    string
		style   Style
		country string
		tech    string
		want    string
		err     error
	}{
		{"e164", "+351210000000", E164, "PT", "", "+351210000000", nil},
		{"e164 no plus", "+351210000000", E164NoPlus, "PT", "", "351210000000", nil},
		{"national PT", "+351210000000", National, "PT", "", "210000000", nil},
		{"national GB trunk prefix", "+442079460000", National, "GB", "", "02079460000", nil},
		{"national DE trunk prefix", "+4930123456", National, "DE", "", "030123456", nil},
		{"national US", "+12125550123", National, "US", "", "2125550123", nil},
		{"national US trunk, Canadian number", "+14165550123", National, "US", "", "4165550123", nil},
		{"national IT leading zero", "+390612345678", National, "IT", "", "0612345678", nil},
		{"national foreign from PT", "+442079460000", National, "PT", "", "00442079460000", nil},
		{"national foreign from US", "+351210000000", National, "US", "", "011351210000000", nil},
		{"national foreign from DE", "+12125550123", National, "DE", "", "0012125550123", nil},
		{"national foreign from BR", "+351210000000", National, "BR", "", "", ErrStyle},
		{"international PT own", "+351210000000", International, "PT", "", "00351210000000", nil},
		{"international GB", "+351210000000", International, "GB", "", "00351210000000", nil},
		{"international US own", "+12125550123", International, "US", "", "01112125550123", nil},
		{"international DE", "+442079460000", International, "DE", "", "00442079460000", nil},
		{"international AU preferred prefix", "+351210000000", International, "AU", "", "0011351210000000", nil},
		{"international RU drops wait mark", "+351210000000", International, "RU", "", "810351210000000", nil},
		{"international IT leading zero", "+390612345678", International, "GB", "", "00390612345678", nil},
		{"international KR", "+351210000000", International, "KR", "", "", ErrStyle},
		{"e164 in BR", "+351210000000", E164, "BR", "", "+351210000000", nil},
		{"tech prefix digits", "+351210000000", E164NoPlus, "PT", "1234", "1234351210000000", nil},
		{"tech prefix hash", "+351210000000", E164, "PT", "1234#", "1234#+351210000000", nil},
		{"tech prefix star national", "+442079460000", National, "GB", "*99", "*9902079460000", nil},
		{"lower-case country", "+442079460000", National, "gb", "", "02079460000", nil},
		{"tech prefix letters", "+351210000000", E164, "PT", "abc", "", ErrInvalid},
		{"tech prefix plus", "+351210000000", E164, "PT", "+", "", ErrInvalid},
		{"unknown style", "+351210000000", StyleUnknown, "PT", "", "", ErrStyle},
		{"out of range style", "+351210000000", Style(-1), "PT", "", "", ErrStyle},
		{"unknown country", "+351210000000", E164, "XX", "", "", ErrCountry},
		{"no plus", "351210000000", E164, "PT", "", "", ErrInvalid},
		{"separators", "+351 210000000", E164, "PT", "", "", ErrInvalid},
		{"not normalized national prefix", "+4402079460000", E164, "GB", "", "", ErrInvalid},
		{"too short", "+3512", E164, "PT", "", "", ErrInvalid},
		{"16 digits", "+3512100000000000", E164, "PT", "", "", ErrInvalid},
		{"unknown country calling code", "+999123456", E164NoPlus, "PT", "", "", ErrInvalid},
		{"empty", "", E164, "PT", "", "", ErrInvalid},
		{"plus only", "+", E164, "PT", "", "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Format(tt.e164, tt.style, tt.country, tt.tech)
			checkErr(t, err, tt.err)
			if got != tt.want {
				t.Errorf("Format(%q, %v, %q, %q) = %q, want %q", tt.e164, tt.style, tt.country, tt.tech, got, tt.want)
			}
			if err != nil || tt.tech != "" {
				return
			}
			// What a trunk is sent reads back as the same number in
			// the trunk's country (E164NoPlus only where the digits
			// are not also a valid national number).
			if back, err := Normalize(got, tt.country); err != nil || back != tt.e164 {
				t.Errorf("Normalize(%q, %q) = %q, %v; want %q", got, tt.country, back, err, tt.e164)
			}
		})
	}
}
