package mediatest_test

import (
	"fmt"
	"time"

	"github.com/ringdesk/ringdesk/media/mediatest"
)

// A DTMF "1" is 697 Hz and 1209 Hz together: each tone holds half the energy.
func ExampleToneShare() {
	const rate = 8000
	low := mediatest.Sine(697, 0.3, rate, 200*time.Millisecond)
	high := mediatest.Sine(1209, 0.3, rate, 200*time.Millisecond)
	for i := range low {
		low[i] += high[i]
	}
	fmt.Printf("697 Hz: %.2f\n", mediatest.ToneShare(low, rate, 697, 20))
	fmt.Printf("1209 Hz: %.2f\n", mediatest.ToneShare(low, rate, 1209, 20))
	fmt.Printf("770 Hz: %.2f\n", mediatest.ToneShare(low, rate, 770, 20))
	fmt.Printf("strongest: %.0f Hz\n", mediatest.DominantFrequency(mediatest.Sine(440, 0.5, rate, time.Second), rate))
	// Output:
	// 697 Hz: 0.50
	// 1209 Hz: 0.50
	// 770 Hz: 0.00
	// strongest: 440 Hz
}
