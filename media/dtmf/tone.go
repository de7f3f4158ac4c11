package dtmf

import (
	"math"
	"time"
)

// keypad lists the digits by row (697, 770, 852, 941 Hz) and then column
// (1209, 1336, 1477, 1633 Hz): the digit of row i and column j is
// keypad[4*i+j].
const keypad = "123A456B789C*0#D"

// toneFreqs returns the DTMF frequencies in Hz (ITU-T Q.23): the four rows,
// then the four columns.
func toneFreqs() [8]float64 {
	return [8]float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}
}

// freqsOf returns the row and column frequencies of d.
func freqsOf(d Digit) (row, col float64, ok bool) {
	for i := range len(keypad) {
		if keypad[i] == byte(d) {
			f := toneFreqs()
			return f[i/4], f[4+i%4], true
		}
	}
	return 0, 0, false
}

// Tone returns dur of digit d's dual tone as 16-bit samples at sampleRate Hz:
// the sum of its row and column sines, both starting at phase 0, each with a
// peak of amplitude (clamped to 0..1) times full scale, the sum clipped to
// 16 bits. A tone's level in dBm0 is about 20·log10(amplitude) + 3.14 (a
// full-scale sine is +3.14 dBm0, ITU-T G.711): 0.22 is -10 dBm0 per tone. It
// returns nil if d is not Valid or sampleRate ≤ 0.
func Tone(d Digit, sampleRate int, dur time.Duration, amplitude float64) []int16 {
	row, col, ok := freqsOf(d)
	if !ok || sampleRate <= 0 || dur <= 0 {
		return nil
	}
	a := min(max(amplitude, 0), 1) * math.MaxInt16
	out := make([]int16, int64(dur)*int64(sampleRate)/int64(time.Second))
	wr, wc := 2*math.Pi*row/float64(sampleRate), 2*math.Pi*col/float64(sampleRate)
	for i := range out {
		v := a * (math.Sin(wr*float64(i)) + math.Sin(wc*float64(i)))
		out[i] = int16(math.Round(min(max(v, math.MinInt16), math.MaxInt16)))
	}
	return out
}
