package dtmf

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// rx is one call on a Receiver: a telephone-event packet with timestamp ts
// arriving at ms, or a Tick at ms.
type rx struct {
	ms      int
	ts      uint32
	payload []byte
	tick    bool
}

func ev(code uint8, end bool, duration uint16) []byte {
	return Event{Code: code, End: end, Volume: 10, Duration: duration}.AppendTo(nil)
}

// press returns the packets of one keypress as a sender emits them: n updates
// every 20 ms from ms on, then three end packets, all with timestamp ts.
func press(ts uint32, code uint8, ms, n int) []rx {
	var out []rx
	for i := range n {
		out = append(out, rx{ms: ms + 20*i, ts: ts, payload: ev(code, false, uint16(160*(i+1)))})
	}
	for i := range 3 {
		out = append(out, rx{ms: ms + 20*(n+i), ts: ts, payload: ev(code, true, uint16(160*n))})
	}
	return out
}

func tick(ms int) rx { return rx{ms: ms, tick: true} }

// noEnds drops a keypress's end packets.
func noEnds(p []rx) []rx { return p[:len(p)-3] }

// run feeds steps to a new Receiver and returns what it reported, as
// "digit@step" separated by spaces.
func run(steps ...[]rx) string {
	var r Receiver
	start := time.Unix(1_700_000_000, 0)
	var out []string
	for i, s := range slices.Concat(steps...) {
		now := start.Add(time.Duration(s.ms) * time.Millisecond)
		var d Digit
		var ok bool
		if s.tick {
			d, ok = r.Tick(now)
		} else {
			d, ok = r.Packet(s.ts, s.payload, now)
		}
		if ok {
			out = append(out, fmt.Sprintf("%v@%d", d, i))
		}
	}
	return strings.Join(out, " ")
}

