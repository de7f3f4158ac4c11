package wav_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ringdesk/ringdesk/media/wav"
)

// A recorder writes stereo frames and flushes now and then; the file is a
// valid WAV file after every Flush, even if the process dies right after.
func ExampleCreate() {
	dir, err := os.MkdirTemp("", "wav-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "2026", "call-42.wav")

	w, err := wav.Create(path, 8000, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	frame := make([]int16, 2*160) // 20 ms, left and right interleaved
	for i := range 50 {
		if err := w.Write(frame); err != nil {
			fmt.Println(err)
			return
		}
		if (i+1)%25 == 0 { // every 500 ms
			if err := w.Flush(); err != nil {
				fmt.Println(err)
				return
			}
		}
	}
	fmt.Println(w.Duration(), w.Size(), "bytes")
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}

	a, err := wav.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Rate, "Hz,", len(a.Channels), "channels,", a.Duration())
	// Output:
	// 1s 32044 bytes
	// 8000 Hz, 2 channels, 1s
}
