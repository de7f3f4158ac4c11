package tone_test

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/tone"
)

const ms = time.Millisecond

// plan is every region's tones as the sources give them (see regions.go).
var plan = []struct {
	region, kind string
	get          func(string) (tone.Tone, error)
	freqs        []float64
	cadence      []time.Duration
	level        float64
}{
	{"us", "dial", tone.Dial, []float64{350, 440}, nil, -13},
	{"us", "ringback", tone.Ringback, []float64{440, 480}, []time.Duration{2000 * ms, 4000 * ms}, -19},
	{"us", "busy", tone.Busy, []float64{480, 620}, []time.Duration{500 * ms, 500 * ms}, -24},
	{"us", "congestion", tone.Congestion, []float64{480, 620}, []time.Duration{250 * ms, 250 * ms}, -24},
	{"uk", "dial", tone.Dial, []float64{350, 440}, nil, -13},
	{"uk", "ringback", tone.Ringback, []float64{400, 450}, []time.Duration{400 * ms, 200 * ms, 400 * ms, 2000 * ms}, -13},
	{"uk", "busy", tone.Busy, []float64{400}, []time.Duration{375 * ms, 375 * ms}, -13},
	{"uk", "congestion", tone.Congestion, []float64{400}, []time.Duration{400 * ms, 350 * ms, 225 * ms, 525 * ms}, -13},
	{"eu", "dial", tone.Dial, []float64{425}, nil, -13},
	{"eu", "ringback", tone.Ringback, []float64{425}, []time.Duration{1000 * ms, 4000 * ms}, -13},
	{"eu", "busy", tone.Busy, []float64{425}, []time.Duration{500 * ms, 500 * ms}, -13},
	{"eu", "congestion", tone.Congestion, []float64{425}, []time.Duration{250 * ms, 250 * ms}, -13},
}

func TestRegions(t *testing.T) {
	if got := tone.Regions(); !slices.Equal(got, []string{"eu", "uk", "us"}) {
		t.Errorf("Regions() = %v", got)
	}
	for _, p := range plan {
		t.Run(p.region+" "+p.kind, func(t *testing.T) {
			tn, err := p.get(p.region)
			if err != nil {
				t.Fatal(err)
			}
			if err := tn.Validate(); err != nil {
				t.Error(err)
			}
			level := tn.Level
			if level == 0 {
				level = tone.DefaultLevel
			}
			if tn.Name != p.region+" "+p.kind || !slices.Equal(tn.Freqs, p.freqs) || !slices.Equal(tn.Cadence, p.cadence) || level != p.level {
				t.Errorf("got %v", tn)
			}
			if up, err := p.get(strings.ToUpper(p.region)); err != nil || up.Name != tn.Name {
				t.Errorf("region %q: %v, %v", strings.ToUpper(p.region), up, err)
			}
		})
	}
	if tn, err := tone.Ringback("UK"); err != nil || tn.Name != "uk ringback" {
		t.Errorf("Ringback(UK) = %v, %v", tn, err)
	}
	for _, get := range []func(string) (tone.Tone, error){tone.Dial, tone.Ringback, tone.Busy, tone.Congestion} {
		if _, err := get("fr"); !errors.Is(err, tone.ErrRegion) {
			t.Errorf("region fr: %v, want ErrRegion", err)
		}
	}
}

