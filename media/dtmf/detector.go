package dtmf

import "math"

// Parameters of the in-band detector. Lengths are for 8 kHz and scale with the
// sample rate.
//
// The audio is cut into sub-blocks of 29 samples, and every sub-block ends an
// analysis window of the last 4 sub-blocks: 116 samples (14.5 ms), one every
// 3.6 ms. The window length is a compromise. Its frequency resolution
// (8000/116 = 69 Hz) must tell apart neighbouring rows only 73-89 Hz apart:
// a tone leaks at most -14 dB into a neighbour's filter, -13 dB when off by
// the 1.5% that Q.24 tolerates, and at most -27 dB from a row into a column
// filter (the twist test depends on it; at the popular 102-106 samples that
// leakage is -21 dB, and a 7 dB twist measures up to 9 dB). And it must
// be short enough, and the windows close enough, for the duration rule to tell
// 30 ms tones from 40 ms ones. The windows overlap, but each sample passes
// through the Goertzel filters only once: a window's result is the sum of its
// sub-blocks' results, each turned by its delay (see endBlock). Carrying the
// Goertzel state across calls, Process needs no sample buffer, and any frame
// length works.
const (
	hop8k     = 29 // samples per sub-block at 8 kHz
	subBlocks = 4  // sub-blocks per analysis window

	// MinLevel is the least level of each of the two tones, in dBm0, that
	// the detector accepts: 20 dB under the usual -7 to -10 dBm0 of a phone.
	MinLevel = -30.0
	// MaxNormalTwist is how much weaker, in dB, the column (high) tone may be
	// than the row (low) tone (ITU-T Q.24).
	MaxNormalTwist = 8.0
	// MaxReverseTwist is how much stronger, in dB, the column tone may be
	// than the row tone (ITU-T Q.24).
	MaxReverseTwist = 4.0
	// MinGroupMargin is how much stronger, in dB, the strongest tone of each
	// group (rows, columns) must be than every other tone of its group.
	MinGroupMargin = 8.0
	// MinToneShare is the least share of an analysis window's energy that
	// the two tones must hold together: DTMF is two pure tones, while speech
	// and music spread their energy over harmonics and formants. (Windows
	// covered only partly by a tone fail it too, which sharpens the duration
	// rule.)
	MinToneShare = 0.75

	// acceptWindows is how many consecutive windows must hold the same
	// digit before it is reported. 8 windows span 11 sub-blocks, 40 ms;
	// windows only partly covered by the tone pass as long as the tone
	// holds 75% of them. Measured over every digit and alignment, at 8 and
	// 16 kHz and -3 to -25 dBm0: tones of 38 ms or more are always
	// reported, tones under 33 ms never.
	acceptWindows = 8
	// releaseWindows is how many consecutive windows without the reported
	// digit end the keypress, so that the same digit can be reported again.
	// Measured: pauses of 22 ms or more end a keypress (ITU-T Q.24 asks for
	// 40 ms), and dropouts of up to 18 ms are bridged (Q.24: 10 ms).
	releaseWindows = 8

	// fullScaleDBm0 is the level of a full-scale sine (ITU-T G.711, A-law;
	// μ-law's is 3.17).
	fullScaleDBm0 = 3.14

	// minRate and maxRate bound the sample rates of NewDetector.
	minRate = 8000
	maxRate = 48000

	// queueSize is how many digits Process holds for later calls.
	queueSize = 4
)

// Detector finds DTMF digits in audio (in-band DTMF) with the Goertzel
// algorithm, and reports each keypress once. See the package documentation
// for the checks it makes.
//
// A Detector is not safe for concurrent use. Process does not allocate.
type Detector struct {
	detectorParams

	// The sub-block in progress: Goertzel states, energy, samples.
	s1, s2 [8]float64
	energy float64
	n      int

	// Results of the previous subBlocks-1 sub-blocks, oldest first:
	// Goertzel outputs y = s1 - e^(-iω)·s2 and energies.
	yRe, yIm [subBlocks - 1][8]float64
	yEnergy  [subBlocks - 1]float64
	blocks   int // sub-blocks finished since Reset, up to subBlocks-1

	cand    Digit // digit of the latest windows, 0 for none
	count   int   // consecutive windows with cand
	held    Digit // the digit reported for the current keypress, 0 for none
	release int   // consecutive windows without held

	queue       [queueSize]Digit
	qHead, qLen int
}

