package wav

import (
	"fmt"
	"math"
)

// Resampling filter (see resample). At 16 kHz → 8 kHz it has 96 taps. For
// every input rate the response is flat within 0.01 dB up to 3.4 kHz (the
// telephone band), -0.7 dB at 3.6 kHz, -6 dB at 3.8 kHz, and at least 72 dB
// down from 4.2 kHz on (measured; TestTo8k checks 0.1 dB and 70 dB), so only
// the 4.0-4.2 kHz band, which folds onto 3.8-4.0 kHz, can alias at all.
const (
	// resampleCutoff is the filter's cutoff (its -6 dB point) as a fraction
	// of the lower of the two rates: 3800 Hz for 8 kHz output.
	resampleCutoff = 0.475
	// resampleHalfWidth is the kernel's half-length in periods of the lower
	// rate: 24, i.e. ±3 ms. It sets the transition band (about 0.09 of the
	// lower rate wide at this Kaiser β).
	resampleHalfWidth = 24
	// resampleBeta is the Kaiser window's β: about 70 dB of stopband
	// attenuation (Kaiser's formula: A ≈ β/0.1102 + 8.7).
	resampleBeta = 7.0
)

// To8k returns the audio in mono at 8 kHz, the rate of G.711. At 8 kHz it
// returns a.Samples itself; at the other rates Decode accepts it returns a
// new slice, low-pass filtered and resampled (see resample): 16 kHz gives
// every second sample of the filtered signal, 44.1 kHz and 11.025 kHz go
// through 80 and 320 filter phases. The result has ceil(len·8000/Rate)
// samples. Any other rate gives ErrUnsupported.
func (a *Audio) To8k() ([]int16, error) {
	const rate8k = 8000
	if a.Rate == rate8k {
		return a.Samples, nil
	}
	if !supportedRate(a.Rate) {
		return nil, fmt.Errorf("resample %d Hz to 8 kHz: %w: sample rate %d Hz", a.Rate, ErrUnsupported, a.Rate)
	}
	return resample(a.Samples, a.Rate, rate8k), nil
}

// resample converts in from rate from to rate to, both positive, by polyphase windowed-sinc
// interpolation (J. O. Smith, "Digital Audio Resampling", bandlimited
// interpolation): output sample n sits at input position t = n·from/to, and
// is the sum of the input samples around t weighted by a Kaiser-windowed
// sinc low-pass, h(x) = 2fc·sinc(2fc·x)·w(x/W), where x is the distance from t
// in input samples, fc the cutoff (resampleCutoff of the lower rate, in
// cycles per input sample) and W the half-width (resampleHalfWidth periods of
// the lower rate, in input samples). Positions of t between input samples
// repeat with period L (the output rate in lowest terms: 80 for 44.1 kHz →
// 8 kHz, 320 for 11.025 kHz), so the weights are tabulated for L phases (callers
// keep L small: To8k takes only the rates Decode accepts), each normalised to a DC gain of exactly 1. Samples
// beyond either end of in count as zero.
func resample(in []int16, from, to int) []int16 {
	g := gcd(from, to)
	l, m := to/g, from/g // t advances by m/l input samples per output sample
	low := float64(min(from, to))
	fc := resampleCutoff * low / float64(from)
	halfWidth := resampleHalfWidth * float64(from) / low
	k := int(math.Ceil(halfWidth)) // taps j-k+1 ... j+k around t's sample j
	taps := 2 * k
	table := make([]float64, l*taps)
	for p := range l {
		row := table[p*taps : (p+1)*taps]
		frac := float64(p) / float64(l)
		var sum float64
		for i := range row {
			x := float64(i-k+1) - frac
			row[i] = 2 * fc * sinc(2*fc*x) * kaiser(x/halfWidth, resampleBeta)
			sum += row[i]
		}
		for i := range row {
			row[i] /= sum
		}
	}
	n := (len(in)*l + m - 1) / m
	out := make([]int16, n)
	j, p := 0, 0 // t = j + p/l
	for i := range out {
		row := table[p*taps : (p+1)*taps]
		start := j - k + 1
		var acc float64
		if start >= 0 && start+taps <= len(in) {
			for q, s := range in[start : start+taps] {
				acc += row[q] * float64(s)
			}
		} else {
			for q, h := range row {
				if idx := start + q; idx >= 0 && idx < len(in) {
					acc += h * float64(in[idx])
				}
			}
		}
		out[i] = int16(min(max(math.Round(acc), math.MinInt16), math.MaxInt16))
		j += m / l
		if p += m % l; p >= l {
			p -= l
			j++
		}
	}
	return out
}

// sinc is sin(πx)/(πx), 1 at 0.
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiser is the Kaiser window at x in -1..1 (0 outside):
// I0(β·sqrt(1-x²)) / I0(β).
func kaiser(x, beta float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return besselI0(beta*math.Sqrt(1-x*x)) / besselI0(beta)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series Σ ((x/2)^k / k!)², which converges fast for the β used
// here.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 100; k++ {
		term *= x / (2 * float64(k))
		t := term * term
		sum += t
		if t < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
