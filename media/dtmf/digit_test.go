package dtmf

import "testing"

func TestEventCode(t *testing.T) {
	for code := range uint8(16) {
		d, ok := FromEventCode(code)
		if !ok || !Valid(d) {
			t.Fatalf("FromEventCode(%d) = %q, %v", code, byte(d), ok)
		}
		if got, ok := EventCode(d); !ok || got != code {
			t.Errorf("EventCode(%v) = %d, %v, want %d", d, got, ok, code)
		}
		if d.String() != string(rune(d)) {
			t.Errorf("String of %q = %q", byte(d), d.String())
		}
	}
	for _, tt := range []struct {
		d    Digit
		code uint8
	}{{'0', 0}, {'9', 9}, {'*', 10}, {'#', 11}, {'A', 12}, {'D', 15}} {
		if got, _ := EventCode(tt.d); got != tt.code {
			t.Errorf("EventCode(%v) = %d, want %d", tt.d, got, tt.code)
		}
	}
	for _, code := range []uint8{16, 17, 255} {
		if d, ok := FromEventCode(code); ok {
			t.Errorf("FromEventCode(%d) = %v, true", code, d)
		}
	}
}

func TestDigitInvalid(t *testing.T) {
	for _, d := range []Digit{0, 'a', 'd', 'E', '/', ':', ' ', '+', 0xff} {
		if Valid(d) {
			t.Errorf("Valid(%q)", byte(d))
		}
		if _, ok := EventCode(d); ok {
			t.Errorf("EventCode(%q) ok", byte(d))
		}
	}
	if got := Digit(0).String(); got != "Digit(0)" {
		t.Errorf("Digit(0).String() = %q", got)
	}
	if got := Digit('a').String(); got != "Digit(97)" {
		t.Errorf("Digit('a').String() = %q", got)
	}
}
