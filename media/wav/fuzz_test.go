package wav_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ringdesk/ringdesk/media/wav"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must not panic, must fail
// with one of its sentinels, and what it decodes must be consistent.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "mediatest", "testdata", "*.wav"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(pcmFile(8000, 2, []int16{1, -1, 1000, -1000}))
	f.Add(buildWAV("RIFF", 0, fmtChunk(tagPCM, 2, 16000, 24), dataChunk(0xffffffff, make([]byte, 12))))
	f.Add(buildWAV("RIFF", 0, extensibleChunk(tagMuLaw, 3, 8000, 8), chunk{id: "LIST", size: 3, body: []byte("abc"), pad: true}, dataChunk(7, make([]byte, 7))))
	f.Add(buildWAV("RF64", 0, chunk{id: "ds64", size: 28, body: binary.LittleEndian.AppendUint64(make([]byte, 8), 4)}, fmtChunk(tagFloat, 1, 48000, 64), dataChunk(0xffffffff, make([]byte, 9))))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := wav.Decode(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, wav.ErrFormat) && !errors.Is(err, wav.ErrUnsupported) && !errors.Is(err, wav.ErrTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if len(a.Channels) == 0 || len(a.Channels) > wav.MaxChannels || a.Rate <= 0 {
			t.Fatalf("%d channels at %d Hz without error", len(a.Channels), a.Rate)
		}
		for _, c := range a.Channels {
			if len(c) != len(a.Samples) {
				t.Fatalf("channels of %d and %d samples", len(c), len(a.Samples))
			}
		}
		if len(a.Samples)*len(a.Channels) > len(data) {
			t.Fatalf("%d samples from %d bytes", len(a.Samples)*len(a.Channels), len(data))
		}
		out, err := a.To8k()
		if err != nil || len(out) > len(a.Samples) {
			t.Fatalf("To8k: %d samples from %d, %v", len(out), len(a.Samples), err)
		}
	})
}
