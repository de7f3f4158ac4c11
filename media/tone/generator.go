package tone

import (
	"fmt"
	"math"
	"time"
)

const (
	// rampTime is how long each burst of tone takes to fade in and to fade
	// out (linearly), so that switching it on and off does not click.
	rampTime = 2 * time.Millisecond
	// renormEvery is how many samples the oscillators run between
	// corrections of their amplitude.
	renormEvery = 512
	// Sample rates a Generator accepts.
	minRate = 1000
	maxRate = 192000
)

// Generator produces a Tone as 16-bit PCM, frame by frame, from the start of
// its cadence. It is not safe for concurrent use; each call leg gets its own.
//
// Each frequency comes from a recursive oscillator: a unit phasor rotated by
// a fixed angle per sample (one complex multiplication, no table, no
// math.Sin per sample), its amplitude corrected every 512 samples so that
// rounding errors cannot build up over hours. The phase runs on across
// frames and across the gaps of the cadence, so the output does not depend
// on how it is cut into frames; each burst fades in and out over 2 ms.
type Generator struct {
	osc   []oscillator
	amp   float64 // peak amplitude of each frequency
	lens  []int   // cadence in samples: on, off, on, ...; nil for continuous
	seg   int     // current cadence segment
	pos   int     // samples into it (continuous: into the tone, up to ramp)
	ramp  int     // samples of fade in and out
	steps int     // oscillator steps since the last renormalisation
}

// oscillator is a phasor re + i·im, rotated by stepRe + i·stepIm per sample.
type oscillator struct {
	re, im, stepRe, stepIm float64
}

// Generator returns a generator of t at rate Hz. It never fails: for a tone
// that NewGenerator rejects it returns a generator of silence. The tones of
// Dial, Ringback, Busy and Congestion are fine at any rate from 8 kHz up;
// check other tones with NewGenerator (or Validate) when they are loaded.
func (t Tone) Generator(rate int) *Generator {
	g, err := NewGenerator(t, rate)
	if err != nil {
		return &Generator{}
	}
	return g
}

// NewGenerator returns a generator of t at rate Hz (1 kHz to 192 kHz). It
// fails, with an error wrapping ErrInvalid, if t does not Validate, if a
// frequency is not below rate/2, or if a cadence entry is shorter than one
// sample at rate.
func NewGenerator(t Tone, rate int) (*Generator, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if rate < minRate || rate > maxRate {
		return nil, fmt.Errorf("tone %q: %w: sample rate %d Hz", t.Name, ErrInvalid, rate)
	}
	g := &Generator{
		osc:  make([]oscillator, len(t.Freqs)),
		amp:  t.amplitude(),
		ramp: int(rampTime.Seconds() * float64(rate)),
	}
	for i, f := range t.Freqs {
		if f >= float64(rate)/2 {
			return nil, fmt.Errorf("tone %q: %w: %v Hz is not below half the sample rate, %d Hz", t.Name, ErrInvalid, f, rate)
		}
		w := 2 * math.Pi * f / float64(rate)
		g.osc[i] = oscillator{stepRe: math.Cos(w), stepIm: math.Sin(w)}
	}
	if len(t.Cadence) > 0 {
		// Segment ends are rounded from the running total, so rounding
		// does not accumulate over a cycle.
		g.lens = make([]int, len(t.Cadence))
		var total time.Duration
		prev := 0
		for i, d := range t.Cadence {
			total += d
			end := int(math.Round(total.Seconds() * float64(rate)))
			if g.lens[i] = end - prev; g.lens[i] < 1 {
				return nil, fmt.Errorf("tone %q: %w: cadence entry %d (%v) is under one sample at %d Hz", t.Name, ErrInvalid, i, d, rate)
			}
			prev = end
		}
	}
	g.Reset()
	return g, nil
}

// Reset restarts the generator at the beginning of its cadence, with its
// oscillators at phase 0.
func (g *Generator) Reset() {
	for i := range g.osc {
		g.osc[i].re, g.osc[i].im = 1, 0
	}
	g.seg, g.pos, g.steps = 0, 0, 0
}