// detectorParams are a Detector's constants for its sample rate. The eight
// frequencies are the rows, then the columns (toneFreqs).
type detectorParams struct {
	hop      int        // samples per sub-block
	window   float64    // samples per analysis window
	coef     [8]float64 // Goertzel coefficients, 2·cos(ω)
	cosw     [8]float64 // cos(ω)
	sinw     [8]float64 // sin(ω)
	rotRe    [8]float64 // e^(-iω·hop): moves a sub-block's result one sub-block later
	rotIm    [8]float64
	minPower float64 // |X|² of a tone at MinLevel over a whole window
	normal   float64 // power ratios of MaxNormalTwist, MaxReverseTwist, MinGroupMargin
	reverse  float64
	margin   float64
}

// NewDetector returns a detector for audio at sampleRate Hz: 8000, or any rate
// up to 48000 (16000 for wideband). Rates outside 8000-48000 are clamped into
// that range, and 0 means 8000.
func NewDetector(sampleRate int) *Detector {
	rate := min(max(sampleRate, minRate), maxRate)
	d := &Detector{detectorParams: detectorParams{hop: (hop8k*rate + minRate/2) / minRate}}
	d.window = float64(d.hop * subBlocks)
	for k, f := range toneFreqs() {
		w := 2 * math.Pi * f / float64(rate)
		d.coef[k] = 2 * math.Cos(w)
		d.cosw[k], d.sinw[k] = math.Cos(w), math.Sin(w)
		d.rotRe[k], d.rotIm[k] = math.Cos(w*float64(d.hop)), -math.Sin(w*float64(d.hop))
	}
	// A sine of amplitude a over the W samples of a window gives |X| = a·W/2.
	a := math.MaxInt16 * math.Pow(10, (MinLevel-fullScaleDBm0)/20)
	d.minPower = a * a * d.window * d.window / 4
	d.normal, d.reverse, d.margin = dbRatio(MaxNormalTwist), dbRatio(MaxReverseTwist), dbRatio(MinGroupMargin)
	return d
}

// Process analyses the next frame of audio and returns a digit when one is
// accepted: once per keypress, about 40 ms after the tone started. Frames
// may have any length (usually 20 ms: 160 samples at 8 kHz); analysis
// windows straddle frames. Should one call accept more than one digit (frames
// longer than about 60 ms), the others are returned by the following calls.
func (d *Detector) Process(frame []int16) (Digit, bool) {
	for len(frame) > 0 {
		k := min(len(frame), d.hop-d.n)
		d.accumulate(frame[:k])
		d.n += k
		frame = frame[k:]
		if d.n == d.hop {
			d.endBlock()
		}
	}
	return d.pop()
}

// Reset forgets all audio and digits, as if the detector were new.
func (d *Detector) Reset() {
	*d = Detector{detectorParams: d.detectorParams}
}

// accumulate runs the eight Goertzel filters over x, four at a time so that
// their independent recurrences overlap in the CPU, and sums its energy.
func (d *Detector) accumulate(x []int16) {
	for g := 0; g < 8; g += 4 {
		c0, c1, c2, c3 := d.coef[g], d.coef[g+1], d.coef[g+2], d.coef[g+3]
		a0, a1, a2, a3 := d.s1[g], d.s1[g+1], d.s1[g+2], d.s1[g+3]
		b0, b1, b2, b3 := d.s2[g], d.s2[g+1], d.s2[g+2], d.s2[g+3]
		for _, v := range x {
			f := float64(v)
			a0, b0 = (f-b0)+c0*a0, a0
			a1, b1 = (f-b1)+c1*a1, a1
			a2, b2 = (f-b2)+c2*a2, a2
			a3, b3 = (f-b3)+c3*a3, a3
		}
		d.s1[g], d.s1[g+1], d.s1[g+2], d.s1[g+3] = a0, a1, a2, a3
		d.s2[g], d.s2[g+1], d.s2[g+2], d.s2[g+3] = b0, b1, b2, b3
	}
	var e float64
	for _, v := range x {
		f := float64(v)
		e += f * f
	}
	d.energy += e
}

