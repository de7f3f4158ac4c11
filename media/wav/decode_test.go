package wav_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/wav"
)

// WAVE format tags (RFC 2361).
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

const subformatTail = "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

// chunk is one RIFF chunk of a test file.
type chunk struct {
	id   string
	size uint32 // as written in the header
	body []byte // written as is, then a pad byte if pad and len(body) is odd
	pad  bool
}

func buildWAV(magic string, riffSize uint32, chunks ...chunk) []byte {
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

func fmtChunk(tag uint16, channels, rate, bits int) chunk {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint16(b, tag)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*channels*((bits+7)/8)))
	b = le.AppendUint16(b, uint16(channels*((bits+7)/8)))
	b = le.AppendUint16(b, uint16(bits))
	return chunk{id: "fmt ", size: uint32(len(b)), body: b}
}

func extensibleChunk(sub uint16, channels, rate, bits int) chunk {
	c := fmtChunk(tagExtensible, channels, rate, bits)
	le := binary.LittleEndian
	c.body = le.AppendUint16(c.body, 22)           // cbSize
	c.body = le.AppendUint16(c.body, uint16(bits)) // valid bits
	c.body = le.AppendUint32(c.body, 0x3)          // channel mask
	c.body = le.AppendUint16(c.body, sub)
	c.body = append(c.body, subformatTail...)
	c.size = uint32(len(c.body))
	return c
}

func dataChunk(size uint32, body []byte) chunk {
	return chunk{id: "data", size: size, body: body, pad: true}
}

func pcm16(samples ...int16) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// pcmFile is a canonical 16-bit PCM file of interleaved samples.
func pcmFile(rate, channels int, interleaved []int16) []byte {
	data := pcm16(interleaved...)
	return buildWAV("RIFF", uint32(36+len(data)), fmtChunk(tagPCM, channels, rate, 16), dataChunk(uint32(len(data)), data))
}

