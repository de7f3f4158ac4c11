package tone

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Levels, in dBm0.
const (
	// DefaultLevel is the level of a Tone whose Level is 0: -13 dBm0 per
	// frequency, North America's dial tone.
	DefaultLevel = -13.0
	// MaxLevel is the loudest level a Tone may have: +3 dBm0, just under
	// the G.711 overload point (+3.14 dBm0 for A-law, +3.17 for μ-law).
	MaxLevel = 3.0
	// MinLevel is the quietest: -60 dBm0, about one 16-bit step.
	MinLevel = -60.0
)

// Tone limits.
const (
	maxFreqs   = 4
	maxCadence = 16
	maxFreq    = 20000.0
)

// Tone is a call-progress tone: one or more frequencies played together,
// switched on and off in a repeating cadence.
type Tone struct {
	// Name says what the tone is, e.g. "us ringback". Informational.
	Name string
	// Freqs are the frequencies in Hz that sound together, 1 to 4 of them,
	// each above 0 and below half the sample rate it is generated at.
	Freqs []float64
	// Cadence lists on and off times alternately, starting with on, and
	// repeats: {2s, 4s} is two seconds of tone then four of silence. It has
	// an even number of entries (at most 16), each at least one sample
	// long. Empty means a continuous tone.
	Cadence []time.Duration
	// Level is the level of each frequency in dBm0, the way national tone
	// plans give it ("-19 dBm0 per frequency"): 0 dBm0 is a sine of peak
	// amplitude 22 827, 3.14 dB below a full-scale 16-bit sine (ITU-T G.711:
	// the A-law overload point is +3.14 dBm0). MinLevel to MaxLevel; 0 means
	// DefaultLevel. Frequencies add up: two at -13 dBm0 peak at 2·5111.
	Level float64
}

// dBm0Peak is the peak amplitude of a 0 dBm0 sine as 16-bit PCM (see
// Tone.Level): 32768·10^(-3.14/20).
const dBm0Peak = 22827.0

// amplitude returns the peak amplitude, in 16-bit units, of each frequency.
func (t Tone) amplitude() float64 {
	level := t.Level
	if level == 0 {
		level = DefaultLevel
	}
	return dBm0Peak * math.Pow(10, level/20)
}

// Validate checks the tone's fields against their documented ranges,
// independently of any sample rate (Generator also checks the frequencies
// against its rate). Errors wrap ErrInvalid.
func (t Tone) Validate() error {
	if len(t.Freqs) == 0 || len(t.Freqs) > maxFreqs {
		return fmt.Errorf("tone %q: %w: %d frequencies, want 1 to %d", t.Name, ErrInvalid, len(t.Freqs), maxFreqs)
	}
	for _, f := range t.Freqs {
		if !(f > 0 && f < maxFreq) {
			return fmt.Errorf("tone %q: %w: frequency %v Hz", t.Name, ErrInvalid, f)
		}
	}
	if len(t.Cadence)%2 != 0 || len(t.Cadence) > maxCadence {
		return fmt.Errorf("tone %q: %w: cadence of %d entries, want on/off pairs, at most %d entries", t.Name, ErrInvalid, len(t.Cadence), maxCadence)
	}
	for i, d := range t.Cadence {
		if d <= 0 || d > time.Hour {
			return fmt.Errorf("tone %q: %w: cadence entry %d is %v", t.Name, ErrInvalid, i, d)
		}
	}
	if t.Level != 0 && !(t.Level >= MinLevel && t.Level <= MaxLevel) {
		return fmt.Errorf("tone %q: %w: level %v dBm0, want %v to %v", t.Name, ErrInvalid, t.Level, MinLevel, MaxLevel)
	}
	return nil
}

// Period returns the length of one cadence cycle, 0 for a continuous tone.
func (t Tone) Period() time.Duration {
	var p time.Duration
	for _, d := range t.Cadence {
		p += d
	}
	return p
}

// Continuous reports whether the tone never pauses.
func (t Tone) Continuous() bool { return len(t.Cadence) == 0 }

// String returns the tone in the notation of Asterisk's indications.conf,
// after its name: "us ringback: 440+480/2000,0/4000 at -19 dBm0".
func (t Tone) String() string {
	var b strings.Builder
	if t.Name != "" {
		b.WriteString(t.Name)
		b.WriteString(": ")
	}
	freqs := make([]string, len(t.Freqs))
	for i, f := range t.Freqs {
		freqs[i] = fmt.Sprint(f)
	}
	on := strings.Join(freqs, "+")
	if len(t.Cadence) == 0 {
		b.WriteString(on)
	}
	for i, d := range t.Cadence {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%2 == 0 {
			b.WriteString(on)
		} else {
			b.WriteByte('0')
		}
		fmt.Fprintf(&b, "/%d", d.Milliseconds())
	}
	level := t.Level
	if level == 0 {
		level = DefaultLevel
	}
	fmt.Fprintf(&b, " at %v dBm0", level)
	return b.String()
}
