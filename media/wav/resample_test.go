package wav_test

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/wav"
)

// gainDB returns the level of out relative to in, in dB, by RMS over the
// middle of both (away from the filter's edge effects).
func gainDB(in, out []int16) float64 {
	mid := func(s []int16) []int16 { return s[len(s)/4 : 3*len(s)/4] }
	return 20 * math.Log10(mediatest.RMS(mid(out))/mediatest.RMS(mid(in)))
}

func TestTo8k(t *testing.T) {
	const dur = 500 * time.Millisecond
	for _, rate := range []int{11025, 16000, 22050, 32000, 44100, 48000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			// Passband: flat to 3.4 kHz, the telephone band.
			for _, f := range []float64{300, 1000, 2000, 3000, 3400} {
				in := mediatest.Sine(f, 0.5, rate, dur)
				out, err := (&wav.Audio{Rate: rate, Samples: in}).To8k()
				if err != nil {
					t.Fatal(err)
				}
				if want := (len(in)*8000 + rate - 1) / rate; len(out) != want {
					t.Fatalf("%d samples from %d, want %d", len(out), len(in), want)
				}
				if g := gainDB(in, out); math.Abs(g) > 0.1 {
					t.Errorf("%.0f Hz: gain %.2f dB, want 0 ± 0.1", f, g)
				}
				if got := mediatest.DominantFrequency(out, 8000); math.Abs(got-f) > 2 {
					t.Errorf("%.0f Hz came out at %.1f Hz", f, got)
				}
			}
			// Stopband: what would alias is at least 70 dB down.
			for f := 4200.0; f < float64(rate)/2; f += 350 {
				in := mediatest.Sine(f, 0.9, rate, dur)
				out, err := (&wav.Audio{Rate: rate, Samples: in}).To8k()
				if err != nil {
					t.Fatal(err)
				}
				if g := gainDB(in, out); g > -70 {
					t.Errorf("%.0f Hz: gain %.1f dB, want under -70", f, g)
				}
			}
		})
	}
}

func TestTo8kIdentityAndErrors(t *testing.T) {
	in := []int16{1, 2, 3}
	out, err := (&wav.Audio{Rate: 8000, Samples: in}).To8k()
	if err != nil || &out[0] != &in[0] {
		t.Errorf("8 kHz: %v, %v; want the samples themselves", out, err)
	}
	if _, err := (&wav.Audio{Rate: 12000, Samples: in}).To8k(); !errors.Is(err, wav.ErrUnsupported) {
		t.Errorf("12 kHz: %v, want ErrUnsupported", err)
	}
	for _, n := range []int{0, 1, 2, 3} {
		short, err := (&wav.Audio{Rate: 16000, Samples: make([]int16, n)}).To8k()
		if err != nil || len(short) != (n+1)/2 {
			t.Errorf("%d samples at 16 kHz: %d out, %v", n, len(short), err)
		}
	}
	// A full-scale step overshoots (Gibbs): clipped, never wrapped around.
	step := make([]int16, 2000)
	for i := range step {
		step[i] = -32768
		if i >= 1000 {
			step[i] = 32767
		}
	}
	out, err = (&wav.Audio{Rate: 16000, Samples: step}).To8k()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range out {
		if (i > 30 && i < 490 && s > -32000) || (i > 510 && i < len(out)-30 && s < 32000) {
			t.Fatalf("sample %d of a full-scale step: %d", i, s)
		}
	}
}
