package mediatest

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media"
)

// wavFile assembles a WAV file from a RIFF size and chunks.
type wavChunk struct {
	id   string
	size uint32 // as written in the header
	body []byte // written as is, padded to even length if pad
	pad  bool
}

func buildWAV(magic string, riffSize uint32, chunks ...wavChunk) []byte {
	le := binary.LittleEndian
	b := append([]byte(magic), 0, 0, 0, 0)
	le.PutUint32(b[4:], riffSize)
	b = append(b, "WAVE"...)
	for _, c := range chunks {
		b = append(b, c.id...)
		b = le.AppendUint32(b, c.size)
		b = append(b, c.body...)
		if c.pad && len(c.body)%2 == 1 {
			b = append(b, 0)
		}
	}
	return b
}

func fmtChunk(tag uint16, channels, rate, bits int) wavChunk {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint16(b, tag)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	b = le.AppendUint16(b, uint16(bits))
	return wavChunk{id: "fmt ", size: uint32(len(b)), body: b}
}

func extensibleChunk(sub uint16, channels, rate, bits int) wavChunk {
	c := fmtChunk(waveExtensible, channels, rate, bits)
	le := binary.LittleEndian
	c.body = le.AppendUint16(c.body, 22)           // cbSize
	c.body = le.AppendUint16(c.body, uint16(bits)) // valid bits
	c.body = le.AppendUint32(c.body, 0x3)          // channel mask
	c.body = le.AppendUint16(c.body, sub)
	c.body = append(c.body, waveSubformatTail...)
	c.size = uint32(len(c.body))
	return c
}

func dataChunk(size uint32, body []byte) wavChunk {
	return wavChunk{id: "data", size: size, body: body, pad: true}
}

