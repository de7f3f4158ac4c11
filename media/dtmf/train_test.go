package dtmf

import (
	"testing"
	"time"
)

func TestTrain(t *testing.T) {
	type pkt struct {
		ms       int // offset
		duration uint16
		marker   bool
		end      bool
	}
	tests := []struct {
		name string
		d    Digit
		dur  time.Duration
		rate int
		code uint8
		want []pkt
	}{
		{"160 ms", '5', 160 * time.Millisecond, 8000, 5, []pkt{
			{0, 160, true, false},
			{20, 320, false, false},
			{40, 480, false, false},
			{60, 640, false, false},
			{80, 800, false, false},
			{100, 960, false, false},
			{120, 1120, false, false},
			{140, 1280, false, true},
			{160, 1280, false, true},
			{180, 1280, false, true},
		}},
		{"wideband", '#', 50 * time.Millisecond, 16000, 11, []pkt{
			{0, 320, true, false},
			{20, 640, false, false},
			{40, 960, false, true},
			{60, 960, false, true},
			{80, 960, false, true},
		}},
		{"one interval", 'A', 20 * time.Millisecond, 8000, 12, []pkt{
			{0, 160, true, true}, {20, 160, false, true}, {40, 160, false, true},
		}},
		{"zero", '*', 0, 0, 10, []pkt{
			{0, 160, true, true}, {20, 160, false, true}, {40, 160, false, true},
		}},
		{"rounded up", '0', 41 * time.Millisecond, 8000, 0, []pkt{
			{0, 160, true, false},
			{20, 320, false, false},
			{40, 480, false, true},
			{60, 480, false, true},
			{80, 480, false, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Train(tt.d, tt.dur, 10, tt.rate, nil)
			if len(got) != len(tt.want) {
				t.Fatalf("%d packets, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, p := range got {
				e, err := ParseEvent(p.Payload[:])
				if err != nil {
					t.Fatal(err)
				}
				w := tt.want[i]
				if p.Offset != time.Duration(w.ms)*time.Millisecond || p.Marker != w.marker || p.End != w.end ||
					e != (Event{Code: tt.code, End: w.end, Volume: 10, Duration: w.duration}) {
					t.Errorf("packet %d: %+v %+v, want %+v", i, p, e, w)
				}
			}
		})
	}
}

func TestTrainLimits(t *testing.T) {
	// Capped at the 16-bit duration: 409 intervals at 8 kHz, 68 at 48 kHz.
	for _, tt := range []struct {
		rate, n int
	}{{8000, 409}, {48000, 68}} {
		got := Train('1', time.Minute, 10, tt.rate, nil)
		if len(got) != tt.n-1+3 {
			t.Fatalf("%d Hz: %d packets", tt.rate, len(got))
		}
		last, _ := ParseEvent(got[len(got)-1].Payload[:])
		if want := tt.n * tt.rate / 50; int(last.Duration) != want {
			t.Errorf("%d Hz: final duration %d, want %d", tt.rate, last.Duration, want)
		}
	}
	if got := Train('x', time.Second, 10, 8000, nil); got != nil {
		t.Errorf("invalid digit: %+v", got)
	}
	dst := make([]Packet, 1, 16)
	if got := Train('x', time.Second, 10, 8000, dst); len(got) != 1 {
		t.Errorf("invalid digit: %d packets", len(got))
	}
	if e, _ := ParseEvent(Train('1', 0, 200, 8000, nil)[0].Payload[:]); e.Volume != 63 {
		t.Errorf("volume 200 sent as %d", e.Volume)
	}
	if n := testing.AllocsPerRun(10, func() { dst = Train('9', 200*time.Millisecond, 10, 8000, dst[:0]) }); n != 0 {
		t.Errorf("%v allocations with room in dst", n)
	}
}

// TestTrainReceiver: a Receiver takes a train for one keypress.
func TestTrainReceiver(t *testing.T) {
	var r Receiver
	start := time.Unix(1000, 0)
	var got []Digit
	for i := range len(allDigits) {
		ts := uint32(i) * 8000
		for _, p := range Train(Digit(allDigits[i]), 100*time.Millisecond, 10, 8000, nil) {
			if d, ok := r.Packet(ts, p.Payload[:], start.Add(time.Duration(i)*time.Second+p.Offset)); ok {
				got = append(got, d)
			}
		}
	}
	if string(got) != allDigits {
		t.Errorf("got %q, want %q", got, allDigits)
	}
}
