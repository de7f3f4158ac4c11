package dtmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// allDigits lists every DTMF digit.
const allDigits = "0123456789*#ABCD"

var rates = []int{8000, 16000}

// lead returns a few samples of silence, a different number for each i, so
// that tones start at many positions relative to frames and sub-blocks.
func lead(rate, i int) []int16 {
	return make([]int16, (i*37)%(rate/50))
}

func TestDetectorDigits(t *testing.T) {
	tests := []struct {
		name     string
		row, col float64 // levels in dBm0
		dur      time.Duration
	}{
		{"loud", -3, -3, 60 * time.Millisecond},
		{"typical", -7, -9, 100 * time.Millisecond},
		{"quiet", -25, -25, 60 * time.Millisecond},
		{"shortest", -10, -10, 40 * time.Millisecond},
		{"normal twist 7 dB", -8, -15, 60 * time.Millisecond},
		{"reverse twist 3 dB", -13, -10, 60 * time.Millisecond},
		{"long press", -10, -10, 3 * time.Second},
	}
	for _, tt := range tests {
		for _, rate := range rates {
			t.Run(fmt.Sprintf("%s/%d", tt.name, rate), func(t *testing.T) {
				for i := range len(allDigits) {
					d := Digit(allDigits[i])
					audio := concat(lead(rate, i), dual(t, d, rate, tt.dur, tt.row, tt.col), silence(rate, 100*time.Millisecond))
					if got := detect(audio, rate, rate/50); got != string(d) {
						t.Errorf("%v: got %q", d, got)
					}
				}
			})
		}
	}
}

// TestDetectorSequence: digits separated by the shortest pauses of ITU-T
// Q.24 are each reported once, in order.
func TestDetectorSequence(t *testing.T) {
	for _, rate := range rates {
		for _, tone := range []time.Duration{40, 50, 60, 100} {
			for _, gap := range []time.Duration{40, 50, 60} {
				t.Run(fmt.Sprintf("%d/%dms on %dms off", rate, tone, gap), func(t *testing.T) {
					var audio []int16
					for i := range len(allDigits) {
						audio = concat(audio, lead(rate, i), dual(t, Digit(allDigits[i]), rate, tone*time.Millisecond, -8, -10),
							silence(rate, gap*time.Millisecond))
					}
					if got := detect(audio, rate, rate/50); got != allDigits {
						t.Errorf("got %q, want %q", got, allDigits)
					}
				})
			}
		}
	}
}

// TestDetectorRepeat: the same digit pressed again after a pause is reported
// again, but a dropout of 10 ms within a press is bridged (ITU-T Q.24).
func TestDetectorRepeat(t *testing.T) {
	tests := []struct {
		name string
		gap  time.Duration
		want string
	}{
		{"5 ms dropout", 5 * time.Millisecond, "5"},
		{"10 ms dropout", 10 * time.Millisecond, "5"},
		{"30 ms pause", 30 * time.Millisecond, "55"},
		{"40 ms pause", 40 * time.Millisecond, "55"},
		{"1 s pause", time.Second, "55"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 8 {
				audio := concat(lead(8000, i), dual(t, '5', 8000, 80*time.Millisecond, -10, -10), silence(8000, tt.gap),
					dual(t, '5', 8000, 80*time.Millisecond, -10, -10), silence(8000, 50*time.Millisecond))
				if got := detect(audio, 8000, 160); got != tt.want {
					t.Errorf("offset %d: got %q, want %q", i, got, tt.want)
				}
			}
		})
	}
	// Another digit straight after the first, with no pause, is a new press.
	audio := concat(dual(t, '1', 8000, 80*time.Millisecond, -10, -10), dual(t, '9', 8000, 80*time.Millisecond, -10, -10))
	if got := detect(audio, 8000, 160); got != "19" {
		t.Errorf("1 then 9 without a pause: got %q", got)
	}
}

// TestDetectorShort: tones shorter than 30 ms are not digits, wherever they
// start relative to the frames.
func TestDetectorShort(t *testing.T) {
	for _, rate := range rates {
		for _, dur := range []time.Duration{10, 20, 25, 29} {
			t.Run(fmt.Sprintf("%d/%dms", rate, dur), func(t *testing.T) {
				for i := range len(allDigits) {
					for off := 0; off < rate/50; off += rate / 800 {
						audio := concat(make([]int16, off), dual(t, Digit(allDigits[i]), rate, dur*time.Millisecond, -5, -5),
							silence(rate, 60*time.Millisecond))
						if got := detect(audio, rate, rate/50); got != "" {
							t.Fatalf("%c at offset %d: got %q", allDigits[i], off, got)
						}
					}
				}
			})
		}
	}
}