func TestDecode(t *testing.T) {
	samples := []int16{0, 1000, -1000, 32767, -32768, 7}
	data := pcm16(samples...)
	size := uint32(len(data))
	ulaw, alaw := make([]byte, len(samples)), make([]byte, len(samples))
	media.EncodeUlaw(ulaw, samples)
	media.EncodeAlaw(alaw, samples)
	viaLaw := func(g media.G711, codes []byte) []int16 {
		out := make([]int16, len(codes))
		g.Decode(out, codes)
		return out
	}
	fmt16 := fmtChunk(tagPCM, 1, 8000, 16)
	list := chunk{id: "LIST", size: 9, body: []byte("INFOISFT\x01"), pad: true} // odd size, padded
	fact := chunk{id: "fact", size: 4, body: []byte{6, 0, 0, 0}}
	ds64 := chunk{id: "ds64", size: 28, body: make([]byte, 28)} // riffSize(8) dataSize(8) sampleCount(8) tableLength(4)
	binary.LittleEndian.PutUint64(ds64.body[8:], 4)
	var pcm24, pcm32, f32, f64 []byte
	for _, s := range samples {
		v := int32(s) << 16
		pcm24 = append(pcm24, byte(v>>8), byte(v>>16), byte(v>>24))
		pcm32 = binary.LittleEndian.AppendUint32(pcm32, uint32(v|0x1234))
		f32 = binary.LittleEndian.AppendUint32(f32, math.Float32bits(float32(s)/32768))
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(float64(s)/32768))
	}
	// 12-bit samples, left-justified in 16-bit containers.
	pcm12 := pcm16(0x7ff0, -0x8000, 0x0010)
	tests := []struct {
		name     string
		file     []byte
		channels [][]int16
		mono     []int16 // nil: channels[0]
		rate     int
	}{
		{"plain", buildWAV("RIFF", 36+size, fmt16, dataChunk(size, data)), [][]int16{samples}, nil, 8000},
		{"16 kHz", buildWAV("RIFF", 36+size, fmtChunk(tagPCM, 1, 16000, 16), dataChunk(size, data)), [][]int16{samples}, nil, 16000},
		{"48 kHz", buildWAV("RIFF", 36+size, fmtChunk(tagPCM, 1, 48000, 16), dataChunk(size, data)), [][]int16{samples}, nil, 48000},
		{"riff size 0", buildWAV("RIFF", 0, fmt16, dataChunk(size, data)), [][]int16{samples}, nil, 8000},
		{"streaming data size 0", buildWAV("RIFF", 0, fmt16, dataChunk(0, data)), [][]int16{samples}, nil, 8000},
		{"streaming data size 0xffffffff", buildWAV("RIFF", 0xffffffff, fmt16, dataChunk(0xffffffff, data)), [][]int16{samples}, nil, 8000},
		{"data size past the end", buildWAV("RIFF", 1<<20, fmt16, dataChunk(1<<20, data)), [][]int16{samples}, nil, 8000},
		{"data size over MaxDataSize, file small", buildWAV("RIFF", 0, fmt16, dataChunk(wav.MaxDataSize+2, data)), [][]int16{samples}, nil, 8000},
		{"truncated mid-sample", buildWAV("RIFF", 36+size, fmt16, chunk{id: "data", size: size, body: data[:len(data)-1]}), [][]int16{samples[:5]}, nil, 8000},
		{"header only", buildWAV("RIFF", 36, fmt16, dataChunk(0, nil)), [][]int16{{}}, nil, 8000},
		{"chunks after data", buildWAV("RIFF", 0, fmt16, dataChunk(4, data), list), [][]int16{samples[:2]}, nil, 8000},
		{"LIST and fact before data", buildWAV("RIFF", 0, list, fmt16, fact, dataChunk(size, data)), [][]int16{samples}, nil, 8000},
		{"odd fmt chunk, padded", buildWAV("RIFF", 0, func() chunk {
			c := fmtChunk(tagPCM, 1, 8000, 16)
			c.body, c.size, c.pad = append(c.body, 0), 17, true
			return c
		}(), dataChunk(size, data)), [][]int16{samples}, nil, 8000},
		{"RF64", buildWAV("RF64", 0xffffffff, ds64, fmt16, dataChunk(0xffffffff, data[:4]), list), [][]int16{samples[:2]}, nil, 8000},
		{
			"stereo", buildWAV("RIFF", 0, fmtChunk(tagPCM, 2, 16000, 16), dataChunk(16, pcm16(1, -1, 2, 4, 3, -4, 32767, 32767))),
			[][]int16{{1, 2, 3, 32767}, {-1, 4, -4, 32767}},
			[]int16{0, 3, -1, 32767},
			16000,
		},
		{
			"three channels", buildWAV("RIFF", 0, fmtChunk(tagPCM, 3, 8000, 16), dataChunk(12, pcm16(3, 3, 4, -32768, -32768, -32767))),
			[][]int16{{3, -32768}, {3, -32768}, {4, -32767}},
			[]int16{3, -32768},
			8000,
		},
		{"mu-law", buildWAV("RIFF", 0, fmtChunk(tagMuLaw, 1, 8000, 8), fact, dataChunk(6, ulaw)), [][]int16{viaLaw(media.PCMU, ulaw)}, nil, 8000},
		{"A-law", buildWAV("RIFF", 0, fmtChunk(tagALaw, 1, 8000, 8), dataChunk(6, alaw)), [][]int16{viaLaw(media.PCMA, alaw)}, nil, 8000},
		{
			"A-law stereo", buildWAV("RIFF", 0, fmtChunk(tagALaw, 2, 8000, 8), dataChunk(6, alaw)),
			[][]int16{viaLaw(media.PCMA, []byte{alaw[0], alaw[2], alaw[4]}), viaLaw(media.PCMA, []byte{alaw[1], alaw[3], alaw[5]})},
			[]int16{508, 15624, -16124},
			8000,
		},
		{"extensible PCM", buildWAV("RIFF", 0, extensibleChunk(tagPCM, 1, 8000, 16), dataChunk(size, data)), [][]int16{samples}, nil, 8000},
		{"extensible mu-law", buildWAV("RIFF", 0, extensibleChunk(tagMuLaw, 1, 8000, 8), dataChunk(6, ulaw)), [][]int16{viaLaw(media.PCMU, ulaw)}, nil, 8000},
		{"extensible A-law", buildWAV("RIFF", 0, extensibleChunk(tagALaw, 1, 8000, 8), dataChunk(6, alaw)), [][]int16{viaLaw(media.PCMA, alaw)}, nil, 8000},
		{"8-bit unsigned", buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 8000, 8), dataChunk(3, []byte{128, 255, 0})), [][]int16{{0, 127 << 8, -32768}}, nil, 8000},
		{"12-bit", buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 8000, 12), dataChunk(6, pcm12)), [][]int16{{0x7ff0, -0x8000, 0x0010}}, nil, 8000},
		{"24-bit", buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 8000, 24), dataChunk(0, pcm24)), [][]int16{samples}, nil, 8000},
		{"32-bit", buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 8000, 32), dataChunk(0, pcm32)), [][]int16{samples}, nil, 8000},
		{"float32", buildWAV("RIFF", 0, fmtChunk(tagFloat, 1, 8000, 32), dataChunk(0, f32)), [][]int16{samples}, nil, 8000},
		{"float64", buildWAV("RIFF", 0, fmtChunk(tagFloat, 1, 8000, 64), dataChunk(0, f64)), [][]int16{samples}, nil, 8000},
		{
			"float clipping and NaN", buildWAV("RIFF", 0, fmtChunk(tagFloat, 1, 8000, 32), dataChunk(12, binary.LittleEndian.AppendUint32(
				binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, math.Float32bits(2)), math.Float32bits(-2)), math.Float32bits(float32(math.NaN()))))),
			[][]int16{{32767, -32768, 0}},
			nil, 8000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := wav.Decode(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			mono := tt.mono
			if mono == nil {
				mono = tt.channels[0]
			}
			if a.Rate != tt.rate || !slices.EqualFunc(a.Channels, tt.channels, slices.Equal) || !slices.Equal(a.Samples, mono) {
				t.Errorf("got channels %v, mono %v at %d Hz; want %v, %v at %d Hz", a.Channels, a.Samples, a.Rate, tt.channels, mono, tt.rate)
			}
			if want := time.Duration(len(mono)) * time.Second / time.Duration(tt.rate); a.Duration() != want {
				t.Errorf("Duration() = %v, want %v", a.Duration(), want)
			}
		})
	}
}