// Read fills frame with the next len(frame) samples of the tone: zeros in
// the gaps of its cadence. Frames may have any length (160 samples are 20 ms
// at 8 kHz). Read does not allocate.
func (g *Generator) Read(frame []int16) {
	if g.lens == nil {
		g.synth(frame, g.pos, -1)
		g.pos = min(g.pos+len(frame), g.ramp)
		return
	}
	for len(frame) > 0 {
		length := g.lens[g.seg]
		n := min(len(frame), length-g.pos)
		if g.seg%2 == 0 {
			g.synth(frame[:n], g.pos, length)
		} else {
			clear(frame[:n])
		}
		frame = frame[n:]
		if g.pos += n; g.pos == length {
			g.pos = 0
			g.seg = (g.seg + 1) % len(g.lens)
		}
	}
}

// synth writes the tone into dst, whose first sample is pos samples into a
// burst of length samples (length < 0: a burst without end). The gain is 1
// but for the fades, the burst's first and last ramp samples, where it is
// (p+1)/(ramp+1) and (length-p)/(ramp+1) at sample p of the burst: a
// function of p alone, so the output does not depend on framing.
func (g *Generator) synth(dst []int16, pos, length int) {
	fade := 1 / float64(g.ramp+1)
	for len(dst) > 0 {
		fadeIn := pos < g.ramp
		fadeOut := length >= 0 && length-pos <= g.ramp
		if fadeIn || fadeOut {
			gain := 1.0
			if fadeIn {
				gain = float64(pos+1) * fade
			}
			if fadeOut {
				gain = min(gain, float64(length-pos)*fade)
			}
			g.run(dst[:1], gain)
			dst, pos = dst[1:], pos+1
			continue
		}
		n := len(dst)
		if length >= 0 {
			n = min(n, length-g.ramp-pos)
		}
		g.run(dst[:n], 1)
		dst, pos = dst[n:], pos+n
	}
}

// run writes the oscillators' next len(dst) samples into dst, times gain,
// renormalising every renormEvery samples.
func (g *Generator) run(dst []int16, gain float64) {
	scale := g.amp * gain
	for len(dst) > 0 {
		n := min(len(dst), renormEvery-g.steps)
		switch len(g.osc) {
		case 1:
			g.run1(dst[:n], scale)
		case 2:
			g.run2(dst[:n], scale)
		default:
			g.runN(dst[:n], scale)
		}
		if g.steps += n; g.steps == renormEvery {
			g.renormalize()
		}
		dst = dst[n:]
	}
}

// run1 is run for one oscillator, its state in registers.
func (g *Generator) run1(dst []int16, scale float64) {
	o := &g.osc[0]
	re, im, c, s := o.re, o.im, o.stepRe, o.stepIm
	for i := range dst {
		dst[i] = sample(im * scale)
		re, im = re*c-im*s, re*s+im*c
	}
	o.re, o.im = re, im
}

// run2 is run for two oscillators (the dual tones of North America and the
// UK), their state in registers.
func (g *Generator) run2(dst []int16, scale float64) {
	o1, o2 := &g.osc[0], &g.osc[1]
	re1, im1, c1, s1 := o1.re, o1.im, o1.stepRe, o1.stepIm
	re2, im2, c2, s2 := o2.re, o2.im, o2.stepRe, o2.stepIm
	for i := range dst {
		dst[i] = sample((im1 + im2) * scale)
		re1, im1 = re1*c1-im1*s1, re1*s1+im1*c1
		re2, im2 = re2*c2-im2*s2, re2*s2+im2*c2
	}
	o1.re, o1.im = re1, im1
	o2.re, o2.im = re2, im2
}

// runN is run for any number of oscillators (none: silence).
func (g *Generator) runN(dst []int16, scale float64) {
	for i := range dst {
		var v float64
		for k := range g.osc {
			o := &g.osc[k]
			v += o.im
			o.re, o.im = o.re*o.stepRe-o.im*o.stepIm, o.re*o.stepIm+o.im*o.stepRe
		}
		dst[i] = sample(v * scale)
	}
}

// sample rounds v to the nearest 16-bit sample (halves up), clipping: after
// the clip v+32768.5 is positive, so truncation is floor.
func sample(v float64) int16 {
	if v > math.MaxInt16 {
		v = math.MaxInt16
	} else if !(v >= math.MinInt16) { // also NaN
		v = math.MinInt16
	}
	return int16(int32(v+32768.5) - 32768)
}

// renormalize brings each phasor back to unit length, by one Newton step
// towards 1/sqrt(re²+im²), enough for the tiny drift of 512 rotations.
func (g *Generator) renormalize() {
	g.steps = 0
	for k := range g.osc {
		o := &g.osc[k]
		f := (3 - (o.re*o.re + o.im*o.im)) / 2
		o.re *= f
		o.im *= f
	}
}
