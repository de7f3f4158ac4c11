package dtmf

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// amplitude returns the peak, as a fraction of full scale, of a sine at level
// dBm0 (a full-scale sine is +3.14 dBm0).
func amplitude(dBm0 float64) float64 {
	return math.Pow(10, (dBm0-fullScaleDBm0)/20)
}

// samples returns the number of samples in dur at rate Hz.
func samples(rate int, dur time.Duration) int {
	return int(int64(dur) * int64(rate) / int64(time.Second))
}

// sines returns dur of the sum of sines at freqs Hz with levels in dBm0 (one
// per frequency), at rate Hz, clipped to 16 bits.
func sines(rate int, dur time.Duration, freqs, levels []float64) []int16 {
	out := make([]int16, samples(rate, dur))
	for i := range out {
		var v float64
		for k, f := range freqs {
			v += amplitude(levels[k]) * math.MaxInt16 * math.Sin(2*math.Pi*f*float64(i)/float64(rate))
		}
		out[i] = clip16(v)
	}
	return out
}

func clip16(v float64) int16 {
	return int16(math.Round(min(max(v, math.MinInt16), math.MaxInt16)))
}

// dual returns dur of digit d's tones at rate Hz, the row tone at rowDBm0 and
// the column tone at colDBm0.
func dual(t testing.TB, d Digit, rate int, dur time.Duration, rowDBm0, colDBm0 float64) []int16 {
	t.Helper()
	row, col, ok := freqsOf(d)
	if !ok {
		t.Fatalf("no tones for %v", d)
	}
	return sines(rate, dur, []float64{row, col}, []float64{rowDBm0, colDBm0})
}

func silence(rate int, dur time.Duration) []int16 {
	return make([]int16, samples(rate, dur))
}

// noise returns dur of white noise at rate Hz with an RMS level of dBm0.
func noise(rng *rand.Rand, rate int, dur time.Duration, dBm0 float64) []int16 {
	rms := amplitude(dBm0) * math.MaxInt16 / math.Sqrt2
	out := make([]int16, samples(rate, dur))
	for i := range out {
		out[i] = clip16(rng.NormFloat64() * rms)
	}
	return out
}

// mix adds b to a (a is extended if shorter) and returns a.
func mix(a, b []int16) []int16 {
	for len(a) < len(b) {
		a = append(a, 0)
	}
	for i, v := range b {
		a[i] = clip16(float64(a[i]) + float64(v))
	}
	return a
}

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// detect runs a new detector at rate over audio in frames of frame samples
// and returns the digits it reports.
func detect(audio []int16, rate, frame int) string {
	d := NewDetector(rate)
	var b strings.Builder
	for len(audio) > 0 {
		n := min(frame, len(audio))
		if w, ok := d.Process(audio[:n]); ok {
			b.WriteByte(byte(w))
		}
		audio = audio[n:]
	}
	for {
		w, ok := d.Process(nil)
		if !ok {
			break
		}
		b.WriteByte(byte(w))
	}
	return b.String()
}

// readWAV reads a mono 16-bit PCM WAV file and returns its samples and rate.
func readWAV(t testing.TB, path string) ([]int16, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	samples, rate, err := parseWAV(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return samples, rate
}

var errWAV = errors.New("not a mono 16-bit PCM WAV file")

func parseWAV(b []byte) ([]int16, int, error) {
	le := binary.LittleEndian
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errWAV
	}
	rate := 0
	for b = b[12:]; len(b) >= 8; {
		id, size := string(b[:4]), int(le.Uint32(b[4:8]))
		b = b[8:]
		if size > len(b) {
			size = len(b)
		}
		switch id {
		case "fmt ":
			if size < 16 || le.Uint16(b[0:2]) != 1 || le.Uint16(b[2:4]) != 1 || le.Uint16(b[14:16]) != 16 {
				return nil, 0, errWAV
			}
			rate = int(le.Uint32(b[4:8]))
		case "data":
			if rate == 0 {
				return nil, 0, errWAV
			}
			out := make([]int16, size/2)
			for i := range out {
				out[i] = int16(le.Uint16(b[2*i:]))
			}
			return out, rate, nil
		}
		b = b[size+size&1:]
	}
	return nil, 0, errWAV
}