// endBlock finishes a sub-block, analyses the window that ends with it, and
// starts the next sub-block.
//
// After N samples the Goertzel filter holds y = s1 - e^(-iω)·s2, and the
// block's DFT at ω is X = e^(-iω(N-1))·y: the phase factor is the same for
// every block of N samples, so a window of consecutive sub-blocks with outputs
// y0 (oldest), y1, ... has |X| = |y0 + r·y1 + r²·y2 + ...| with r = e^(-iωN).
// Each sample thus goes through the filters once, however much the windows
// overlap.
func (d *Detector) endBlock() {
	var yRe, yIm [8]float64
	for k := range 8 {
		yRe[k] = d.s1[k] - d.cosw[k]*d.s2[k]
		yIm[k] = d.sinw[k] * d.s2[k]
	}
	if d.blocks == subBlocks-1 {
		var p [8]float64
		for k := range 8 {
			re, im := yRe[k], yIm[k]
			for i := subBlocks - 2; i >= 0; i-- {
				re, im = d.yRe[i][k]+d.rotRe[k]*re-d.rotIm[k]*im, d.yIm[i][k]+d.rotRe[k]*im+d.rotIm[k]*re
			}
			p[k] = re*re + im*im
		}
		e := d.energy
		for _, v := range d.yEnergy {
			e += v
		}
		d.decide(d.classify(&p, e))
	} else {
		d.blocks++
	}
	copy(d.yRe[:], d.yRe[1:])
	copy(d.yIm[:], d.yIm[1:])
	copy(d.yEnergy[:], d.yEnergy[1:])
	d.yRe[subBlocks-2], d.yIm[subBlocks-2], d.yEnergy[subBlocks-2] = yRe, yIm, d.energy
	d.s1, d.s2, d.energy, d.n = [8]float64{}, [8]float64{}, 0, 0
}

// classify returns the digit that a window with powers p at the eight DTMF
// frequencies and energy e holds, or 0 for none.
func (d *Detector) classify(p *[8]float64, e float64) Digit {
	row, col := 0, 4
	for k := 1; k < 4; k++ {
		if p[k] > p[row] {
			row = k
		}
		if p[4+k] > p[col] {
			col = 4 + k
		}
	}
	pr, pc := p[row], p[col]
	switch {
	case pr < d.minPower || pc < d.minPower:
		return 0
	case pr > pc*d.normal || pc > pr*d.reverse:
		return 0
	case 2*(pr+pc) < MinToneShare*d.window*e: // a sine's |X|² is W/2 times its energy
		return 0
	}
	for k := range 4 {
		if k != row && p[k]*d.margin > pr || 4+k != col && p[4+k]*d.margin > pc {
			return 0
		}
	}
	return Digit(keypad[4*row+col-4])
}

// dbRatio returns the power ratio of db decibels.
func dbRatio(db float64) float64 {
	return math.Pow(10, db/10)
}

// decide advances the keypress state machine by one window holding digit w
// (0 for none).
func (d *Detector) decide(w Digit) {
	if w != 0 && w == d.cand {
		d.count++
	} else {
		d.cand, d.count = w, 1
	}
	if d.held != 0 {
		if w == d.held {
			d.release = 0
		} else if d.release++; d.release >= releaseWindows {
			d.held = 0
		}
	}
	if d.cand != 0 && d.cand != d.held && d.count >= acceptWindows {
		d.held, d.release = d.cand, 0
		d.push(d.cand)
	}
}

func (d *Detector) push(w Digit) {
	if d.qLen == queueSize {
		return // drop: only reachable with frames of over a quarter second
	}
	d.queue[(d.qHead+d.qLen)%queueSize] = w
	d.qLen++
}

func (d *Detector) pop() (Digit, bool) {
	if d.qLen == 0 {
		return 0, false
	}
	w := d.queue[d.qHead]
	d.qHead = (d.qHead + 1) % queueSize
	d.qLen--
	return w, true
}
