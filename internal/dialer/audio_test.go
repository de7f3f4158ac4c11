package dialer

import (
	"math"
	"testing"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// TestInbandTone: each digit is its row and column tones (ITU-T Q.23),
// each near half the energy, at about -7 dBm0 each, 100 ms long, and the
// Goertzel detector finds it.
func TestInbandTone(t *testing.T) {
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	for i, d := range "123A456B789C*0#D" {
		t.Run(string(d), func(t *testing.T) {
			pcm := InbandTone(dtmf.Digit(d))
			if len(pcm) != 800 {
				t.Fatalf("%d samples, want 800 (100 ms)", len(pcm))
			}
			row, col := rows[i/4], cols[i%4]
			rs, cs := mediatest.ToneShare(pcm, 8000, row, 25), mediatest.ToneShare(pcm, 8000, col, 25)
			if rs < 0.4 || cs < 0.4 || rs+cs < 0.95 {
				t.Errorf("%.0f Hz holds %.2f, %.0f Hz %.2f of the energy; want about half each", row, rs, col, cs)
			}
			// A sine's level is 20·log10(peak) + 3.14 dBm0, its peak √2
			// times its RMS; two equal sines carry twice the power of one
			// (+3.01 dB).
			level := 20*math.Log10(mediatest.RMS(pcm)*math.Sqrt2) + fullScaleDBm0
			if math.Abs(level-(InbandLevel+3.01)) > 0.5 {
				t.Errorf("level %.1f dBm0 for both tones, want %.1f", level, InbandLevel+3.01)
			}
			det := dtmf.NewDetector(8000)
			frames := append(append([]int16(nil), pcm...), make([]int16, 800)...)
			var got string
			for j := 0; j+160 <= len(frames); j += 160 {
				if g, ok := det.Process(frames[j : j+160]); ok {
					got += g.String()
				}
			}
			if got != string(d) {
				t.Errorf("detector found %q", got)
			}
		})
	}
	if InbandTone('x') != nil {
		t.Error("a tone for x")
	}
}

// TestSenderMixesInbandDigits: a digit pressed during the tone is mixed in
// (the tone ducked under it) and detected, and the tone resumes after it.
func TestSenderMixesInbandDigits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		audio []int16
		tone  float64
	}{
		{"silence", nil, 0},
		{"tone", nil, 440},
		{"loud audio", mediatest.Sine(500, 0.9, 8000, 1100*1e6), 0}, // 1.1 s, looped
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSender(tc.audio, tc.tone)
			det := dtmf.NewDetector(8000)
			var out []int16
			var got string
			frame := make([]int16, media.FrameSamples)
			for i := range 100 { // 2 s
				if i == 20 {
					s.press('8')
				}
				if i == 50 {
					s.press('#')
				}
				s.ReadFrame(frame)
				out = append(out, frame...)
				if d, ok := det.Process(frame); ok {
					got += d.String()
				}
			}
			if got != "8#" {
				t.Errorf("detected %q, want 8#", got)
			}
			if tc.tone > 0 {
				tail := out[len(out)-6400:] // the last 0.8 s, after the digits
				if sh := mediatest.ToneShare(tail, 8000, tc.tone, 25); sh < 0.95 {
					t.Errorf("after the digits %.2f of the energy at %.0f Hz", sh, tc.tone)
				}
				// ToneLevel: a sine's RMS is its peak / √2.
				level := 20*math.Log10(mediatest.RMS(tail)*math.Sqrt2) + fullScaleDBm0
				if math.Abs(level-ToneLevel) > 0.5 {
					t.Errorf("tone at %.1f dBm0, want %.1f", level, ToneLevel)
				}
			}
		})
	}
}

// TestSenderLoopsAudio: the audio restarts at its end.
func TestSenderLoopsAudio(t *testing.T) {
	s := newSender([]int16{1, 2, 3}, 440)
	frame := make([]int16, 7)
	s.ReadFrame(frame)
	if want := []int16{1, 2, 3, 1, 2, 3, 1}; !equal(frame, want) {
		t.Errorf("got %v, want %v", frame, want)
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