func TestString(t *testing.T) {
	for _, tt := range []struct {
		get    func(string) (tone.Tone, error)
		region string
		want   string
	}{
		{tone.Ringback, "us", "us ringback: 440+480/2000,0/4000 at -19 dBm0"},
		{tone.Dial, "eu", "eu dial: 425 at -13 dBm0"},
		{tone.Ringback, "uk", "uk ringback: 400+450/400,0/200,400+450/400,0/2000 at -13 dBm0"},
	} {
		tn, err := tt.get(tt.region)
		if err != nil {
			t.Fatal(err)
		}
		if got := tn.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// generate returns n samples of tn at rate, read in frames of frame samples.
func generate(t *testing.T, tn tone.Tone, rate, n, frame int) []int16 {
	t.Helper()
	g, err := tone.NewGenerator(tn, rate)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, n)
	for start := 0; start < n; start += frame {
		g.Read(out[start:min(start+frame, n)])
	}
	return out
}

// bursts returns the [start, end) sample ranges of tn's bursts of tone in
// the first periods cycles at rate (one range of n samples if continuous).
func bursts(tn tone.Tone, rate, periods, n int) [][2]int {
	if len(tn.Cadence) == 0 {
		return [][2]int{{0, n}}
	}
	var out [][2]int
	var at time.Duration
	for range periods {
		for i, d := range tn.Cadence {
			if i%2 == 0 {
				out = append(out, [2]int{samplesAt(at, rate), samplesAt(at+d, rate)})
			}
			at += d
		}
	}
	return out
}

func samplesAt(d time.Duration, rate int) int {
	return int(math.Round(d.Seconds() * float64(rate)))
}

// TestGenerator checks each region's tones at 8 and 16 kHz: frequencies,
// level, and cadence.
func TestGenerator(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		for _, p := range plan {
			t.Run(strconv.Itoa(rate)+" "+p.region+" "+p.kind, func(t *testing.T) {
				tn, err := p.get(p.region)
				if err != nil {
					t.Fatal(err)
				}
				periods := 2
				n := periods * samplesAt(tn.Period(), rate)
				if tn.Continuous() {
					n = rate
				}
				out := generate(t, tn, rate, n, rate/50)
				ramp := rate / 500    // 2 ms
				var on, whole []int16 // without and with the fades
				prev := 0
				for _, b := range bursts(tn, rate, periods, n) {
					// Silence between bursts: exactly zero.
					for i := prev; i < b[0]; i++ {
						if out[i] != 0 {
							t.Fatalf("sample %d (%v), in a gap: %d", i, time.Duration(i)*time.Second/time.Duration(rate), out[i])
						}
					}
					// The fade in and out, and nothing louder than the tone.
					if b[0] > 0 && (out[b[0]-1] != 0 || math.Abs(float64(out[b[0]])) > 0.1*32768) {
						t.Errorf("burst at %d starts with %d, %d", b[0], out[b[0]-1], out[b[0]])
					}
					on = append(on, out[b[0]+ramp:b[1]-ramp]...)
					whole = append(whole, out[b[0]:b[1]]...) // the phase runs on across gaps
					prev = b[1]
				}
				for i := prev; i < n && !tn.Continuous(); i++ {
					if out[i] != 0 {
						t.Fatalf("sample %d, in the last gap: %d", i, out[i])
					}
				}
				// Frequencies: each holds an equal share of the energy.
				var total float64
				for _, f := range p.freqs {
					share := mediatest.ToneShare(whole, rate, f, 15)
					total += share
					if want := 1 / float64(len(p.freqs)); math.Abs(share-want) > 0.05 {
						t.Errorf("%v Hz holds %.3f of the energy, want %.2f", f, share, want)
					}
				}
				if total < 0.99 {
					t.Errorf("the tone's frequencies hold %.3f of the energy", total)
				}
				if len(p.freqs) == 1 {
					if f := mediatest.DominantFrequency(whole, rate); math.Abs(f-p.freqs[0]) > 1 {
						t.Errorf("tone at %.1f Hz, want %v", f, p.freqs[0])
					}
				}
				// Level: RMS per frequency, against 0 dBm0 = 22827 peak.
				rms := mediatest.RMS(on) * 32768 / math.Sqrt(float64(len(p.freqs)))
				if level := 20 * math.Log10(rms*math.Sqrt2/22827); math.Abs(level-p.level) > 0.1 {
					t.Errorf("level %.2f dBm0 per frequency, want %v", level, p.level)
				}
			})
		}
	}
}

// TestGeneratorFraming: the output does not depend on the frame size, so
// the phase runs on across frames.
func TestGeneratorFraming(t *testing.T) {
	for _, p := range plan {
		tn, err := p.get(p.region)
		if err != nil {
			t.Fatal(err)
		}
		n := 8000 * 7
		want := generate(t, tn, 8000, n, n)
		for _, frame := range []int{1, 7, 160, 1000} {
			got := generate(t, tn, 8000, n, frame)
			if !slices.Equal(got, want) {
				i := 0
				for got[i] == want[i] {
					i++
				}
				t.Errorf("%s %s in frames of %d: sample %d is %d, %d in one read", p.region, p.kind, frame, i, got[i], want[i])
			}
		}
	}
}

// TestGeneratorPhase: after an hour of continuous tone the oscillators are
// still on the exact sine: amplitude and phase have not drifted.
func TestGeneratorPhase(t *testing.T) {
	dur := time.Hour
	if testing.Short() {
		dur = 5 * time.Minute
	}
	tn := tone.Tone{Freqs: []float64{1004}, Level: -3}
	g := tn.Generator(8000)
	frame := make([]int16, 160)
	frames := int(dur / (20 * ms))
	amp := 22827 * math.Pow(10, -3.0/20)
	var worst float64
	for f := range frames {
		g.Read(frame)
		if f < frames-50 {
			continue
		}
		for i, s := range frame {
			k := f*160 + i
			want := amp * math.Sin(2*math.Pi*1004*float64(k%8000)/8000) // 1004 Hz: period divides 8000 samples
			worst = max(worst, math.Abs(float64(s)-want))
		}
	}
	if worst > 1 {
		t.Errorf("after %v, the tone is off the exact sine by up to %.2f", dur, worst)
	}
}

