package dtmf_test

import (
	"fmt"
	"time"

	"github.com/ringdesk/ringdesk/media/dtmf"
)

// A Receiver reports each RFC 4733 event once, however many of its packets
// arrive.
func ExampleReceiver() {
	var r dtmf.Receiver
	start := time.Now()
	for i, d := range []dtmf.Digit{'4', '2'} {
		ts := uint32(8000 * i) // the event's start, in every packet of it
		for _, p := range dtmf.Train(d, 100*time.Millisecond, 10, 8000, nil) {
			if got, ok := r.Packet(ts, p.Payload[:], start.Add(time.Duration(i)*time.Second+p.Offset)); ok {
				fmt.Println("pressed", got)
			}
		}
	}
	// Output:
	// pressed 4
	// pressed 2
}

// Train makes the packets that send a digit; the caller gives them one
// timestamp, consecutive sequence numbers, and sends each at its offset.
func ExampleTrain() {
	for _, p := range dtmf.Train('9', 60*time.Millisecond, 10, 8000, nil) {
		e, _ := dtmf.ParseEvent(p.Payload[:])
		fmt.Printf("+%v marker=%v end=%v duration=%d\n", p.Offset, p.Marker, e.End, e.Duration)
	}
	// Output:
	// +0s marker=true end=false duration=160
	// +20ms marker=false end=false duration=320
	// +40ms marker=false end=true duration=480
	// +60ms marker=false end=true duration=480
	// +80ms marker=false end=true duration=480
}

// The Detector finds digits in 20 ms frames of audio.
func ExampleDetector() {
	audio := dtmf.Tone('4', 8000, 60*time.Millisecond, 0.2)
	audio = append(audio, make([]int16, 400)...) // 50 ms pause
	audio = append(audio, dtmf.Tone('2', 8000, 60*time.Millisecond, 0.2)...)
	audio = append(audio, make([]int16, 400)...)
	d := dtmf.NewDetector(8000)
	for i := 0; i+160 <= len(audio); i += 160 {
		if digit, ok := d.Process(audio[i : i+160]); ok {
			fmt.Print(digit)
		}
	}
	fmt.Println()
	// Output: 42
}

func ExampleParseInfo() {
	d, dur, err := dtmf.ParseInfo("application/dtmf-relay", []byte("Signal=11\r\nDuration=160\r\n"))
	fmt.Println(d, dur, err)
	ct, body := dtmf.InfoBody('5', 100*time.Millisecond)
	fmt.Printf("%s %q\n", ct, body)
	// Output:
	// # 160ms <nil>
	// application/dtmf-relay "Signal=5\r\nDuration=100\r\n"
}
