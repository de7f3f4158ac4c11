package wav_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/wav"
)

// holdMusic is the default hold music, made by configs/sounds/make.sh.
var holdMusic = filepath.Join("..", "..", "configs", "sounds", "hold-music.wav")

// dtmfRows and dtmfCols are the DTMF frequencies (ITU-T Q.23).
var (
	dtmfRows = []float64{697, 770, 852, 941}
	dtmfCols = []float64{1209, 1336, 1477, 1633}
)

// goertzelShare returns the fraction of x's energy at freq (Goertzel
// algorithm): about 1 for a pure sine at freq over the whole block, 0.5 for
// each tone of a DTMF digit.
func goertzelShare(x []int16, rate int, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2, energy float64
	for _, v := range x {
		f := float64(v)
		s1, s2 = f+coeff*s1-s2, s1
		energy += f * f
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(x)) * energy)
}

// TestHoldMusic checks configs/sounds/hold-music.wav: its format, length
// and size; that it is music (many notes, none dominant); that it loops
// without a click; and that nothing in it could pass for a DTMF digit.
func TestHoldMusic(t *testing.T) {
	raw, err := os.ReadFile(holdMusic)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 500<<10 {
		t.Errorf("%d bytes, want under 500 KiB", len(raw))
	}
	le := binary.LittleEndian
	if len(raw) < 44 || string(raw[12:16]) != "fmt " || le.Uint16(raw[20:]) != 1 || le.Uint16(raw[22:]) != 1 ||
		le.Uint32(raw[24:]) != 8000 || le.Uint16(raw[34:]) != 16 || string(raw[36:40]) != "data" {
		t.Fatalf("not a canonical 8 kHz mono 16-bit PCM WAV file: % x", raw[:min(len(raw), 44)])
	}
	a, err := wav.ReadFile(holdMusic)
	if err != nil {
		t.Fatal(err)
	}
	s := a.Samples
	if d := a.Duration(); d < 20*time.Second || d > 30*time.Second {
		t.Errorf("%v long, want 20 to 30 s", d)
	}
	level := 20 * math.Log10(mediatest.RMS(s))
	if level < -26 || level > -14 {
		t.Errorf("RMS %.1f dBFS, want -26 to -14", level)
	}
	t.Logf("%v, RMS %.1f dBFS", a.Duration(), level)

	// Music: the notes of the piece each hold a share of the energy, and no
	// single frequency most of it.
	notes := map[string]float64{
		"G3": 196.00, "A3": 220.00, "C4": 261.63, "E4": 329.63, "G4": 392.00,
		"B4": 493.88, "D5": 587.33, "E5": 659.26, "G5": 783.99, "A5": 880.00,
	}
	heard := 0
	for name, f := range notes {
		share := mediatest.ToneShare(s, 8000, f, 4)
		if share > 0.01 {
			heard++
		}
		if share > 0.4 {
			t.Errorf("%s (%.0f Hz) holds %.2f of the energy: too close to a single tone", name, f, share)
		}
	}
	if heard < 8 {
		t.Errorf("only %d of the piece's %d notes hold over 1%% of the energy", heard, len(notes))
	}

	// Loops without a click: it fades out to silence and fades in from it
	// (over 0.8 s and 0.1 s), so the jump from the end to the start is tiny.
	head, tail := s[:40], s[len(s)-80:] // 5 ms, 10 ms
	if first, last := s[0], s[len(s)-1]; abs(first) > 50 || abs(last) > 50 ||
		mediatest.RMS(head) > 0.002 || mediatest.RMS(tail) > 0.002 {
		t.Errorf("ends are not silent: first sample %d, last %d, RMS %.4f over the first 5 ms, %.4f over the last 10 ms",
			first, last, mediatest.RMS(head), mediatest.RMS(tail))
	}

	// No DTMF: nothing sounds near a column frequency, so no 40 ms block
	// (the shortest digit, ITU-T Q.24) has a row tone and a column tone.
	if band := mediatest.ToneShare(s, 8000, 1425, 275); band > 1e-4 {
		t.Errorf("%.5f of the energy lies between 1150 and 1700 Hz, where the DTMF column tones are", band)
	}
	const block, hop = 320, 80 // 40 ms every 10 ms
	var worstRow, worstCol float64
	for start := 0; start+block <= len(s); start += hop {
		x := s[start : start+block]
		if mediatest.RMS(x) < 0.003 { // under -50 dBFS
			continue
		}
		var row, col float64
		for _, f := range dtmfRows {
			row = max(row, goertzelShare(x, 8000, f))
		}
		for _, f := range dtmfCols {
			col = max(col, goertzelShare(x, 8000, f))
		}
		worstRow, worstCol = max(worstRow, row), max(worstCol, col)
		if row > 0.1 && col > 0.1 {
			t.Errorf("at %v a DTMF row tone holds %.2f and a column tone %.2f of the energy",
				time.Duration(start)*time.Second/8000, row, col)
		}
	}
	t.Logf("largest share of a 40 ms block: %.3f at a DTMF row frequency, %.5f at a column frequency", worstRow, worstCol)
	if worstCol > 0.01 {
		t.Errorf("a DTMF column frequency holds up to %.3f of a 40 ms block", worstCol)
	}
}

func abs(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}