// TestDecodeG711 checks the package's own G.711 decoder against package
// media's, for all 256 codes of both laws.
func TestDecodeG711(t *testing.T) {
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	for _, law := range []struct {
		tag uint16
		g   media.G711
	}{{tagMuLaw, media.PCMU}, {tagALaw, media.PCMA}} {
		t.Run(law.g.String(), func(t *testing.T) {
			a, err := wav.Decode(bytes.NewReader(buildWAV("RIFF", 0, fmtChunk(law.tag, 1, 8000, 8), dataChunk(256, codes))))
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int16, 256)
			law.g.Decode(want, codes)
			for i := range want {
				if a.Samples[i] != want[i] {
					t.Errorf("code 0x%02x: %d, want %d", i, a.Samples[i], want[i])
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	data := pcm16(1, 2, 3)
	fmt16 := fmtChunk(tagPCM, 1, 8000, 16)
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, wav.ErrFormat},
		{"short", []byte("RIFF\x00\x00"), wav.ErrFormat},
		{"not RIFF", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00"), wav.ErrFormat},
		{"RIFF but not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), wav.ErrFormat},
		{"no chunks", buildWAV("RIFF", 4), wav.ErrFormat},
		{"no data chunk", buildWAV("RIFF", 0, fmt16), wav.ErrFormat},
		{"data before fmt", buildWAV("RIFF", 0, dataChunk(6, data), fmt16), wav.ErrFormat},
		{"truncated fmt", buildWAV("RIFF", 0, chunk{id: "fmt ", size: 16, body: fmt16.body[:10]}), wav.ErrFormat},
		{"fmt too short", buildWAV("RIFF", 0, chunk{id: "fmt ", size: 14, body: fmt16.body[:14]}, dataChunk(6, data)), wav.ErrFormat},
		{"fmt too long", buildWAV("RIFF", 0, chunk{id: "fmt ", size: 1 << 20, body: fmt16.body}), wav.ErrFormat},
		{"LIST past the end", buildWAV("RIFF", 0, fmt16, chunk{id: "LIST", size: 100, body: []byte("INFO")}), wav.ErrFormat},
		{"metadata too large", buildWAV("RIFF", 0, fmt16, chunk{id: "JUNK", size: wav.MaxMetadataSize}), wav.ErrTooLarge},
		{"ADPCM", buildWAV("RIFF", 0, fmtChunk(0x0002, 1, 8000, 4), dataChunk(6, data)), wav.ErrUnsupported},
		{"MP3", buildWAV("RIFF", 0, fmtChunk(0x0055, 1, 8000, 0), dataChunk(6, data)), wav.ErrUnsupported},
		{"16-bit mu-law", buildWAV("RIFF", 0, fmtChunk(tagMuLaw, 1, 8000, 16), dataChunk(6, data)), wav.ErrUnsupported},
		{"float16", buildWAV("RIFF", 0, fmtChunk(tagFloat, 1, 8000, 16), dataChunk(6, data)), wav.ErrUnsupported},
		{"0-bit PCM", buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 8000, 0), dataChunk(6, data)), wav.ErrUnsupported},
		{"40-bit PCM", buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 8000, 40), dataChunk(6, data)), wav.ErrUnsupported},
		{"no channels", buildWAV("RIFF", 0, fmtChunk(tagPCM, 0, 8000, 16), dataChunk(6, data)), wav.ErrUnsupported},
		{"too many channels", buildWAV("RIFF", 0, fmtChunk(tagPCM, 33, 8000, 16), dataChunk(6, data)), wav.ErrUnsupported},
		{"rate 12000", buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 12000, 16), dataChunk(6, data)), wav.ErrUnsupported},
		{"rate 0", buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 0, 16), dataChunk(6, data)), wav.ErrUnsupported},
		{"extensible unknown GUID", buildWAV("RIFF", 0, func() chunk {
			c := extensibleChunk(tagPCM, 1, 8000, 16)
			c.body[len(c.body)-1] ^= 0xff
			return c
		}(), dataChunk(6, data)), wav.ErrUnsupported},
		{"extensible too short", buildWAV("RIFF", 0, func() chunk {
			c := extensibleChunk(tagPCM, 1, 8000, 16)
			c.body, c.size = c.body[:30], 30
			return c
		}(), dataChunk(6, data)), wav.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := wav.Decode(bytes.NewReader(tt.file))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, %v; want %v", a, err, tt.want)
			}
		})
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// endless is an io.Reader of endless zeros that counts what it gave.
type endless struct{ n int64 }

