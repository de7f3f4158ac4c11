package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"
)

// Limits of Decode.
const (
	// MaxDataSize is the largest data chunk Decode reads: 64 MiB, about 70
	// minutes of 8 kHz 16-bit mono or 6 minutes of 44.1 kHz 16-bit stereo.
	// Prompts and hold music are far shorter; anything larger is refused
	// with ErrTooLarge rather than read into memory.
	MaxDataSize = 64 << 20
	// MaxMetadataSize bounds the chunks before the data chunk (fmt, LIST,
	// bext, JUNK, ...) together: 4 MiB.
	MaxMetadataSize = 4 << 20
	// MaxChannels is the largest channel count Decode accepts.
	MaxChannels = 32
)

// WAVE format tags (RFC 2361, Microsoft mmreg.h).
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// subformatTail is the part of a WAVE_FORMAT_EXTENSIBLE subformat GUID after
// its first two bytes, which hold the format tag:
// XXXXXXXX-0000-0010-8000-00AA00389B71 (KSDATAFORMAT_SUBTYPE_*).
const subformatTail = "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

// streamingSize is the chunk size that streaming writers leave behind, and
// that RF64 uses to mean "see the ds64 chunk".
const streamingSize = 0xFFFFFFFF

// maxFmtSize bounds the fmt and ds64 chunks, which Decode reads into memory:
// a WAVE_FORMAT_EXTENSIBLE fmt chunk is 40 bytes, a ds64 chunk 28 plus a
// table that small files do not need.
const maxFmtSize = 1024

// Audio is decoded audio: 16-bit linear PCM at the file's sample rate.
type Audio struct {
	// Rate is the sample rate in Hz, as in the file: one of 8000, 11025,
	// 16000, 22050, 32000, 44100 and 48000. To8k converts to 8 kHz.
	Rate int
	// Samples is the audio in mono. For a file with two or more channels it
	// is their average, rounded to the nearest integer.
	Samples []int16
	// Channels holds each channel of the file, as decoded, all of the same
	// length. For a mono file Channels[0] is Samples (the same slice).
	Channels [][]int16
}

// Duration returns the length of the audio.
func (a *Audio) Duration() time.Duration {
	if a.Rate <= 0 {
		return 0
	}
	return time.Duration(len(a.Samples)) * time.Second / time.Duration(a.Rate)
}

// ReadFile decodes the WAV file at path; see Decode.
//
// Only a regular file is read: a FIFO (which would block the open until a
// writer comes) or a device is refused with ErrUnsupported.
func ReadFile(path string) (*Audio, error) {
	path = filepath.Clean(path)
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("read wav: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read wav %s: %w: not a regular file (%s)", path, ErrUnsupported, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read wav: %w", err)
	}
	defer f.Close()
	a, err := Decode(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read wav %s: %w", path, err)
	}
	return a, nil
}

// Decode reads a WAV file from r and returns its audio as 16-bit PCM.
//
// Formats: PCM (format tag 1) of 8 bits (unsigned) and 16, 24 or 32 bits
// (signed; any other width up to 32 bits in a whole-byte container), IEEE
// float (tag 3) of 32 or 64 bits, G.711 A-law (tag 6) and μ-law (tag 7), and
// these same formats as subformats of WAVE_FORMAT_EXTENSIBLE (tag 0xFFFE).
// Samples wider than 16 bits keep their 16 most significant bits; floats are
// scaled by 32768, rounded and clipped. Sample rates: 8000, 11025, 16000,
// 22050, 32000, 44100 and 48000 Hz, kept as they are (see Audio.To8k). Up to
// MaxChannels channels, downmixed to mono in Audio.Samples and kept apart in
// Audio.Channels.
//
// Container: RIFF, and RF64 with a ds64 chunk. Chunks other than fmt, ds64
// and data (LIST, fact, bext, ...) are skipped, with their pad byte when
// their size is odd. Decode stops after the data chunk and ignores whatever
// follows it. The RIFF size is ignored. Files left behind by a streaming
// writer or a crashed recorder are read as far as they go: a data chunk of
// size 0 or 0xFFFFFFFF is read to the end of the input, one larger than the
// input is read to its end, and a partial last frame is dropped.
//
// Bounds: at most MaxMetadataSize bytes of chunks before the data chunk and
// MaxDataSize bytes of data, otherwise ErrTooLarge; Decode reads no more than
// that from r. Malformed input gives ErrFormat, a format or rate it does not
// handle ErrUnsupported, a failing reader its error; nothing panics.
func Decode(r io.Reader) (*Audio, error) {
	return decode(r, MaxDataSize)
}