// TestDetectorRejects: signals that are not DTMF digits.
func TestDetectorRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	second := time.Second
	tests := []struct {
		name  string
		audio []int16
	}{
		{"silence", silence(8000, second)},
		{"white noise -10 dBm0", noise(rng, 8000, 5*second, -10)},
		{"white noise -30 dBm0", noise(rng, 8000, 5*second, -30)},
		{"normal twist 10 dB", dual(t, '5', 8000, second, -5, -15)},
		{"normal twist 12 dB", dual(t, '#', 8000, second, -8, -20)},
		{"reverse twist 6 dB", dual(t, '5', 8000, second, -16, -10)},
		{"reverse twist 8 dB", dual(t, '1', 8000, second, -13, -5)},
		{"too quiet", dual(t, '5', 8000, second, -35, -35)},
		{"row too quiet", dual(t, '5', 8000, second, -33, -27)},
		{"two rows", sines(8000, second, []float64{697, 770}, []float64{-10, -10})},
		{"two columns", sines(8000, second, []float64{1336, 1477}, []float64{-10, -10})},
		{"three tones", sines(8000, second, []float64{770, 1336, 1477}, []float64{-10, -10, -10})},
		{"two rows and a column", sines(8000, second, []float64{697, 852, 1336}, []float64{-10, -10, -10})},
		{"digit in loud noise", mix(dual(t, '5', 8000, second, -20, -20), noise(rng, 8000, second, -15))},
		{"dial tone 350+440 Hz", sines(8000, second, []float64{350, 440}, []float64{-13, -13})},
		{"ringback 440+480 Hz", sines(8000, second, []float64{440, 480}, []float64{-19, -19})},
		{"busy 480+620 Hz", sines(8000, second, []float64{480, 620}, []float64{-24, -24})},
	}
	for _, f := range toneFreqs() {
		tests = append(tests, struct {
			name  string
			audio []int16
		}{fmt.Sprintf("single tone %v Hz", f), sines(8000, second, []float64{f}, []float64{0})})
	}
	for _, f := range []float64{440, 1000, 2100} {
		tests = append(tests, struct {
			name  string
			audio []int16
		}{fmt.Sprintf("single tone %v Hz", f), sines(8000, second, []float64{f}, []float64{0})})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detect(tt.audio, 8000, 160); got != "" {
				t.Errorf("got %q", got)
			}
		})
	}
}

// TestDetectorTolerance: frequencies off by up to 1.5% and moderate noise
// still make digits (ITU-T Q.24); frequencies 6% off do not.
func TestDetectorTolerance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dev := range []float64{-0.015, 0.015} {
		t.Run(fmt.Sprintf("off by %+.1f%%", 100*dev), func(t *testing.T) {
			for i := range len(allDigits) {
				row, col, _ := freqsOf(Digit(allDigits[i]))
				audio := concat(lead(8000, i), sines(8000, 60*time.Millisecond, []float64{row * (1 + dev), col * (1 + dev)}, []float64{-10, -10}),
					silence(8000, 60*time.Millisecond))
				if got := detect(audio, 8000, 160); got != allDigits[i:i+1] {
					t.Errorf("%c: got %q", allDigits[i], got)
				}
			}
		})
	}
	for _, dev := range []float64{-0.06, 0.06} {
		t.Run(fmt.Sprintf("off by %+.0f%%", 100*dev), func(t *testing.T) {
			for i := range len(allDigits) {
				row, col, _ := freqsOf(Digit(allDigits[i]))
				audio := sines(8000, 200*time.Millisecond, []float64{row * (1 + dev), col * (1 + dev)}, []float64{-10, -10})
				if got := detect(audio, 8000, 160); got != "" {
					t.Errorf("%c: got %q", allDigits[i], got)
				}
			}
		})
	}
	t.Run("15 dB SNR", func(t *testing.T) {
		var audio []int16
		for i := range len(allDigits) {
			audio = concat(audio, dual(t, Digit(allDigits[i]), 8000, 60*time.Millisecond, -17, -17), silence(8000, 60*time.Millisecond))
		}
		// Each tone is -17 dBm0: the pair is -14 dBm0, 15 dB above the noise.
		audio = mix(audio, noise(rng, 8000, time.Duration(len(audio))*time.Second/8000, -29))
		if got := detect(audio, 8000, 160); got != allDigits {
			t.Errorf("got %q, want %q", got, allDigits)
		}
	})
}