func (r *endless) Read(p []byte) (int, error) {
	clear(p)
	r.n += int64(len(p))
	return len(p), nil
}

func TestDecodeReaderErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	file := pcmFile(8000, 1, []int16{1, 2, 3, 4})
	for _, cut := range []int{0, 6, 12, 16, 30, 44, 46} {
		_, err := wav.Decode(&failingReader{data: file[:cut], err: boom})
		if !errors.Is(err, boom) || errors.Is(err, wav.ErrFormat) {
			t.Errorf("reader failing after %d bytes: %v, want the reader's error", cut, err)
		}
	}
}

// TestDecodeBounded: Decode reads no more than its limits from an input
// that never ends.
func TestDecodeBounded(t *testing.T) {
	t.Run("metadata", func(t *testing.T) {
		head := buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 8000, 16))
		for range 8 { // JUNK chunks of 1 MiB each, 4 MiB allowed in all
			head = append(head, "JUNK\x00\x00\x10\x00"...)
			head = append(head, make([]byte, 1<<20)...)
		}
		_, err := wav.Decode(io.MultiReader(bytes.NewReader(head), &endless{}))
		if !errors.Is(err, wav.ErrTooLarge) {
			t.Fatalf("%v, want ErrTooLarge", err)
		}
	})
	if testing.Short() {
		t.Skip("reads 64 MiB")
	}
	t.Run("data", func(t *testing.T) {
		src := &endless{}
		head := buildWAV("RIFF", 0, fmtChunk(tagPCM, 1, 8000, 16), chunk{id: "data", size: 0xffffffff})
		_, err := wav.Decode(io.MultiReader(bytes.NewReader(head), src))
		if !errors.Is(err, wav.ErrTooLarge) {
			t.Fatalf("%v, want ErrTooLarge", err)
		}
		if src.n > wav.MaxDataSize+64<<10 {
			t.Errorf("read %d bytes of data, limit %d", src.n, wav.MaxDataSize)
		}
	})
}

