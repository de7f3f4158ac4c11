package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
)

// TestDecodeDataLimit: data up to the limit decodes, one byte more is
// ErrTooLarge, whatever the data chunk's size says.
func TestDecodeDataLimit(t *testing.T) {
	const limit = 64
	file := func(declared uint32, n int) []byte {
		b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data")
		b = binary.LittleEndian.AppendUint32(b, declared)
		return append(b, make([]byte, n)...)
	}
	tests := []struct {
		name     string
		declared uint32
		n        int
		samples  int
		err      error
	}{
		{"at the limit", limit, limit, limit / 2, nil},
		{"at the limit, streaming", 0xffffffff, limit, limit / 2, nil},
		{"at the limit, size 0", 0, limit, limit / 2, nil},
		{"declared over, present under", 1 << 30, limit - 2, limit/2 - 1, nil},
		{"declared at the limit, more present", limit, 1000, limit / 2, nil},
		{"over", limit + 2, limit + 2, 0, ErrTooLarge},
		{"over, streaming", 0xffffffff, limit + 1, 0, ErrTooLarge},
		{"over, size 0", 0, 1000, 0, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := decode(bytes.NewReader(file(tt.declared, tt.n)), limit)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && len(a.Samples) != tt.samples {
				t.Errorf("%d samples, want %d", len(a.Samples), tt.samples)
			}
		})
	}
}

// TestWriterRIFFLimit lowers a Writer's limit to check the 4 GiB error
// without writing 4 GiB.
func TestWriterRIFFLimit(t *testing.T) {
	if maxRIFFData != 0xFFFFFFFF-36 {
		t.Fatalf("maxRIFFData = %d", maxRIFFData)
	}
	w, err := Create(filepath.Join(t.TempDir(), "big.wav"), 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if want := int64(maxRIFFData / 4 * 4); w.limit != want {
		t.Errorf("limit %d bytes, want %d (whole stereo frames)", w.limit, want)
	}
	w.limit = 16
	if err := w.Write(make([]int16, 6)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, 4)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("past the limit: %v, want ErrTooLarge", err)
	}
	if err := w.Write(make([]int16, 2)); err != nil {
		t.Errorf("up to the limit: %v", err)
	}
	if w.Size() != headerSize+12 || w.Duration() != 500*1000 { // 4 frames at 8 kHz = 0.5 ms
		t.Errorf("Size %d, Duration %v", w.Size(), w.Duration())
	}
}

// TestG711Formulas spot-checks the decoders against ITU-T G.711's tables.
func TestG711Formulas(t *testing.T) {
	for _, tt := range []struct {
		alaw bool
		code uint8
		want int16
	}{
		{false, 0xFF, 0},
		{false, 0x7F, 0},
		{false, 0x80, 32124},
		{false, 0x00, -32124},
		{false, 0xFE, 8},
		{false, 0x7E, -8},
		{true, 0xD5, 8},
		{true, 0x55, -8},
		{true, 0xAA, 32256},
		{true, 0x2A, -32256},
	} {
		got := g711Table(tt.alaw)[tt.code]
		if got != tt.want {
			t.Errorf("alaw=%v code 0x%02x: %d, want %d", tt.alaw, tt.code, got, tt.want)
		}
	}
}