func pcm16(samples ...int16) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWAVRoundTrip(t *testing.T) {
	want := Sine(1000, 0.8, 16000, 250*time.Millisecond)
	want[0], want[1] = -32768, 32767
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := WriteWAV(path, want, 16000); err != nil {
		t.Fatal(err)
	}
	got, rate, channels, err := ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 16000 || channels != 1 || !slices.Equal(got, want) {
		t.Errorf("read back %d samples at %d Hz, %d channels; want the %d written at 16000 Hz, mono", len(got), rate, channels, len(want))
	}
	if err := WriteWAV(path, want, 0); !errors.Is(err, ErrWAVFormat) {
		t.Errorf("WriteWAV at 0 Hz: %v, want ErrWAVFormat", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.wav")
	if err := WriteWAV(empty, nil, 8000); err != nil {
		t.Fatal(err)
	}
	if got, _, _, err := ReadWAV(empty); err != nil || len(got) != 0 {
		t.Errorf("empty WAV: %d samples, %v", len(got), err)
	}
}

func TestReadWAVHeaders(t *testing.T) {
	samples := []int16{0, 1000, -1000, 32767, -32768, 7}
	data := pcm16(samples...)
	ulaw, alaw := make([]byte, len(samples)), make([]byte, len(samples))
	media.EncodeUlaw(ulaw, samples)
	media.EncodeAlaw(alaw, samples)
	viaLaw := func(g media.G711, codes []byte) []int16 {
		out := make([]int16, len(codes))
		g.Decode(out, codes)
		return out
	}
	fmt16 := fmtChunk(wavePCM, 1, 8000, 16)
	size := uint32(len(data))
	list := wavChunk{id: "LIST", size: 9, body: []byte("INFOISFT\x01"), pad: true} // odd size, padded
	fact := wavChunk{id: "fact", size: 4, body: []byte{6, 0, 0, 0}}
	stereo := pcm16(1, -1, 2, -2, 3, -3)
	ds64 := wavChunk{id: "ds64", size: 28, body: make([]byte, 28)} // riffSize(8) dataSize(8) sampleCount(8) tableLength(4)
	binary.LittleEndian.PutUint64(ds64.body[8:], 4)
	var pcm24, pcm32, f32, f64 []byte
	for _, s := range samples {
		v := int32(s) << 16
		pcm24 = append(pcm24, byte(v>>8), byte(v>>16), byte(v>>24))
		pcm32 = binary.LittleEndian.AppendUint32(pcm32, uint32(v|0x1234))
		f32 = binary.LittleEndian.AppendUint32(f32, math.Float32bits(float32(s)/32768))
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(float64(s)/32768))
	}
	tests := []struct {
		name    string
		file    []byte
		want    [][]int16
		rate    int
		wantErr error
	}{
		{"plain", buildWAV("RIFF", 36+size, fmt16, dataChunk(size, data)), [][]int16{samples}, 8000, nil},
		{"riff size 0", buildWAV("RIFF", 0, fmt16, dataChunk(size, data)), [][]int16{samples}, 8000, nil},
		{"streaming data size 0", buildWAV("RIFF", 0, fmt16, dataChunk(0, data)), [][]int16{samples}, 8000, nil},
		{"streaming data size 0xffffffff", buildWAV("RIFF", 0xffffffff, fmt16, dataChunk(0xffffffff, data)), [][]int16{samples}, 8000, nil},
		{"data size past the end", buildWAV("RIFF", 1<<20, fmt16, dataChunk(1<<20, data)), [][]int16{samples}, 8000, nil},
		{"truncated mid-sample", buildWAV("RIFF", 36+size, fmt16, wavChunk{id: "data", size: size, body: data[:len(data)-1]}), [][]int16{samples[:5]}, 8000, nil},
		{"chunks after data", buildWAV("RIFF", 0, fmt16, dataChunk(4, data), list), [][]int16{samples[:2]}, 8000, nil},
		{"LIST and fact before data", buildWAV("RIFF", 0, list, fmt16, fact, dataChunk(size, data)), [][]int16{samples}, 8000, nil},
		// RF64: ds64 gives the real data size, so the LIST chunk after the
		// data is not read as samples.
		{"RF64", buildWAV("RF64", 0xffffffff, ds64, fmt16, dataChunk(0xffffffff, data[:4]), list), [][]int16{samples[:2]}, 8000, nil},
		{"stereo", buildWAV("RIFF", 0, fmtChunk(wavePCM, 2, 16000, 16), dataChunk(12, stereo)), [][]int16{{1, 2, 3}, {-1, -2, -3}}, 16000, nil},
		{"mu-law", buildWAV("RIFF", 0, fmtChunk(waveMuLaw, 1, 8000, 8), fact, dataChunk(6, ulaw)), [][]int16{viaLaw(media.PCMU, ulaw)}, 8000, nil},
		{"A-law", buildWAV("RIFF", 0, fmtChunk(waveALaw, 1, 8000, 8), dataChunk(6, alaw)), [][]int16{viaLaw(media.PCMA, alaw)}, 8000, nil},
		{"extensible PCM", buildWAV("RIFF", 0, extensibleChunk(wavePCM, 1, 8000, 16), dataChunk(size, data)), [][]int16{samples}, 8000, nil},
		{"extensible mu-law", buildWAV("RIFF", 0, extensibleChunk(waveMuLaw, 1, 8000, 8), dataChunk(6, ulaw)), [][]int16{viaLaw(media.PCMU, ulaw)}, 8000, nil},
		{"8-bit unsigned", buildWAV("RIFF", 0, fmtChunk(wavePCM, 1, 8000, 8), dataChunk(3, []byte{128, 255, 0})), [][]int16{{0, 127 << 8, -32768}}, 8000, nil},
		{"24-bit", buildWAV("RIFF", 0, fmtChunk(wavePCM, 1, 8000, 24), dataChunk(0, pcm24)), [][]int16{samples}, 8000, nil},
		{"32-bit", buildWAV("RIFF", 0, fmtChunk(wavePCM, 1, 8000, 32), dataChunk(0, pcm32)), [][]int16{samples}, 8000, nil},
		{"float32", buildWAV("RIFF", 0, fmtChunk(waveFloat, 1, 8000, 32), dataChunk(0, f32)), [][]int16{samples}, 8000, nil},
		{"float64", buildWAV("RIFF", 0, fmtChunk(waveFloat, 1, 8000, 64), dataChunk(0, f64)), [][]int16{samples}, 8000, nil},
		{"not RIFF", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00"), nil, 0, ErrNotWAV},
		{"empty file", nil, nil, 0, ErrNotWAV},
		{"no data chunk", buildWAV("RIFF", 0, fmt16, list), nil, 0, ErrNotWAV},
		{"data before fmt", buildWAV("RIFF", 0, dataChunk(size, data), fmt16), nil, 0, ErrNotWAV},
		{"truncated fmt", buildWAV("RIFF", 0, wavChunk{id: "fmt ", size: 16, body: fmt16.body[:10]}), nil, 0, ErrNotWAV},
		{"ADPCM", buildWAV("RIFF", 0, fmtChunk(0x0002, 1, 8000, 4), dataChunk(size, data)), nil, 0, ErrWAVFormat},
		{"12-bit PCM", buildWAV("RIFF", 0, fmtChunk(wavePCM, 1, 8000, 12), dataChunk(size, data)), nil, 0, ErrWAVFormat},
		{"16-bit mu-law", buildWAV("RIFF", 0, fmtChunk(waveMuLaw, 1, 8000, 16), dataChunk(size, data)), nil, 0, ErrWAVFormat},
		{"no channels", buildWAV("RIFF", 0, fmtChunk(wavePCM, 0, 8000, 16), dataChunk(size, data)), nil, 0, ErrWAVFormat},
		{"extensible unknown GUID", buildWAV("RIFF", 0, func() wavChunk {
			c := extensibleChunk(wavePCM, 1, 8000, 16)
			c.body[len(c.body)-1] ^= 0xff
			return c
		}(), dataChunk(size, data)), nil, 0, ErrWAVFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, "test.wav", tt.file)
			got, rate, err := ReadWAVChannels(path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.rate || !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("got %v at %d Hz, want %v at %d Hz", got, rate, tt.want, tt.rate)
			}
			first, rate1, channels, err := ReadWAV(path)
			if err != nil || rate1 != rate || channels != len(tt.want) || !slices.Equal(first, tt.want[0]) {
				t.Errorf("ReadWAV = %v, %d Hz, %d channels, %v", first, rate1, channels, err)
			}
		})
	}
	if _, _, _, err := ReadWAV(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestReadWAVSox reads files written by sox.
func TestReadWAVSox(t *testing.T) {
	tests := []struct {
		file     string
		rate     int
		channels int
		freqs    []float64
	}{
		{"sine1000_ulaw.wav", 8000, 1, []float64{1000}},
		{"sine1000_alaw.wav", 8000, 1, []float64{1000}},
		{"sine1000_float.wav", 8000, 1, []float64{1000}},
		{"sine_24bit_stereo.wav", 16000, 2, []float64{1000, 440}}, // WAVE_FORMAT_EXTENSIBLE
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			chans, rate, err := ReadWAVChannels(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.rate || len(chans) != tt.channels {
				t.Fatalf("%d channels at %d Hz, want %d at %d", len(chans), rate, tt.channels, tt.rate)
			}
			for c, want := range tt.freqs {
				s := chans[c]
				if len(s) != rate/10 {
					t.Errorf("channel %d: %d samples, want %d", c, len(s), rate/10)
				}
				if f := DominantFrequency(s, rate); math.Abs(f-want) > 2 {
					t.Errorf("channel %d: %.1f Hz, want %v", c, f, want)
				}
				if l := RMS(s); math.Abs(l-0.5/math.Sqrt2) > 0.01 {
					t.Errorf("channel %d: RMS %.3f, want 0.354", c, l)
				}
			}
		})
	}
}