// format is the content of a fmt chunk.
type format struct {
	tag      uint16 // the subformat's tag for WAVE_FORMAT_EXTENSIBLE
	channels int
	rate     int
	width    int // bytes per sample: the container of bits
}

// decode is Decode with the data limit as a parameter, for tests.
func decode(r io.Reader, maxData int64) (*Audio, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, readError(err, "RIFF header")
	}
	magic := string(hdr[:4])
	if (magic != "RIFF" && magic != "RF64") || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrFormat)
	}
	var (
		f        *format
		ds64Data uint64 // data size from an RF64 ds64 chunk
		meta     int64  // bytes of chunks before the data chunk
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: no data chunk", ErrFormat)
			}
			return nil, fmt.Errorf("read chunk header: %w", err)
		}
		id, size := string(ch[:4]), uint64(binary.LittleEndian.Uint32(ch[4:]))
		if id == "data" {
			if f == nil {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrFormat)
			}
			if size == streamingSize && magic == "RF64" && ds64Data != 0 {
				size = ds64Data
			}
			return readData(r, *f, size, maxData)
		}
		padded := size + size&1 // chunks are padded to an even size
		meta += 8 + int64(padded)
		if meta > MaxMetadataSize {
			return nil, fmt.Errorf("%w: chunks before the audio are over %d bytes (at chunk %q)", ErrTooLarge, MaxMetadataSize, printable(id))
		}
		switch id {
		case "fmt ", "ds64":
			if size > maxFmtSize {
				return nil, fmt.Errorf("%w: %q chunk of %d bytes", ErrFormat, id, size)
			}
			body := make([]byte, size)
			if _, err := io.ReadFull(r, body); err != nil {
				return nil, readError(err, fmt.Sprintf("%q chunk", id))
			}
			if size&1 == 1 {
				// The pad byte. Missing at the end of the input, it leaves
				// no data chunk, which the next chunk header read reports.
				var pad [1]byte
				if _, err := io.ReadFull(r, pad[:]); err != nil && !errors.Is(err, io.EOF) {
					return nil, readError(err, fmt.Sprintf("%q chunk", id))
				}
			}
			if id == "ds64" {
				if len(body) >= 16 {
					ds64Data = binary.LittleEndian.Uint64(body[8:16])
				}
				continue
			}
			pf, err := parseFormat(body)
			if err != nil {
				return nil, err
			}
			f = &pf
		default:
			if _, err := io.CopyN(io.Discard, r, int64(padded)); err != nil {
				if errors.Is(err, io.EOF) {
					return nil, fmt.Errorf("%w: no data chunk", ErrFormat)
				}
				return nil, fmt.Errorf("skip %q chunk: %w", printable(id), err)
			}
		}
	}
}