func TestReceiver(t *testing.T) {
	p5 := press(1000, 5, 0, 8)    // steps 0-7 updates, 8-10 ends
	p1 := press(5000, 1, 300, 4)  // 7 steps
	p1b := press(9000, 1, 600, 4) // the same key again
	wrap := press(0xffffff00, 3, 0, 4)
	next := press(0x00000100, 4, 200, 4) // after the timestamp wrapped
	tests := []struct {
		name  string
		steps [][]rx
		want  string
	}{
		{"normal train", [][]rx{p5}, "5@8"},
		{"two events", [][]rx{p5, p1}, "5@8 1@15"},
		{"same key twice", [][]rx{p1, p1b}, "1@4 1@11"},
		{"timestamp wraps", [][]rx{wrap, next}, "3@4 4@11"},
		{"first packets lost", [][]rx{p5[5:]}, "5@3"},
		{"only one end packet", [][]rx{p5[10:]}, "5@0"},
		{"all ends lost, next event", [][]rx{noEnds(p5), p1}, "5@8 1@12"},
		{"all ends lost, Tick", [][]rx{noEnds(p5), {tick(140), tick(339)}, {tick(340)}, {tick(1000)}}, "5@10"},
		{"all ends lost, Tick after the next event's packets", [][]rx{noEnds(p5), p1[:2], {tick(1000)}}, "5@8 1@10"},
		{"Tick while the event goes on", [][]rx{p5[:4], {tick(70), tick(200)}, p5[4:]}, "5@10"},
		{"ends lost, next event only an end", [][]rx{noEnds(p5), p1[6:], {tick(400)}}, "5@8 1@9"},
		{"ends lost, next event only ends", [][]rx{noEnds(p5), p1[4:]}, "5@8 1@9"},
		{"late duplicates", [][]rx{p5, p1, p5, p1[2:], p5[9:]}, "5@8 1@15"},
		// The oldest of the 16 remembered events replayed: still ignored.
		{"late duplicates after many events", [][]rx{
			press(100, 1, 0, 2), press(200, 2, 100, 2), press(300, 3, 200, 2), press(400, 4, 300, 2),
			press(500, 5, 400, 2), press(600, 6, 500, 2), press(700, 7, 600, 2), press(800, 8, 700, 2),
			press(900, 9, 800, 2), press(1000, 0, 900, 2), press(1100, 10, 1000, 2), press(1200, 11, 1100, 2),
			press(1300, 12, 1200, 2), press(1400, 13, 1300, 2), press(1500, 14, 1400, 2), press(1600, 15, 1500, 2),
			press(100, 1, 2000, 2),
		}, "1@2 2@7 3@12 4@17 5@22 6@27 7@32 8@37 9@42 0@47 *@52 #@57 A@62 B@67 C@72 D@77"},
		{"reordered updates", [][]rx{{p5[1], p5[0], p5[3], p5[2]}, p5[4:]}, "5@8"},
		{"end before the last updates", [][]rx{p5[:5], {p5[8], p5[5], p5[6], p5[9], p5[7], p5[10]}}, "5@5"},
		{"next event before the last end", [][]rx{p5[:9], p1[:1], p5[9:], p1[1:]}, "5@8 1@15"},
		{"next event before all ends", [][]rx{noEnds(p5), p1[:1], p5[8:], p1[1:]}, "5@8 1@15"},
		{"not DTMF, short payloads", [][]rx{{
			{ts: 7, payload: ev(16, false, 160)},
			{ts: 7, payload: ev(16, true, 160)},
			{ts: 8, payload: []byte{5, 0x80, 0}},
			{ts: 8},
		}}, ""},
		{"long event in segments", [][]rx{
			{{ms: 0, ts: 0x10, payload: ev(9, false, 160)}, {ms: 8000, ts: 0x10, payload: ev(9, false, 0xffff)}},
			{{ms: 8200, ts: 0x1000f, payload: ev(9, false, 160)}, {ms: 8400, ts: 0x1000f, payload: ev(9, true, 1600)}},
			{{ms: 8420, ts: 0x1000f, payload: ev(9, true, 1600)}, {ms: 8440, ts: 0x10, payload: ev(9, false, 0xffff)}},
		}, "9@3"},
		{"segment-like event of another digit", [][]rx{
			{{ms: 0, ts: 0x10, payload: ev(9, false, 0xffff)}, {ms: 8200, ts: 0x1000f, payload: ev(8, true, 160)}, tick(8210)},
		}, "9@1 8@2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.steps...); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReceiverFlushReset(t *testing.T) {
	var r Receiver
	now := time.Unix(0, 0)
	if _, ok := r.Flush(); ok {
		t.Fatal("Flush of a new Receiver reported a digit")
	}
	r.Packet(100, ev(7, false, 160), now)
	if d, ok := r.Flush(); !ok || d != '7' {
		t.Fatalf("Flush = %v, %v", d, ok)
	}
	if d, ok := r.Packet(100, ev(7, true, 320), now); ok {
		t.Fatalf("end of a flushed event reported %v", d)
	}
	r.Reset()
	if d, ok := r.Packet(100, ev(7, true, 320), now); !ok || d != '7' {
		t.Fatalf("after Reset: %v, %v", d, ok)
	}
	r.Packet(200, ev(1, false, 160), now)
	r.Reset()
	if d, ok := r.Tick(now.Add(time.Hour)); ok {
		t.Fatalf("Reset kept the pending event: %v", d)
	}
}

func TestReceiverAllocs(t *testing.T) {
	var r Receiver
	train := Train('5', 100*time.Millisecond, 10, 8000, nil)
	now := time.Unix(0, 0)
	ts, i := uint32(0), 0
	n := testing.AllocsPerRun(1000, func() {
		r.Packet(ts, train[i].Payload[:], now)
		r.Tick(now)
		if i++; i == len(train) {
			i, ts = 0, ts+8000
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per packet", n)
	}
}

func BenchmarkReceiver(b *testing.B) {
	var r Receiver
	train := Train('5', 100*time.Millisecond, 10, 8000, nil)
	now := time.Unix(0, 0)
	ts, i := uint32(0), 0
	b.ReportAllocs()
	for b.Loop() {
		r.Packet(ts, train[i].Payload[:], now)
		if i++; i == len(train) {
			i, ts = 0, ts+8000
		}
	}
}
