package mediatest

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// mix adds signals sample by sample, clipping.
func mix(signals ...[]int16) []int16 {
	var n int
	for _, s := range signals {
		n = max(n, len(s))
	}
	out := make([]int16, n)
	for i := range out {
		var sum int
		for _, s := range signals {
			if i < len(s) {
				sum += int(s[i])
			}
		}
		out[i] = int16(min(max(sum, -32768), 32767))
	}
	return out
}

// noise returns white noise of RMS level about amplitude/√3 of full scale,
// from a fixed seed.
func noise(amplitude float64, n int) []int16 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16((2*r.Float64() - 1) * amplitude * 32767)
	}
	return out
}

func TestSineSilenceRMS(t *testing.T) {
	s := Sine(1000, 1, 8000, time.Second)
	if len(s) != 8000 {
		t.Fatalf("len = %d, want 8000", len(s))
	}
	if s[0] != 0 || s[2] != 32767 || s[6] != -32767 {
		t.Errorf("1 kHz at 8 kHz starts %v, want 0, ±23170, 32767, ...", s[:8])
	}
	tests := []struct {
		name    string
		samples []int16
		want    float64
	}{
		{"full-scale sine", s, 1 / math.Sqrt2},
		{"half-scale sine", Sine(440, 0.5, 16000, 500*time.Millisecond), 0.5 / math.Sqrt2},
		{"amplitude clamped", Sine(440, 3, 8000, time.Second), 1 / math.Sqrt2},
		{"silence", Silence(8000, time.Second), 0},
		{"empty", nil, 0},
		{"full-scale square", []int16{-32768, -32768, -32768}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RMS(tt.samples); math.Abs(got-tt.want) > 0.001 {
				t.Errorf("RMS = %.4f, want %.4f", got, tt.want)
			}
		})
	}
	if n := len(Silence(48000, 20*time.Millisecond)); n != 960 {
		t.Errorf("20 ms at 48 kHz = %d samples, want 960", n)
	}
	if n := len(Sine(1000, 1, 8000, -time.Second)); n != 0 {
		t.Errorf("negative duration gives %d samples", n)
	}
}

func TestToneShare(t *testing.T) {
	const rate = 8000
	sec := time.Second
	tone1000 := Sine(1000, 0.5, rate, sec)
	dtmf1 := mix(Sine(697, 0.35, rate, sec), Sine(1209, 0.35, rate, sec))
	tests := []struct {
		name      string
		samples   []int16
		rate      int
		freq, bw  float64
		min, max_ float64
	}{
		{"pure tone", tone1000, rate, 1000, 50, 0.99, 1},
		{"pure tone narrow band", tone1000, rate, 1000, 5, 0.99, 1},
		{"pure tone off by 3 Hz", Sine(1003, 0.5, rate, sec), rate, 1000, 20, 0.99, 1},
		{"440 Hz is not 1000 Hz", Sine(440, 0.5, rate, sec), rate, 1000, 50, 0, 0.001},
		{"1100 Hz is not 1000 Hz", Sine(1100, 0.5, rate, sec), rate, 1000, 50, 0, 0.001},
		{"DTMF 1 low tone", dtmf1, rate, 697, 20, 0.48, 0.52},
		{"DTMF 1 high tone", dtmf1, rate, 1209, 20, 0.48, 0.52},
		{"DTMF 1 other row", dtmf1, rate, 770, 20, 0, 0.001},
		{"white noise", noise(0.5, rate), rate, 1000, 50, 0.01, 0.05},
		{"tone in noise", mix(tone1000, noise(0.05, rate)), rate, 1000, 50, 0.95, 1},
		{"tone then silence", append(Sine(1000, 0.5, rate, sec/2), Silence(rate, sec)...), rate, 1000, 50, 0.99, 1},
		{"short tone", Sine(1000, 0.5, rate, 50*time.Millisecond), rate, 1000, 100, 0.99, 1},
		{"48 kHz", Sine(1000, 0.5, 48000, sec), 48000, 1000, 20, 0.99, 1},
		{"silence", Silence(rate, sec), rate, 1000, 50, 0, 0},
		{"empty", nil, rate, 1000, 50, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToneShare(tt.samples, tt.rate, tt.freq, tt.bw)
			if got < tt.min || got > tt.max_ {
				t.Errorf("ToneShare(%v Hz ±%v) = %.4f, want %.3f..%.3f", tt.freq, tt.bw, got, tt.min, tt.max_)
			}
		})
	}
}

func TestDominantFrequency(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name    string
		samples []int16
		rate    int
		want    float64 // 0: silence
		tol     float64
	}{
		{"1000 Hz", Sine(1000, 0.5, 8000, sec), 8000, 1000, 2},
		{"440 Hz", Sine(440, 0.5, 8000, sec), 8000, 440, 2},
		{"123.4 Hz", Sine(123.4, 0.5, 8000, sec), 8000, 123.4, 2},
		{"3400 Hz", Sine(3400, 0.5, 8000, sec), 8000, 3400, 2},
		{"100 ms of 1633 Hz", Sine(1633, 0.5, 8000, 100*time.Millisecond), 8000, 1633, 2},
		{"20 ms of 941 Hz", Sine(941, 0.5, 8000, 20*time.Millisecond), 8000, 941, 2},
		{"48 kHz 5 kHz", Sine(5000, 0.5, 48000, sec), 48000, 5000, 2},
		{"DTMF 5, high tone 2 dB up", mix(Sine(770, 0.3, 8000, sec), Sine(1336, 0.38, 8000, sec)), 8000, 1336, 2},
		{"tone in noise", mix(Sine(2000, 0.3, 8000, sec), noise(0.1, 8000)), 8000, 2000, 2},
		{"below 50 Hz ignored", mix(Sine(20, 0.9, 8000, sec), Sine(600, 0.1, 8000, sec)), 8000, 600, 2},
		{"silence", Silence(8000, sec), 8000, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DominantFrequency(tt.samples, tt.rate); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("DominantFrequency = %.2f Hz, want %.1f ± %.0f", got, tt.want, tt.tol)
			}
		})
	}
	if f := DominantFrequency(noise(0.5, 8000), 8000); f < 50 || f > 4000 {
		t.Errorf("DominantFrequency(noise) = %.1f, not within 50..4000 Hz", f)
	}
}

func TestTrim(t *testing.T) {
	const rate = 8000
	tone := Sine(1000, 0.5, rate, 200*time.Millisecond)
	tests := []struct {
		name    string
		samples []int16
		want    int // length after trimming
	}{
		{"padded", mix(append(append(Silence(rate, 100*time.Millisecond), tone...), Silence(rate, 60*time.Millisecond)...), noise(0.001, 2880)), 1600},
		{"nothing to trim", tone, 1600},
		{"all quiet", Silence(rate, time.Second), 0},
		{"partial last block", append(Silence(rate, 40*time.Millisecond), Sine(1000, 0.5, rate, time.Second)[:1650]...), 1650},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Trim(tt.samples, rate, 0.01)
			if len(got) != tt.want {
				t.Fatalf("Trim kept %d samples, want %d", len(got), tt.want)
			}
			if tt.want > 0 && RMS(got[:160]) < 0.01 {
				t.Errorf("Trim kept a quiet start")
			}
		})
	}
}