// readError describes a failure to read what: running out of input is
// ErrFormat, anything else the reader's own error.
func readError(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated %s", ErrFormat, what)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

// printable returns a chunk id with anything but printable ASCII replaced,
// for error messages.
func printable(id string) string {
	b := []byte(id)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// parseFormat parses the body of a fmt chunk.
func parseFormat(b []byte) (format, error) {
	if len(b) < 16 {
		return format{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrFormat, len(b))
	}
	le := binary.LittleEndian
	tag := le.Uint16(b[0:2])
	f := format{
		tag:      tag,
		channels: int(le.Uint16(b[2:4])),
		rate:     int(le.Uint32(b[4:8])),
	}
	bits := int(le.Uint16(b[14:16]))
	if tag == tagExtensible {
		// cbSize(2) validBits(2) channelMask(4) subFormat(16)
		if len(b) < 40 || string(b[26:40]) != subformatTail {
			return format{}, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE with an unknown subformat", ErrUnsupported)
		}
		f.tag = le.Uint16(b[24:26])
	}
	if f.channels < 1 || f.channels > MaxChannels {
		return format{}, fmt.Errorf("%w: %d channels (1 to %d are supported)", ErrUnsupported, f.channels, MaxChannels)
	}
	if !supportedRate(f.rate) {
		return format{}, fmt.Errorf("%w: sample rate %d Hz (supported: 8000, 11025, 16000, 22050, 32000, 44100 and 48000 Hz)", ErrUnsupported, f.rate)
	}
	f.width = (bits + 7) / 8
	switch {
	case f.tag == tagPCM && bits >= 1 && bits <= 32,
		f.tag == tagFloat && (bits == 32 || bits == 64),
		(f.tag == tagMuLaw || f.tag == tagALaw) && bits == 8:
		return f, nil
	default:
		return format{}, fmt.Errorf("%w: format tag 0x%04x with %d bits per sample (PCM, IEEE float, A-law and μ-law are supported)", ErrUnsupported, f.tag, bits)
	}
}

// supportedRate reports whether Decode and To8k handle a sample rate.
func supportedRate(rate int) bool {
	switch rate {
	case 8000, 11025, 16000, 22050, 32000, 44100, 48000:
		return true
	default:
		return false
	}
}

// readData reads the data chunk of declared size and decodes it.
func readData(r io.Reader, f format, size uint64, maxData int64) (*Audio, error) {
	limit := maxData + 1 // one byte more, to tell "at the limit" from "over it"
	if size != 0 && size != streamingSize && size < uint64(limit) {
		limit = int64(size)
	}
	// io.ReadAll grows its buffer as data arrives, so a size that promises
	// more than the input holds costs nothing.
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return nil, fmt.Errorf("read data chunk: %w", err)
	}
	if int64(len(data)) > maxData {
		return nil, fmt.Errorf("%w: audio data over %d bytes", ErrTooLarge, maxData)
	}
	return decodeSamples(f, data), nil
}

// decodeSamples converts the whole frames of data to 16-bit channels and
// their mono mix.
func decodeSamples(f format, data []byte) *Audio {
	frameSize := f.width * f.channels
	frames := len(data) / frameSize
	a := &Audio{Rate: f.rate, Channels: make([][]int16, f.channels)}
	for c := range a.Channels {
		a.Channels[c] = make([]int16, frames)
	}
	if frames == 0 {
		a.Samples = downmix(a.Channels, 0)
		return a
	}
	le := binary.LittleEndian
	for c, out := range a.Channels {
		in := data[c*f.width:]
		switch {
		case f.tag == tagMuLaw || f.tag == tagALaw:
			table := g711Table(f.tag == tagALaw)
			for i := range out {
				out[i] = table[in[i*frameSize]]
			}
		case f.tag == tagFloat && f.width == 4:
			for i := range out {
				out[i] = floatSample(float64(math.Float32frombits(le.Uint32(in[i*frameSize:]))))
			}
		case f.tag == tagFloat:
			for i := range out {
				out[i] = floatSample(math.Float64frombits(le.Uint64(in[i*frameSize:])))
			}
		case f.width == 1: // 8-bit PCM is unsigned
			for i := range out {
				out[i] = int16(int(in[i*frameSize])-128) << 8
			}
		case f.width == 2:
			for i := range out {
				out[i] = int16(le.Uint16(in[i*frameSize:]))
			}
		default: // 3 or 4 bytes, little-endian: the top two bytes
			top := f.width - 2
			for i := range out {
				b := in[i*frameSize+top:]
				out[i] = int16(uint16(b[0]) | uint16(b[1])<<8)
			}
		}
	}
	a.Samples = downmix(a.Channels, frames)
	return a
}

// downmix returns the average of the channels, rounded to nearest (half away
// from zero); for one channel, the channel itself.
func downmix(channels [][]int16, frames int) []int16 {
	if len(channels) == 1 {
		return channels[0]
	}
	n := len(channels)
	out := make([]int16, frames)
	for i := range out {
		sum := 0
		for _, c := range channels {
			sum += int(c[i])
		}
		q, r := sum/n, sum%n
		if 2*r >= n {
			q++
		} else if -2*r >= n {
			q--
		}
		out[i] = int16(q)
	}
	return out
}

// floatSample converts a float sample in -1..1 to 16 bits, clipping.
func floatSample(v float64) int16 {
	if math.IsNaN(v) {
		return 0
	}
	return int16(min(max(math.Round(v*32768), -32768), 32767))
}
