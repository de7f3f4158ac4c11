package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestParseInfo(t *testing.T) {
	const relay = "application/dtmf-relay"
	ms := time.Millisecond
	tests := []struct {
		name string
		ct   string
		body string
		d    Digit
		dur  time.Duration
		err  error
	}{
		{"relay", relay, "Signal=5\r\nDuration=160\r\n", '5', 160 * ms, nil},
		{"relay LF", relay, "Signal=1\nDuration=100\n", '1', 100 * ms, nil},
		{"no final newline", relay, "Signal=9\r\nDuration=250", '9', 250 * ms, nil},
		{"spaces", relay, "  Signal = 7 \r\n\tDuration=\t80  \r\n\r\n", '7', 80 * ms, nil},
		{"key case", relay, "SIGNAL=3\r\nduration=120\r\n", '3', 120 * ms, nil},
		{"star", relay, "Signal=*\r\nDuration=160\r\n", '*', 160 * ms, nil},
		{"hash", relay, "Signal=#\r\nDuration=160\r\n", '#', 160 * ms, nil},
		{"code 10 is star", relay, "Signal=10\r\nDuration=160\r\n", '*', 160 * ms, nil},
		{"code 11 is hash", relay, "Signal=11\r\nDuration=160\r\n", '#', 160 * ms, nil},
		{"code 15 is D", relay, "Signal=15\r\n", 'D', DefaultInfoDuration, nil},
		{"code 05", relay, "Signal=05\r\n", '5', DefaultInfoDuration, nil},
		{"letter", relay, "Signal=B\r\n", 'B', DefaultInfoDuration, nil},
		{"lower-case letter", relay, "Signal=c\r\n", 'C', DefaultInfoDuration, nil},
		{"no duration", relay, "Signal=4\r\n", '4', DefaultInfoDuration, nil},
		{"zero duration", relay, "Signal=4\r\nDuration=0\r\n", '4', DefaultInfoDuration, nil},
		{"longest duration", relay, "Signal=4\r\nDuration=60000\r\n", '4', time.Minute, nil},
		{"duration first", relay, "Duration=300\r\nSignal=8\r\n", '8', 300 * ms, nil},
		{"unknown keys", relay, "Signal=2\r\nDuration=160\r\nVolume=10\r\nX-Foo=bar=baz\r\n", '2', 160 * ms, nil},
		{"later Signal wins", relay, "Signal=2\r\nSignal=3\r\n", '3', DefaultInfoDuration, nil},
		{"content type case and parameters", "Application/DTMF-Relay; charset=utf-8", "Signal=6\r\n", '6', DefaultInfoDuration, nil},
		{"content type spaces", " application/dtmf-relay ;x=y", "Signal=6\r\n", '6', DefaultInfoDuration, nil},
		{"dtmf", "application/dtmf", "5", '5', DefaultInfoDuration, nil},
		{"dtmf CRLF", "application/dtmf", "#\r\n", '#', DefaultInfoDuration, nil},
		{"dtmf letter", "APPLICATION/DTMF", " d ", 'D', DefaultInfoDuration, nil},

		{"empty relay", relay, "", 0, 0, ErrMalformed},
		{"no Signal", relay, "Duration=160\r\n", 0, 0, ErrMalformed},
		{"empty Signal", relay, "Signal=\r\nDuration=160\r\n", 0, 0, ErrMalformed},
		{"Signal 16", relay, "Signal=16\r\n", 0, 0, ErrMalformed},
		{"Signal E", relay, "Signal=E\r\n", 0, 0, ErrMalformed},
		{"Signal 55", relay, "Signal=55\r\n", 0, 0, ErrMalformed},
		{"Signal 0005", relay, "Signal=0005\r\n", 0, 0, ErrMalformed},
		{"Signal words", relay, "Signal=five\r\n", 0, 0, ErrMalformed},
		{"Signal negative", relay, "Signal=-1\r\n", 0, 0, ErrMalformed},
		{"line without =", relay, "Signal 5\r\n", 0, 0, ErrMalformed},
		{"colon", relay, "Signal: 5\r\n", 0, 0, ErrMalformed},
		{"bad Duration", relay, "Signal=5\r\nDuration=abc\r\n", 0, 0, ErrMalformed},
		{"negative Duration", relay, "Signal=5\r\nDuration=-160\r\n", 0, 0, ErrMalformed},
		{"fractional Duration", relay, "Signal=5\r\nDuration=1.5\r\n", 0, 0, ErrMalformed},
		{"empty Duration", relay, "Signal=5\r\nDuration=\r\n", 0, 0, ErrMalformed},
		{"huge Duration", relay, "Signal=5\r\nDuration=99999999999999999999\r\n", 0, 0, ErrMalformed},
		{"Duration over a minute", relay, "Signal=5\r\nDuration=60001\r\n", 0, 0, ErrMalformed},
		{"empty dtmf", "application/dtmf", "\r\n", 0, 0, ErrMalformed},
		{"dtmf two digits", "application/dtmf", "12", 0, 0, ErrMalformed},
		{"dtmf event code", "application/dtmf", "11", 0, 0, ErrMalformed},
		{"dtmf not a digit", "application/dtmf", "x", 0, 0, ErrMalformed},
		{"dtmf relay body", "application/dtmf", "Signal=5\r\n", 0, 0, ErrMalformed},

		{"other type", "application/sdp", "Signal=5\r\n", 0, 0, ErrNotDTMF},
		{"prefix", "application/dtmf-relayx", "Signal=5\r\n", 0, 0, ErrNotDTMF},
		{"empty type", "", "5", 0, 0, ErrNotDTMF},
		{"media control", "application/media_control+xml", "<media_control/>", 0, 0, ErrNotDTMF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, dur, err := ParseInfo(tt.ct, []byte(tt.body))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || d != tt.d || dur != tt.dur {
				t.Fatalf("got %v, %v, %v; want %v, %v", d, dur, err, tt.d, tt.dur)
			}
		})
	}
}

