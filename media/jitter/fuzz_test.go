package jitter

import (
	"encoding/binary"
	"testing"
	"time"
)

// fuzzConfigs are the buffers FuzzBuffer drives; the small ones make the
// ring wrap often.
var fuzzConfigs = []Config{
	{},
	{ClockRate: 16000},
	{FrameSamples: 80, MinDelay: 10 * ms, MaxDelay: 60 * ms},
	{FrameSamples: 7, MinDelay: time.Millisecond, MaxDelay: 5 * ms},
	{FrameSamples: 160, MinDelay: 100 * ms, MaxDelay: 100 * ms},
}

// FuzzBuffer feeds arbitrary sequences of pushes, pops, resets and stats
// reads: the buffer never panics, every pop fills exactly one frame, and the
// counters and internal state stay consistent.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 160, 0, 20, 2, 0, 1, 0, 160, 0, 20, 2, 2, 2})
	f.Add([]byte{1, 0, 1, 0x40, 0, 0, 255, 0, 2, 0, 0xff, 0xff, 9, 2, 2, 2, 3, 2})
	f.Add([]byte{3, 0, 5, 0, 7, 1, 1, 2, 0, 5, 0, 7, 1, 1, 2, 1, 9, 0, 0, 0, 0, 2, 2})
	// An in-order stream, then one with reordering and loss.
	var stream, bumpy []byte
	for i := range 40 {
		stream = append(stream, 0, 1, 0, 160, 0, 20, 2)
		switch i % 5 {
		case 1:
			bumpy = append(bumpy, 0, 2, 0, 0xff, 0x60, 20, 0, 0xff, 0xff, 0xfe, 0xc0, 0, 2)
		case 3:
			bumpy = append(bumpy, 2)
		default:
			bumpy = append(bumpy, 0, 1, 0, 160, 0, 20, 2)
		}
	}
	f.Add(append([]byte{0}, stream...))
	f.Add(append([]byte{2}, bumpy...))
	f.Add(append([]byte{4}, bumpy...))

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		b, err := New(fuzzConfigs[int(data[0])%len(fuzzConfigs)])
		if err != nil {
			t.Fatal(err)
		}
		data = data[1:]
		next := func(n int) []byte {
			if len(data) < n {
				data = append(data, make([]byte, n-len(data))...)
			}
			p := data[:n]
			data = data[n:]
			return p
		}
		var (
			seq  uint16
			ts   uint32
			ssrc uint32
			now  = t0
		)
		pcm := make([]int16, b.maxDelay+2)
		dst := make([]int16, b.frame+3)
		for len(data) > 0 {
			op := next(1)[0]
			switch op % 4 {
			case 0, 1: // push: seq delta, ts delta, length, time step
				p := next(6)
				seq += uint16(int8(p[0]))
				switch {
				case op&0x80 != 0: // a jump anywhere
					ts = binary.BigEndian.Uint32(next(4))
				default:
					ts += uint32(int32(int16(binary.BigEndian.Uint16(p[1:3]))))
				}
				if op&0x40 != 0 {
					ssrc = uint32(p[3] % 3)
				}
				n := int(p[4]) * (b.maxDelay + 2) / 255
				if op&0x20 != 0 {
					n = b.frame
				}
				step := time.Duration(int8(p[5])) * ms
				now = now.Add(step)
				b.Push(seq, ts, ssrc, fill(pcm[:n], ts), now)
			case 2: // pop into a frame-sized, longer or shorter buffer
				size := b.frame + int(op>>2)%4 - 1
				d := dst[:max(size, 0)]
				for i := range d {
					d[i] = 12345
				}
				s := b.Pop(d)
				switch {
				case size < b.frame:
					if s != StatusUnknown {
						t.Fatalf("pop into %d samples: %v", size, s)
					}
				case s != StatusAudio && s != StatusConcealed && s != StatusSilence:
					t.Fatalf("pop: status %v", s)
				case size > b.frame && d[b.frame] != 12345:
					t.Fatal("pop wrote past the frame")
				case s == StatusSilence && energy(d[:b.frame]) != 0:
					t.Fatal("silence is not zero")
				}
			default:
				if op == 255 {
					b.Reset()
					if st := b.Stats(); st.Pushed != 0 || st.Popped != 0 {
						t.Fatalf("reset left %+v", st)
					}
				}
				st := b.Stats()
				if st.Delay < 0 || st.Delay > toDuration(int64(b.size), b.rate) || st.Jitter < 0 {
					t.Fatalf("stats %+v", st)
				}
			}
			checkInvariants(t, b)
		}
	})
}
