package media

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/zaf/g711"
)

// Run with: go test ./media -run '^$' -bench G711 -benchmem

const g711BenchFrame = 160 // 20 ms at 8 kHz

// g711BenchPCM returns one frame of a 1 kHz tone with some of a 2.7 kHz tone, so the
// encoder sees most segments.
func g711BenchPCM() []int16 {
	pcm := make([]int16, g711BenchFrame)
	for i := range pcm {
		x := 0.6*math.Sin(2*math.Pi*1000*float64(i)/8000+0.3) + 0.3*math.Sin(2*math.Pi*2700*float64(i)/8000)
		pcm[i] = int16(x * 32767)
	}
	return pcm
}

func g711BenchPayload(g G711) []byte {
	payload := make([]byte, g711BenchFrame)
	g.Encode(payload, g711BenchPCM())
	return payload
}

func BenchmarkG711Encode(b *testing.B) {
	for _, g := range []G711{PCMU, PCMA} {
		b.Run(g.String(), func(b *testing.B) {
			pcm, dst := g711BenchPCM(), make([]byte, g711BenchFrame)
			b.SetBytes(g711BenchFrame)
			b.ReportAllocs()
			for b.Loop() {
				g.Encode(dst, pcm)
			}
		})
	}
}

func BenchmarkG711Decode(b *testing.B) {
	for _, g := range []G711{PCMU, PCMA} {
		b.Run(g.String(), func(b *testing.B) {
			payload, dst := g711BenchPayload(g), make([]int16, g711BenchFrame)
			b.SetBytes(g711BenchFrame)
			b.ReportAllocs()
			for b.Loop() {
				g.Decode(dst, payload)
			}
		})
	}
}

func BenchmarkG711Transcode(b *testing.B) {
	for _, tc := range []struct{ from, to G711 }{{PCMU, PCMA}, {PCMA, PCMU}} {
		b.Run(tc.from.String()+"-"+tc.to.String(), func(b *testing.B) {
			payload, dst := g711BenchPayload(tc.from), make([]byte, g711BenchFrame)
			b.SetBytes(g711BenchFrame)
			b.ReportAllocs()
			for b.Loop() {
				Transcode(dst, payload, tc.from, tc.to)
			}
		})
	}
}

// BenchmarkZafG711 measures zaf/g711's own functions on the same frames, for
// comparison: the per-sample functions in a loop over reused buffers, and the
// slice functions, which take little-endian bytes and allocate their result.
func BenchmarkZafG711(b *testing.B) {
	pcm := g711BenchPCM()
	le := make([]byte, 2*g711BenchFrame)
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(le[2*i:], uint16(s))
	}
	ulaw, alaw := g711BenchPayload(PCMU), g711BenchPayload(PCMA)
	codes, out := make([]byte, g711BenchFrame), make([]int16, g711BenchFrame)

	frameBenches := []struct {
		name string
		fn   func()
	}{
		{"EncodeUlawFrame", func() {
			for i, s := range pcm {
				codes[i] = g711.EncodeUlawFrame(s)
			}
		}},
		{"EncodeAlawFrame", func() {
			for i, s := range pcm {
				codes[i] = g711.EncodeAlawFrame(s)
			}
		}},
		{"DecodeUlawFrame", func() {
			for i, c := range ulaw {
				out[i] = g711.DecodeUlawFrame(c)
			}
		}},
		{"DecodeAlawFrame", func() {
			for i, c := range alaw {
				out[i] = g711.DecodeAlawFrame(c)
			}
		}},
		{"Ulaw2AlawFrame", func() {
			for i, c := range ulaw {
				codes[i] = g711.Ulaw2AlawFrame(c)
			}
		}},
		{"EncodeUlaw", func() { g711.EncodeUlaw(le) }},
		{"EncodeAlaw", func() { g711.EncodeAlaw(le) }},
		{"DecodeUlaw", func() { g711.DecodeUlaw(ulaw) }},
		{"DecodeAlaw", func() { g711.DecodeAlaw(alaw) }},
		{"Ulaw2Alaw", func() { g711.Ulaw2Alaw(ulaw) }},
	}
	for _, fb := range frameBenches {
		b.Run(fb.name, func(b *testing.B) {
			b.SetBytes(g711BenchFrame)
			b.ReportAllocs()
			for b.Loop() {
				fb.fn()
			}
		})
	}
}