func TestGeneratorReset(t *testing.T) {
	tn, err := tone.Busy("uk")
	if err != nil {
		t.Fatal(err)
	}
	g := tn.Generator(8000)
	first := make([]int16, 5000)
	g.Read(first)
	g.Reset()
	again := make([]int16, 5000)
	g.Read(again)
	if !slices.Equal(first, again) {
		t.Error("after Reset the tone differs from the start")
	}
}

func TestGeneratorErrors(t *testing.T) {
	tests := []struct {
		name string
		tone tone.Tone
		rate int
	}{
		{"no frequencies", tone.Tone{}, 8000},
		{"five frequencies", tone.Tone{Freqs: []float64{1, 2, 3, 4, 5}}, 8000},
		{"zero Hz", tone.Tone{Freqs: []float64{0}}, 8000},
		{"NaN", tone.Tone{Freqs: []float64{math.NaN()}}, 8000},
		{"at Nyquist", tone.Tone{Freqs: []float64{4000}}, 8000},
		{"above Nyquist", tone.Tone{Freqs: []float64{440, 5000}}, 8000},
		{"odd cadence", tone.Tone{Freqs: []float64{440}, Cadence: []time.Duration{time.Second}}, 8000},
		{"negative cadence", tone.Tone{Freqs: []float64{440}, Cadence: []time.Duration{time.Second, -time.Second}}, 8000},
		{"cadence under a sample", tone.Tone{Freqs: []float64{440}, Cadence: []time.Duration{time.Second, 50 * time.Microsecond}}, 8000},
		{"too loud", tone.Tone{Freqs: []float64{440}, Level: 4}, 8000},
		{"too quiet", tone.Tone{Freqs: []float64{440}, Level: -61}, 8000},
		{"level NaN", tone.Tone{Freqs: []float64{440}, Level: math.NaN()}, 8000},
		{"rate 0", tone.Tone{Freqs: []float64{440}}, 0},
		{"rate 1 MHz", tone.Tone{Freqs: []float64{440}}, 1000000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g, err := tone.NewGenerator(tt.tone, tt.rate); !errors.Is(err, tone.ErrInvalid) {
				t.Errorf("NewGenerator = %v, %v; want ErrInvalid", g, err)
			}
			// Generator never fails: it plays silence.
			frame := []int16{1, 2, 3}
			tt.tone.Generator(tt.rate).Read(frame)
			if slices.Max(frame) != 0 || slices.Min(frame) != 0 {
				t.Errorf("Generator played %v, want silence", frame)
			}
		})
	}
	// Loud frequencies together clip rather than wrap around.
	loud := tone.Tone{Freqs: []float64{400, 403}, Level: 3}
	out := generate(t, loud, 8000, 8000, 160)
	if slices.Max(out) != 32767 || slices.Min(out) != -32768 {
		t.Errorf("two tones at +3 dBm0 peak at %d and %d, want clipped at full scale", slices.Max(out), slices.Min(out))
	}
	for i := 1; i < len(out); i++ { // the steepest slope is 2·32244·2π·403/8000 ≈ 20400
		if d := int(out[i]) - int(out[i-1]); d > 25000 || d < -25000 {
			t.Fatalf("jump of %d at sample %d: wrapped around", d, i)
		}
	}
}

// TestGeneratorAllocs: Read does not allocate.
func TestGeneratorAllocs(t *testing.T) {
	tn, err := tone.Ringback("uk")
	if err != nil {
		t.Fatal(err)
	}
	g := tn.Generator(8000)
	frame := make([]int16, 160)
	if allocs := testing.AllocsPerRun(1000, func() { g.Read(frame) }); allocs != 0 {
		t.Errorf("%.2f allocations per frame, want 0", allocs)
	}
}

// BenchmarkGenerator: one 20 ms frame at 8 kHz per op.
func BenchmarkGenerator(b *testing.B) {
	for _, tt := range []struct {
		name string
		tone tone.Tone
	}{
		{"one frequency", tone.Tone{Freqs: []float64{425}}},
		{"two frequencies", tone.Tone{Freqs: []float64{440, 480}}},
		{"us ringback", tone.Tone{Freqs: []float64{440, 480}, Cadence: []time.Duration{2 * time.Second, 4 * time.Second}}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			g, err := tone.NewGenerator(tt.tone, 8000)
			if err != nil {
				b.Fatal(err)
			}
			frame := make([]int16, 160)
			b.ReportAllocs()
			for b.Loop() {
				g.Read(frame)
			}
		})
	}
}
