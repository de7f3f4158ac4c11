package dtmf

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    Event
		err     bool
	}{
		{"empty", nil, Event{}, true},
		{"3 bytes", []byte{5, 0x8a, 0}, Event{}, true},
		{"update", []byte{5, 0x0a, 0x01, 0x40}, Event{Code: 5, Volume: 10, Duration: 320}, false},
		{"end", []byte{11, 0x8a, 0x05, 0x00}, Event{Code: 11, End: true, Volume: 10, Duration: 1280}, false},
		{"reserved bit ignored", []byte{1, 0x7f, 0xff, 0xff}, Event{Code: 1, Volume: 63, Duration: 0xffff}, false},
		{"flash", []byte{16, 0x80, 0, 160}, Event{Code: 16, End: true, Duration: 160}, false},
		{"trailing bytes ignored", []byte{3, 0x0a, 0, 160, 4, 0x8a, 1, 64}, Event{Code: 3, Volume: 10, Duration: 160}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent(tt.payload)
			if tt.err {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestEventAppendTo(t *testing.T) {
	for _, e := range []Event{
		{Code: 5, Volume: 10, Duration: 160},
		{Code: 11, End: true, Volume: 63, Duration: 0xffff},
		{Code: 0},
	} {
		b := e.AppendTo([]byte{0xaa})
		if len(b) != 1+EventSize || b[0] != 0xaa {
			t.Fatalf("AppendTo(%+v) = %x", e, b)
		}
		if got, err := ParseEvent(b[1:]); err != nil || got != e {
			t.Errorf("round trip of %+v: %+v, %v", e, got, err)
		}
	}
	// Volume keeps its six bits; the reserved bit stays clear.
	if b := (Event{Volume: 0xff}).AppendTo(nil); !bytes.Equal(b, []byte{0, 0x3f, 0, 0}) {
		t.Errorf("volume 255: %x", b)
	}
	buf := make([]byte, 0, EventSize)
	if n := testing.AllocsPerRun(10, func() { buf = (Event{Code: 1}).AppendTo(buf[:0]) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
