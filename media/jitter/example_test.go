package jitter_test

import (
	"fmt"
	"time"

	"github.com/ringdesk/ringdesk/media/jitter"
)

// The RTP reader pushes each decoded packet with its sequence number,
// timestamp, SSRC and arrival time; the mixer pops one frame per 20 ms tick.
// Here the ticks follow the packets, and packet 2 is lost.
func ExampleBuffer() {
	jb, err := jitter.New(jitter.Config{}) // 8 kHz, 20 ms frames, 40-200 ms delay
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Unix(0, 0)
	pcm := make([]int16, 160)
	frame := make([]int16, jb.FrameSamples())
	for i := range 6 {
		if i != 2 {
			jb.Push(uint16(1000+i), uint32(i*160), 0x5eed, pcm, start.Add(time.Duration(i)*20*time.Millisecond))
		}
		fmt.Println(i, jb.Pop(frame))
	}
	st := jb.Stats()
	fmt.Println(st.Played, "played,", st.Concealed, "concealed, delay", st.Target)
	// Output:
	// 0 Silence
	// 1 Audio
	// 2 Audio
	// 3 Concealed
	// 4 Audio
	// 5 Audio
	// 4 played, 1 concealed, delay 40ms
}
