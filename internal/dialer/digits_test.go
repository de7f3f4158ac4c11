package dialer_test

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/dialer"
	"github.com/ringdesk/ringdesk/media/dtmf"
)

func sd(d byte, at time.Duration) dialer.ScheduledDigit {
	return dialer.ScheduledDigit{Digit: dtmf.Digit(d), At: at}
}

func TestParseSchedule(t *testing.T) {
	const s, ms = time.Second, time.Millisecond
	for _, tc := range []struct {
		in   string
		want dialer.Schedule
	}{
		{"", nil},
		{"   ", nil},
		{"2@3s,1@6s", dialer.Schedule{sd('2', 3*s), sd('1', 6*s)}},
		{"1@6s,2@3s", dialer.Schedule{sd('2', 3*s), sd('1', 6*s)}},
		{" 5 @ 1.5s , # @ 2 ", dialer.Schedule{sd('5', 1500*ms), sd('#', 2*s)}},
		{"123#", dialer.Schedule{sd('1', s), sd('2', 1250*ms), sd('3', 1500*ms), sd('#', 1750*ms)}},
		{"12@2s,3", dialer.Schedule{sd('1', 2*s), sd('2', 2250*ms), sd('3', 2500*ms)}},
		{"a*d@0", dialer.Schedule{sd('A', 0), sd('*', 250*ms), sd('D', 500*ms)}},
		{"9@250ms,8@250ms", dialer.Schedule{sd('9', 250*ms), sd('8', 250*ms)}},
		{"0@24h", dialer.Schedule{sd('0', 24*time.Hour)}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := dialer.ParseSchedule(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if got.Digits() != tc.want.Digits() {
				t.Errorf("Digits() %q", got.Digits())
			}
			again, err := dialer.ParseSchedule(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through %q: %v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for _, in := range []string{
		",", "1,,2", "@3s", "x", "1@", "1@-1s", "1@abc", "1@3s@4s", "1@25h", "E", "1@NaN", "1@1e300", "1@-0.5",
		strings.Repeat("1", dialer.MaxDigits+1),
	} {
		t.Run(in, func(t *testing.T) {
			if got, err := dialer.ParseSchedule(in); !errors.Is(err, dialer.ErrBadDigits) {
				t.Errorf("got %v, %v; want ErrBadDigits", got, err)
			}
		})
	}
}

// FuzzParseSchedule: the parser never panics; what it accepts is sorted,
// bounded, and survives a round trip through String.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"", "2@3s,1@6s", "123#", "a@1.5", "1@,2", "5@1h2m3.5s", "#@0,*@0", "1@9223372036s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := dialer.ParseSchedule(in)
		if err != nil {
			if !errors.Is(err, dialer.ErrBadDigits) {
				t.Fatalf("error %v does not wrap ErrBadDigits", err)
			}
			return
		}
		if len(got) > dialer.MaxDigits {
			t.Fatalf("%d digits", len(got))
		}
		for i, d := range got {
			if !dtmf.Valid(d.Digit) || d.At < 0 || d.At > dialer.MaxDigitAt {
				t.Fatalf("digit %d: %+v", i, d)
			}
			if i > 0 && got[i-1].At > d.At {
				t.Fatalf("not sorted: %v", got)
			}
		}
		again, err := dialer.ParseSchedule(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %q through %q: %v, %v", in, got.String(), again, err)
		}
	})
}

func TestParseMethod(t *testing.T) {
	for in, want := range map[string]dialer.Method{"rfc4733": dialer.MethodRFC4733, "INBAND": dialer.MethodInband, " info ": dialer.MethodInfo, "rfc2833": dialer.MethodRFC4733} {
		if got, err := dialer.ParseMethod(in); err != nil || got != want {
			t.Errorf("ParseMethod(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := dialer.ParseMethod("sms"); !errors.Is(err, dialer.ErrBadScript) {
		t.Errorf("ParseMethod(sms): %v", err)
	}
}

func TestScriptValidate(t *testing.T) {
	ok := dialer.Script{Target: "500"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]dialer.Script{
		"no target":       {},
		"spaces":          {Target: "5 0"},
		"transport":       {Target: "500", Transport: "tls"},
		"unspecified":     {Target: "500", Bind: netip.IPv4Unspecified()},
		"password alone":  {Target: "500", Password: "x"},
		"tone":            {Target: "500", Tone: 5000},
		"negative":        {Target: "500", Duration: -time.Second},
		"server":          {Target: "500", Server: "host:port"},
		"server port 0":   {Target: "500", Server: "127.0.0.1:0"},
		"from with space": {Target: "500", From: "a b"},
	} {
		if err := s.Validate(); !errors.Is(err, dialer.ErrBadScript) {
			t.Errorf("%s: %v, want ErrBadScript", name, err)
		}
	}
}
