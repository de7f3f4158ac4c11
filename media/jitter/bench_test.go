package jitter

import (
	"testing"
	"time"
)

// BenchmarkPushPop is a steady stream: one op is one 20 ms packet pushed and
// one frame popped, at 8 and 16 kHz.
func BenchmarkPushPop(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(map[int]string{8000: "8kHz", 16000: "16kHz"}[rate], func(b *testing.B) {
			jb := mustNew(b, Config{ClockRate: rate})
			n := jb.FrameSamples()
			pcm := fill(make([]int16, n), 0)
			out := make([]int16, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ts := uint32(i * n)
				jb.Push(uint16(i), ts, 1, pcm, t0.Add(time.Duration(i)*20*ms))
				jb.Pop(out)
			}
			reportAudio(b, jb)
		})
	}
}

// BenchmarkPushReordered: every pair of packets arrives swapped, and one in
// fifty is lost; one op is one packet pushed and one frame popped.
func BenchmarkPushReordered(b *testing.B) {
	jb := mustNew(b, Config{MinDelay: 60 * ms})
	pcm := fill(make([]int16, 160), 0)
	out := make([]int16, 160)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := i ^ 1 // 1, 0, 3, 2, ...
		if j%50 != 7 {
			jb.Push(uint16(j), uint32(j*160), 1, pcm, t0.Add(time.Duration(i)*20*ms))
		}
		jb.Pop(out)
	}
	reportAudio(b, jb)
}

// reportAudio reports the share of frames that were audio, to show the
// benchmark measured the playing path.
func reportAudio(b *testing.B, jb *Buffer) {
	b.Helper()
	st := jb.Stats()
	b.ReportMetric(float64(st.Played)/float64(st.Popped), "audio/frame")
}
