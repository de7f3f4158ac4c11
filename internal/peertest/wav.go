package peertest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// WaitWAV waits until path is a finished WAV file: its header holds a RIFF
// size and a data size (recorders write 0 there while they record and fill
// them in when they close the file), and its length has not changed for two
// polls. The sizes need not be right: linphonec 5.1 writes the file's length
// as the data size (44 bytes past the end) and RIFF size = length + 32;
// mediatest.ReadWAV clamps such a data chunk. It fails when ctx ends first.
func WaitWAV(ctx context.Context, path string) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last int64 = -1
	var why error
	for {
		size, err := finishedWAV(path)
		switch {
		case err != nil:
			why, last = err, -1
		case size == last:
			return nil
		default:
			why, last = errors.New("its length is still changing"), size
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wav %s not finished (%w): %w", path, why, ctx.Err())
		case <-tick.C:
		}
	}
}

// finishedWAV returns the file's length if its header has both sizes set.
func finishedWAV(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	b := make([]byte, 4096)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, err
	}
	b = b[:n]
	if n < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, errors.New("no RIFF/WAVE header yet")
	}
	if riff := binary.LittleEndian.Uint32(b[4:8]); riff <= 8 || riff == math.MaxUint32 {
		return 0, fmt.Errorf("RIFF size %d not filled in", riff)
	}
	for off := 12; off+8 <= n; {
		id := string(b[off : off+4])
		size := binary.LittleEndian.Uint32(b[off+4 : off+8])
		if id == "data" {
			if size == 0 || size == math.MaxUint32 {
				return 0, fmt.Errorf("data size %d not filled in", size)
			}
			return fi.Size(), nil
		}
		off += 8 + int(size) + int(size%2)
	}
	return 0, errors.New("no data chunk header")
}

// defaultByteRate is 8 kHz 16-bit mono, assumed while a header is missing.
const defaultByteRate = 16000

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// WaitWAVDuration waits until the WAV file at path, still being recorded or
// finished, holds at least d of audio: its length past the header, at the
// byte rate of its fmt chunk, or 8 kHz 16-bit mono while the header is all
// zeros (linphonec writes it when it closes the file). Recorders may write silence while nothing arrives,
// so this proves the call has lasted, not what was heard. It fails when ctx
// ends first.
func WaitWAVDuration(ctx context.Context, path string, d time.Duration) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var got time.Duration
	for {
		var err error
		if got, err = wavDuration(path); err == nil && got >= d {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wav %s holds %v of audio, not %v: %w", path, got, d, ctx.Err())
		case <-tick.C:
		}
	}
}

// wavDuration estimates the audio in a WAV file from its length.
func wavDuration(path string) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	b := make([]byte, 4096)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, err
	}
	b = b[:n]
	const placeholder = 44 // linphonec writes zeros there until it closes the file
	if n >= placeholder && allZero(b[:placeholder]) {
		return time.Duration((fi.Size() - placeholder) * int64(time.Second) / defaultByteRate), nil
	}
	if n < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, errors.New("no RIFF/WAVE header yet")
	}
	byteRate := int64(defaultByteRate)
	for off := 12; off+8 <= n; {
		id := string(b[off : off+4])
		size := binary.LittleEndian.Uint32(b[off+4 : off+8])
		switch {
		case id == "fmt " && off+20 <= n:
			if r := int64(binary.LittleEndian.Uint32(b[off+16 : off+20])); r > 0 {
				byteRate = r
			}
		case id == "data":
			audio := max(fi.Size()-int64(off+8), 0)
			return time.Duration(audio * int64(time.Second) / byteRate), nil
		}
		off += 8 + int(size) + int(size%2)
	}
	return 0, errors.New("no data chunk header yet")
}