// TestDetectorG711: digits survive μ-law and A-law.
func TestDetectorG711(t *testing.T) {
	laws := []struct {
		name string
		enc  func(int16) uint8
		dec  func(uint8) int16
	}{
		{"PCMU", g711.EncodeUlawFrame, g711.DecodeUlawFrame},
		{"PCMA", g711.EncodeAlawFrame, g711.DecodeAlawFrame},
	}
	for _, law := range laws {
		t.Run(law.name, func(t *testing.T) {
			var audio []int16
			for i := range len(allDigits) {
				audio = concat(audio, dual(t, Digit(allDigits[i]), 8000, 50*time.Millisecond, -22, -24), silence(8000, 50*time.Millisecond))
			}
			for i, s := range audio {
				audio[i] = law.dec(law.enc(s))
			}
			if got := detect(audio, 8000, 160); got != allDigits {
				t.Errorf("got %q, want %q", got, allDigits)
			}
		})
	}
}

// TestDetectorFrames: how the audio is cut into frames does not matter.
func TestDetectorFrames(t *testing.T) {
	var audio []int16
	for i := range len(allDigits) {
		audio = concat(audio, lead(8000, i), dual(t, Digit(allDigits[i]), 8000, 45*time.Millisecond, -10, -10), silence(8000, 45*time.Millisecond))
	}
	for _, frame := range []int{1, 7, 80, 160, 240, 480, 1000} {
		t.Run(fmt.Sprint(frame), func(t *testing.T) {
			if got := detect(audio, 8000, frame); got != allDigits {
				t.Errorf("got %q, want %q", got, allDigits)
			}
		})
	}
}

func TestDetectorReset(t *testing.T) {
	d := NewDetector(8000)
	tone := dual(t, '7', 8000, 200*time.Millisecond, -10, -10)
	var got []Digit
	run := func(audio []int16) {
		for i := 0; i < len(audio); i += 160 {
			if w, ok := d.Process(audio[i:min(i+160, len(audio))]); ok {
				got = append(got, w)
			}
		}
	}
	run(tone[:240]) // 30 ms: not yet a digit
	d.Reset()
	run(tone[:240]) // another 30 ms, but the first was forgotten
	if len(got) != 0 {
		t.Fatalf("got %q after Reset", got)
	}
	run(tone)
	d.Reset()
	run(tone) // the same press, but Reset forgot it was reported
	if string(got) != "77" {
		t.Fatalf("got %q, want 77", got)
	}
}

func TestNewDetectorRates(t *testing.T) {
	for _, tt := range []struct{ rate, hop int }{{0, 29}, {-1, 29}, {8000, 29}, {16000, 58}, {44100, 160}, {48000, 174}, {96000, 174}} {
		if d := NewDetector(tt.rate); d.hop != tt.hop {
			t.Errorf("NewDetector(%d): hop %d, want %d", tt.rate, d.hop, tt.hop)
		}
	}
	audio := concat(dual(t, '3', 48000, 50*time.Millisecond, -10, -10), silence(48000, 50*time.Millisecond), dual(t, 'D', 48000, 50*time.Millisecond, -10, -10))
	if got := detect(audio, 48000, 960); got != "3D" {
		t.Errorf("48 kHz: got %q", got)
	}
}

// TestDetectorSpeech: speech is not taken for digits (talk-off), and digits
// are found after and over quiet speech.
func TestDetectorSpeech(t *testing.T) {
	speech, rate := readWAV(t, "testdata/speech-8k.wav")
	if rate != 8000 {
		t.Fatalf("speech at %d Hz", rate)
	}
	for _, gain := range []float64{0.1, 0.3, 1, 3} {
		t.Run(fmt.Sprintf("gain %v", gain), func(t *testing.T) {
			audio := scale(speech, gain)
			if got := detect(audio, rate, 160); got != "" {
				t.Errorf("8 kHz: got %q", got)
			}
			if got := detect(upsample(audio), 2*rate, 320); got != "" {
				t.Errorf("16 kHz: got %q", got)
			}
		})
	}
	var digits []int16
	for i := range len(allDigits) {
		digits = concat(digits, dual(t, Digit(allDigits[i]), 8000, 70*time.Millisecond, -8, -10), silence(8000, 130*time.Millisecond))
	}
	t.Run("digits after speech", func(t *testing.T) {
		if got := detect(concat(speech, digits), rate, 160); got != allDigits {
			t.Errorf("got %q, want %q", got, allDigits)
		}
	})
	t.Run("digits over quiet speech", func(t *testing.T) {
		// Speech about 20 dB below the tones (its RMS is about -17 dBm0).
		if got := detect(mix(scale(speech[8000:8000+len(digits)], 0.1), digits), rate, 160); got != allDigits {
			t.Errorf("got %q, want %q", got, allDigits)
		}
	})
}

