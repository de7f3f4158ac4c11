package dtmf

import (
	"math"
	"testing"
	"time"
)

func TestTone(t *testing.T) {
	for _, rate := range rates {
		for i := range len(allDigits) {
			d := Digit(allDigits[i])
			tone := Tone(d, rate, 100*time.Millisecond, 0.2)
			if len(tone) != rate/10 {
				t.Fatalf("%v at %d Hz: %d samples", d, rate, len(tone))
			}
			if got := detect(concat(tone, silence(rate, 50*time.Millisecond)), rate, rate/50); got != string(d) {
				t.Errorf("%v at %d Hz: detected %q", d, rate, got)
			}
		}
	}
	// Amplitude is per tone: two tones of 0.5 just reach full scale, and
	// louder ones clip.
	for _, tt := range []struct {
		amplitude float64
		peak      int16
	}{{0.25, 16384}, {0.5, 32767}, {2, 32767}} {
		peak := int16(0)
		for _, s := range Tone('1', 8000, time.Second, tt.amplitude) {
			peak = max(peak, s)
		}
		if math.Abs(float64(peak-tt.peak)) > 0.002*float64(tt.peak) {
			t.Errorf("amplitude %v: peak %d, want about %d", tt.amplitude, peak, tt.peak)
		}
	}
	for _, bad := range []struct {
		d    Digit
		rate int
		dur  time.Duration
	}{{'x', 8000, time.Second}, {'1', 0, time.Second}, {'1', 8000, 0}, {'1', 8000, -time.Second}} {
		if got := Tone(bad.d, bad.rate, bad.dur, 0.5); got != nil {
			t.Errorf("Tone(%q, %d, %v): %d samples", byte(bad.d), bad.rate, bad.dur, len(got))
		}
	}
}