// TestDecodeTruncated decodes a file cut at every byte: no panic, the error
// is ErrFormat, and what decodes is a prefix of the whole.
func TestDecodeTruncated(t *testing.T) {
	var interleaved []int16
	for i := range 50 {
		interleaved = append(interleaved, int16(i*300), int16(-i*7))
	}
	data := pcm16(interleaved...)
	file := buildWAV("RIFF", 0,
		chunk{id: "LIST", size: 9, body: []byte("INFOISFT\x01"), pad: true},
		extensibleChunk(tagPCM, 2, 16000, 16),
		chunk{id: "fact", size: 4, body: []byte{50, 0, 0, 0}},
		dataChunk(uint32(len(data)), data),
		chunk{id: "LIST", size: 4, body: []byte("INFO")})
	full, err := wav.Decode(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	dataStart := len(file) - len(data) - 12
	for cut := range len(file) + 1 {
		a, err := wav.Decode(bytes.NewReader(file[:cut]))
		if cut < dataStart {
			if !errors.Is(err, wav.ErrFormat) {
				t.Errorf("cut at %d: %v, want ErrFormat", cut, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("cut at %d: %v", cut, err)
			continue
		}
		frames := min(cut-dataStart, len(data)) / 4
		if len(a.Channels) != 2 || !slices.Equal(a.Channels[0], full.Channels[0][:frames]) ||
			!slices.Equal(a.Channels[1], full.Channels[1][:frames]) || !slices.Equal(a.Samples, full.Samples[:frames]) {
			t.Errorf("cut at %d: %d frames, not the first %d of the file", cut, len(a.Samples), frames)
		}
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	if err := os.WriteFile(path, pcmFile(16000, 1, []int16{5, 6}), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := wav.ReadFile(path)
	if err != nil || a.Rate != 16000 || !slices.Equal(a.Samples, []int16{5, 6}) {
		t.Errorf("ReadFile = %+v, %v", a, err)
	}
	if _, err := wav.ReadFile(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.wav")
	if err := os.WriteFile(bad, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := wav.ReadFile(bad); !errors.Is(err, wav.ErrFormat) {
		t.Errorf("not a WAV file: %v", err)
	}
}

// TestDecodeSox reads files that sox wrote (mediatest's fixtures).
func TestDecodeSox(t *testing.T) {
	tests := []struct {
		file     string
		rate     int
		channels int
	}{
		{"sine1000_ulaw.wav", 8000, 1},
		{"sine1000_alaw.wav", 8000, 1},
		{"sine1000_float.wav", 8000, 1},
		{"sine_24bit_stereo.wav", 16000, 2}, // WAVE_FORMAT_EXTENSIBLE
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a, err := wav.ReadFile(filepath.Join("..", "mediatest", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tt.rate || len(a.Channels) != tt.channels || len(a.Samples) != tt.rate/10 {
				t.Errorf("%d channels of %d samples at %d Hz, want %d of %d at %d", len(a.Channels), len(a.Samples), a.Rate, tt.channels, tt.rate/10, tt.rate)
			}
		})
	}
}

// A FIFO or a device named as a prompt is refused at once, never read.
func TestReadFileNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "prompt.wav")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no mkfifo:", err)
	}
	for _, p := range []string{fifo, "/dev/zero", t.TempDir()} {
		if _, err := wav.ReadFile(p); !errors.Is(err, wav.ErrUnsupported) {
			t.Errorf("ReadFile(%s) = %v, want ErrUnsupported", p, err)
		}
	}
}