// TestDetectorMusic: chords and melodies of instrument-like notes (a
// fundamental and harmonics) are not digits, nor is a melody of pure sines.
// (Two pure sines that happen to be a row and a column frequency, such as F5
// and F#6 at 698 and 1480 Hz, are a DTMF digit by any measure.)
func TestDetectorMusic(t *testing.T) {
	tests := []struct {
		name  string
		audio []int16
	}{
		{"chords", music(8000, 400*time.Millisecond, 5, [][]int{{60, 64, 67}, {65, 69, 72}, {67, 71, 74, 77}, {69, 72, 76}, {62, 65, 69}, {72, 76, 79}, {77, 81, 84}, {79, 83, 86}})},
		{"high chords", music(8000, 300*time.Millisecond, 3, [][]int{{76, 79, 84}, {77, 81, 89}, {79, 83, 86, 90}, {81, 84, 88}, {78, 89}, {76, 88, 91}})},
		{"melody", music(8000, 150*time.Millisecond, 4, [][]int{{72}, {74}, {76}, {77}, {79}, {81}, {83}, {84}, {86}, {88}, {89}, {90}, {91}, {93}, {95}, {96}})},
		{"sine melody", music(8000, 100*time.Millisecond, 1, [][]int{{77}, {78}, {79}, {80}, {81}, {82}, {83}, {84}, {85}, {86}, {87}, {88}, {89}, {90}, {91}, {92}})},
		{"melody over chords", mix(
			music(8000, 200*time.Millisecond, 5, [][]int{{48, 55, 64}, {48, 55, 64}, {53, 57, 65}, {53, 57, 65}, {55, 59, 67}, {55, 59, 67}, {48, 55, 64}, {48, 55, 64}}),
			music(8000, 100*time.Millisecond, 3, [][]int{{77}, {78}, {79}, {81}, {89}, {90}, {84}, {83}, {81}, {79}, {78}, {77}, {76}, {77}, {78}, {90}}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, gain := range []float64{0.3, 1} {
				if got := detect(scale(tt.audio, gain), 8000, 160); got != "" {
					t.Errorf("gain %v: got %q", gain, got)
				}
			}
		})
	}
}

// music plays each chord (MIDI note numbers: 69 is A4, 440 Hz) for dur, each
// note with harmonics 1..harmonics at amplitudes 1/h, a 10 ms attack and a
// decay, each note about -14 dBm0.
func music(rate int, dur time.Duration, harmonics int, chords [][]int) []int16 {
	n := samples(rate, dur)
	out := make([]int16, 0, n*len(chords))
	for _, chord := range chords {
		for i := range n {
			env := min(float64(i)/(0.01*float64(rate)), 1) * math.Exp(-2*float64(i)/float64(n))
			var v float64
			for _, note := range chord {
				f := 440 * math.Pow(2, float64(note-69)/12)
				for h := 1; h <= harmonics && float64(h)*f < float64(rate)/2; h++ {
					v += math.Sin(2*math.Pi*float64(h)*f*float64(i)/float64(rate)) / float64(h)
				}
			}
			out = append(out, clip16(v*env*amplitude(-14)*math.MaxInt16))
		}
	}
	return out
}

func scale(audio []int16, gain float64) []int16 {
	out := make([]int16, len(audio))
	for i, s := range audio {
		out[i] = clip16(float64(s) * gain)
	}
	return out
}

// upsample doubles the sample rate by linear interpolation.
func upsample(audio []int16) []int16 {
	out := make([]int16, 2*len(audio))
	for i, s := range audio {
		next := s
		if i+1 < len(audio) {
			next = audio[i+1]
		}
		out[2*i], out[2*i+1] = s, int16((int32(s)+int32(next))/2)
	}
	return out
}

func TestDetectorAllocs(t *testing.T) {
	d := NewDetector(8000)
	audio := concat(dual(t, '5', 8000, 100*time.Millisecond, -10, -10), silence(8000, 100*time.Millisecond))
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		d.Process(audio[i : i+160])
		i = (i + 160) % len(audio)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame", allocs)
	}
}

func BenchmarkDetector(b *testing.B) {
	for _, rate := range rates {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			frame := rate / 50
			var audio []int16
			for i := range 4 {
				audio = concat(audio, dual(b, Digit(allDigits[i]), rate, 60*time.Millisecond, -10, -10), silence(rate, 100*time.Millisecond))
			}
			audio = audio[:len(audio)/frame*frame]
			d := NewDetector(rate)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d.Process(audio[i : i+frame])
				i = (i + frame) % len(audio)
			}
		})
	}
}
