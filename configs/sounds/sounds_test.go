package sounds_test

import (
	"bytes"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/configs/sounds"
	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/wav"
)

// prompts are the sounds of the sample dialplan (besides hold-music.wav,
// which media/wav's TestHoldMusic checks): all made by make.sh and
// documented in README.md.
var prompts = []string{
	"welcome.wav",
	"menu-main.wav",
	"menu-billing.wav",
	"on-hold.wav",
	"all-busy.wav",
	"unavailable.wav",
	"after-hours.wav",
	"voicemail.wav",
	"beep.wav",
}

// TestPrompts checks each prompt: it is embedded, decodes as 8 kHz mono,
// lasts 0.3 to 15 s, is loud enough to hear but not clipped, and holds
// nothing an in-band DTMF detector at the far end could take for a digit.
func TestPrompts(t *testing.T) {
	for _, name := range prompts {
		t.Run(name, func(t *testing.T) {
			raw, err := fs.ReadFile(sounds.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			a, err := wav.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != 8000 || len(a.Channels) != 1 {
				t.Fatalf("%d Hz, %d channels; want 8000 Hz mono", a.Rate, len(a.Channels))
			}
			if d := a.Duration(); d < 300*time.Millisecond || d > 15*time.Second {
				t.Errorf("%v long, want 0.3 to 15 s", a.Duration())
			}
			if want := 44 + 2*len(a.Samples); len(raw) != want {
				t.Errorf("%d bytes, want %d (a 44-byte header and the samples)", len(raw), want)
			}
			peak := 0
			for _, s := range a.Samples {
				peak = max(peak, abs(int(s)))
			}
			peakDB := 20 * math.Log10(float64(peak)/32768)
			rmsDB := 20 * math.Log10(mediatest.RMS(a.Samples))
			t.Logf("%v, %d bytes, peak %.1f dBFS, RMS %.1f dBFS", a.Duration(), len(raw), peakDB, rmsDB)
			if peakDB < -13 || peakDB > -5 {
				t.Errorf("peak %.1f dBFS, want -13 to -5", peakDB)
			}
			if rmsDB < -30 {
				t.Errorf("RMS %.1f dBFS, want -30 or more", rmsDB)
			}
			det := dtmf.NewDetector(8000)
			for i := 0; i < len(a.Samples); i += 160 {
				if d, ok := det.Process(a.Samples[i:min(i+160, len(a.Samples))]); ok {
					t.Errorf("in-band DTMF detector hears %q at %v", d, time.Duration(i)*time.Second/8000)
				}
			}
		})
	}
}

// TestListed checks that every embedded sound is a prompt of this test or
// the hold music, and that README.md documents each.
func TestListed(t *testing.T) {
	names, err := fs.Glob(sounds.FS, "*.wav")
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"hold-music.wav"}, prompts...)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("embedded %q, want %q", names, want)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range want {
		if !strings.Contains(string(readme), "## "+name+"\n") || !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("README.md has no table row and section for %s", name)
		}
	}
}

// TestHoldMusicExport checks that HoldMusic and FS hold the same file.
func TestHoldMusicExport(t *testing.T) {
	raw, err := fs.ReadFile(sounds.FS, "hold-music.wav")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, sounds.HoldMusic) {
		t.Error("FS's hold-music.wav differs from HoldMusic")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
