package tone_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/ringdesk/ringdesk/media/tone"
)

// A caller waiting for an answer in the UK hears ringback, 20 ms per RTP
// packet.
func ExampleRingback() {
	rb, err := tone.Ringback("uk")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rb)
	g := rb.Generator(8000)
	frame := make([]int16, 160)
	for i := range int(rb.Period() / (20 * time.Millisecond)) { // one cadence cycle of 20 ms frames
		g.Read(frame) // then encode with G.711 and send
		if i%10 == 0 {
			fmt.Printf("%4d ms: %v\n", i*20, slices.Max(frame) > 0)
		}
	}
	// Output:
	// uk ringback: 400+450/400,0/200,400+450/400,0/2000 at -13 dBm0
	//    0 ms: true
	//  200 ms: true
	//  400 ms: false
	//  600 ms: true
	//  800 ms: true
	// 1000 ms: false
	// 1200 ms: false
	// 1400 ms: false
	// 1600 ms: false
	// 1800 ms: false
	// 2000 ms: false
	// 2200 ms: false
	// 2400 ms: false
	// 2600 ms: false
	// 2800 ms: false
}
