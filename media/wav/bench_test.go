package wav_test

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/wav"
)

// BenchmarkWriter: one 20 ms stereo frame at 8 kHz per op, as a call
// recorder writes them, with a Flush every 25 frames (500 ms).
func BenchmarkWriter(b *testing.B) {
	w, err := wav.Create(filepath.Join(b.TempDir(), "bench.wav"), 8000, 2)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	frame := stereoFrame(0)
	b.SetBytes(int64(2 * len(frame)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := w.Write(frame); err != nil {
			b.Fatal(err)
		}
		if n++; n%25 == 0 {
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecode: 10 s of 8 kHz 16-bit mono, a typical prompt.
func BenchmarkDecode(b *testing.B) {
	for _, tt := range []struct {
		name     string
		rate     int
		channels int
	}{{"8k-mono", 8000, 1}, {"16k-stereo", 16000, 2}} {
		b.Run(tt.name, func(b *testing.B) {
			file := pcmFile(tt.rate, tt.channels, mediatest.Sine(440, 0.5, tt.rate*tt.channels, 10*time.Second))
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wav.Decode(bytes.NewReader(file)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTo8k: 10 s of 16 kHz and 44.1 kHz mono to 8 kHz.
func BenchmarkTo8k(b *testing.B) {
	for _, rate := range []int{16000, 44100} {
		a := &wav.Audio{Rate: rate, Samples: mediatest.Sine(440, 0.5, rate, 10*time.Second)}
		b.Run(strconv.Itoa(rate), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.To8k(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