func TestParseInfoErrorText(t *testing.T) {
	_, _, err := ParseInfo("application/dtmf-relay", []byte("Signal=x\r\n"))
	if want := `dtmf: malformed: application/dtmf-relay Signal "x" is not a digit`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, _, err = ParseInfo("text/plain", nil)
	if want := `dtmf: not a dtmf content type: "text/plain"`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestInfoBody(t *testing.T) {
	tests := []struct {
		d    Digit
		dur  time.Duration
		body string
	}{
		{'5', 160 * time.Millisecond, "Signal=5\r\nDuration=160\r\n"},
		{'#', 100 * time.Millisecond, "Signal=#\r\nDuration=100\r\n"},
		{'*', 0, "Signal=*\r\nDuration=250\r\n"},
		{'A', 1500 * time.Microsecond, "Signal=A\r\nDuration=2\r\n"},
		{'0', time.Microsecond, "Signal=0\r\nDuration=1\r\n"},
	}
	for _, tt := range tests {
		ct, body := InfoBody(tt.d, tt.dur)
		if ct != ContentTypeRelay || string(body) != tt.body {
			t.Errorf("InfoBody(%v, %v) = %q, %q", tt.d, tt.dur, ct, body)
		}
		d, dur, err := ParseInfo(ct, body)
		if err != nil || d != tt.d || (tt.dur >= time.Millisecond && dur != tt.dur.Round(time.Millisecond)) {
			t.Errorf("round trip of %v, %v: %v, %v, %v", tt.d, tt.dur, d, dur, err)
		}
	}
	if ct, body := InfoBody('x', time.Second); ct != "" || body != nil {
		t.Errorf("invalid digit: %q, %q", ct, body)
	}
}

func TestParseInfoAllocs(t *testing.T) {
	body := []byte("Signal=5\r\nDuration=160\r\n")
	if n := testing.AllocsPerRun(100, func() { _, _, _ = ParseInfo("application/dtmf-relay", body) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func BenchmarkParseInfo(b *testing.B) {
	body := []byte("Signal=5\r\nDuration=160\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseInfo("application/dtmf-relay", body); err != nil {
			b.Fatal(err)
		}
	}
}
