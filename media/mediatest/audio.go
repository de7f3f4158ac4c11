package mediatest

import (
	"math"
	"math/bits"
	"math/cmplx"
	"time"
)

// fullScale is the magnitude of a full-scale 16-bit sample.
const fullScale = 32768

// sampleCount returns the number of samples in dur at rate Hz.
func sampleCount(rate int, dur time.Duration) int {
	if rate <= 0 || dur <= 0 {
		return 0
	}
	return int(int64(dur) * int64(rate) / int64(time.Second))
}

// Sine returns dur of a sine at freq Hz, amplitude 0..1 of full scale
// (clamped), as 16-bit samples at rate Hz, starting at phase 0.
func Sine(freq, amplitude float64, rate int, dur time.Duration) []int16 {
	amplitude = min(max(amplitude, 0), 1)
	out := make([]int16, sampleCount(rate, dur))
	for i := range out {
		out[i] = int16(math.Round(amplitude * (fullScale - 1) * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return out
}

// Silence returns dur of zeros at rate Hz.
func Silence(rate int, dur time.Duration) []int16 {
	return make([]int16, sampleCount(rate, dur))
}

// RMS returns the RMS level of samples as a fraction of full scale (32768):
// about 0.707 for a full-scale sine, 0 for silence or no samples.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum/float64(len(samples))) / fullScale
}

// ToneShare returns the fraction (0..1) of the signal's energy that lies within
// ±bandwidth Hz of freq: about 1 for a pure tone at freq, about 0 for a tone
// 100 Hz or more away, about 0.5 for each tone of an equal two-tone mix (DTMF),
// and 0 for silence.
//
// It sums the power spectra of Hann-windowed blocks with 50% overlap. Blocks
// are long enough for the window's main lobe (±2 bins) to fit within
// ±bandwidth/1.25: 2.5·rate/bandwidth samples rounded up to a power of two.
// A shorter signal is analysed as one block, with less resolution. bandwidth
// ≤ 0 means 10 Hz.
func ToneShare(samples []int16, rate int, freq, bandwidth float64) float64 {
	if rate <= 0 || len(samples) < 2 {
		return 0
	}
	if bandwidth <= 0 {
		bandwidth = 10
	}
	n := blockSize(2.5 * float64(rate) / bandwidth)
	power := powerSpectrum(samples, n)
	var total, near float64
	for k, p := range power {
		total += p
		if math.Abs(float64(k)*float64(rate)/float64(n)-freq) <= bandwidth {
			near += p
		}
	}
	if total == 0 {
		return 0
	}
	return min(near/total, 1)
}

// DominantFrequency returns the frequency in Hz, within about ±2 Hz, with the
// most energy between 50 Hz and rate/2, or 0 if there is none (silence).
// Blocks of rate/4 samples (rounded up to a power of two) are Hann-windowed,
// their power spectra summed, and the peak interpolated from its neighbours.
func DominantFrequency(samples []int16, rate int) float64 {
	if rate <= 0 || len(samples) < 2 {
		return 0
	}
	n := blockSize(float64(rate) / 4)
	power := powerSpectrum(samples, n)
	lo := int(math.Ceil(50 * float64(n) / float64(rate)))
	peak := -1
	for k := lo; k < len(power); k++ {
		if power[k] > 0 && (peak < 0 || power[k] > power[peak]) {
			peak = k
		}
	}
	if peak < 0 {
		return 0
	}
	bin := float64(peak)
	if peak > 0 && peak+1 < len(power) && power[peak-1] > 0 && power[peak+1] > 0 {
		// Quadratic interpolation of the log power around the peak (J. O.
		// Smith, "Spectral Audio Signal Processing", quadratic interpolation
		// of spectral peaks).
		a, b, c := math.Log(power[peak-1]), math.Log(power[peak]), math.Log(power[peak+1])
		if d := a - 2*b + c; d < 0 {
			bin += 0.5 * (a - c) / d
		}
	}
	return bin * float64(rate) / float64(n)
}

// Trim returns samples without their leading and trailing parts quieter than
// threshold (RMS, as a fraction of full scale), judged in 20 ms blocks. The
// result shares samples' backing array; it is empty if no block is as loud as
// threshold.
func Trim(samples []int16, rate int, threshold float64) []int16 {
	block := max(rate/50, 1)
	first, last := -1, -1
	for start := 0; start < len(samples); start += block {
		end := min(start+block, len(samples))
		if RMS(samples[start:end]) >= threshold {
			if first < 0 {
				first = start
			}
			last = end
		}
	}
	if first < 0 {
		return samples[:0]
	}
	return samples[first:last]
}

// blockSize returns the power of two at or above want, within 64..65536.
func blockSize(want float64) int {
	if want <= 64 || math.IsNaN(want) {
		return 64
	}
	if want >= 1<<16 {
		return 1 << 16
	}
	return 1 << bits.Len(uint(math.Ceil(want))-1)
}

// powerSpectrum returns the one-sided power spectrum (n/2+1 bins, bin k at
// k·rate/n Hz) summed over Hann-windowed blocks of n samples with 50% overlap,
// the last block aligned with the end of samples. A signal shorter than n is
// one block, windowed over its length and zero-padded.
func powerSpectrum(samples []int16, n int) []float64 {
	power := make([]float64, n/2+1)
	buf := make([]complex128, n)
	twiddle := make([]complex128, n/2)
	for k := range twiddle {
		twiddle[k] = cmplx.Rect(1, -2*math.Pi*float64(k)/float64(n))
	}
	window := hann(min(n, len(samples)))
	block := func(seg []int16) {
		clear(buf)
		for i, s := range seg {
			buf[i] = complex(float64(s)*window[i], 0)
		}
		fft(buf, twiddle)
		for k := range power {
			p := real(buf[k])*real(buf[k]) + imag(buf[k])*imag(buf[k])
			if k != 0 && k != n/2 {
				p *= 2 // both halves of the two-sided spectrum
			}
			power[k] += p
		}
	}
	if len(samples) <= n {
		block(samples)
		return power
	}
	start := 0
	for ; start+n <= len(samples); start += n / 2 {
		block(samples[start : start+n])
	}
	if start-n/2+n < len(samples) {
		block(samples[len(samples)-n:])
	}
	return power
}

// hann returns the periodic Hann window of length n.
func hann(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return w
}

// fft transforms x in place (radix-2, decimation in time); len(x) is a power of
// two and twiddle[k] = exp(-2πik/len(x)) for k < len(x)/2.
func fft(x []complex128, twiddle []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, stride := size/2, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				u, v := x[start+k], x[start+k+half]*twiddle[k*stride]
				x[start+k], x[start+k+half] = u+v, u-v
			}
		}
	}
}
