package mediatest

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/ringdesk/ringdesk/media"
)

// WAVE format tags (RFC 2361, Microsoft mmreg.h).
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveALaw       = 0x0006
	waveMuLaw      = 0x0007
	waveExtensible = 0xFFFE
)

// waveSubformatTail is the part of a WAVE_FORMAT_EXTENSIBLE subformat GUID
// after its first two bytes, which hold the format tag:
// XXXXXXXX-0000-0010-8000-00AA00389B71.
const waveSubformatTail = "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

// streamingSize is the chunk size that streaming writers leave behind
// (RF64 uses it to mean "see ds64").
const streamingSize = 0xFFFFFFFF

// ReadWAV reads a WAV file and returns the samples of its first channel as
// 16-bit PCM, its sample rate and its number of channels. See ReadWAVChannels
// for the formats it reads.
func ReadWAV(path string) (samples []int16, rate int, channels int, err error) {
	chans, rate, err := ReadWAVChannels(path)
	if err != nil {
		return nil, 0, 0, err
	}
	return chans[0], rate, len(chans), nil
}

// ReadWAVChannels reads a WAV file and returns each channel's samples as 16-bit
// PCM, and the sample rate. It reads PCM with 8 (unsigned), 16, 24 or 32 bits
// per sample, IEEE float with 32 or 64 bits, 8-bit G.711 μ-law
// (WAVE_FORMAT_MULAW) and A-law (WAVE_FORMAT_ALAW), and the same formats
// in WAVE_FORMAT_EXTENSIBLE; wider samples are truncated to 16 bits. It reads
// RIFF and RF64 files and skips chunks it does not know (LIST, fact, ...).
//
// Streaming writers cannot fill in sizes before they finish: a data chunk of
// size 0 or 0xFFFFFFFF, or larger than the file, is read to the end of the
// file, and the RIFF size is ignored. A partial last frame is dropped.
func ReadWAVChannels(path string) (channels [][]int16, rate int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read wav: %w", err)
	}
	channels, rate, err = parseWAV(b)
	if err != nil {
		return nil, 0, fmt.Errorf("read wav %s: %w", path, err)
	}
	return channels, rate, nil
}

// waveFormat is the content of a fmt chunk.
type waveFormat struct {
	tag      uint16
	channels int
	rate     int
	bits     int // container size of one sample
}

func parseWAV(b []byte) ([][]int16, int, error) {
	if len(b) < 12 || (string(b[:4]) != "RIFF" && string(b[:4]) != "RF64") || string(b[8:12]) != "WAVE" {
		return nil, 0, ErrNotWAV
	}
	le := binary.LittleEndian
	var (
		format    *waveFormat
		ds64Data  uint64 // data size from an RF64 ds64 chunk
		haveDS64  bool
		remaining = b[12:]
	)
	for len(remaining) >= 8 {
		id, size := string(remaining[:4]), uint64(le.Uint32(remaining[4:8]))
		body := remaining[8:]
		switch id {
		case "data":
			if format == nil {
				return nil, 0, fmt.Errorf("%w: data chunk before fmt chunk", ErrNotWAV)
			}
			if size == streamingSize && haveDS64 {
				size = ds64Data
			}
			if size == 0 || size == streamingSize || size > uint64(len(body)) {
				size = uint64(len(body))
			}
			return decodeWAVData(*format, body[:size])
		case "fmt ":
			if size > uint64(len(body)) {
				return nil, 0, fmt.Errorf("%w: truncated fmt chunk", ErrNotWAV)
			}
			f, err := parseWAVFormat(body[:size])
			if err != nil {
				return nil, 0, err
			}
			format = &f
		case "ds64":
			if size >= 16 && uint64(len(body)) >= 16 {
				ds64Data, haveDS64 = le.Uint64(body[8:16]), true
			}
		}
		skip := size + size&1 // chunks are padded to an even size
		if skip > uint64(len(body)) {
			break
		}
		remaining = body[skip:]
	}
	return nil, 0, fmt.Errorf("%w: no data chunk", ErrNotWAV)
}

func parseWAVFormat(b []byte) (waveFormat, error) {
	if len(b) < 16 {
		return waveFormat{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, len(b))
	}
	le := binary.LittleEndian
	f := waveFormat{
		tag:      le.Uint16(b[0:2]),
		channels: int(le.Uint16(b[2:4])),
		rate:     int(le.Uint32(b[4:8])),
		bits:     int(le.Uint16(b[14:16])),
	}
	if f.tag == waveExtensible {
		// cbSize(2) validBits(2) channelMask(4) subFormat(16)
		if len(b) < 40 || string(b[26:40]) != waveSubformatTail {
			return waveFormat{}, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE with an unknown subformat", ErrWAVFormat)
		}
		f.tag = le.Uint16(b[24:26])
	}
	if f.channels == 0 || f.rate == 0 {
		return waveFormat{}, fmt.Errorf("%w: %d channels at %d Hz", ErrWAVFormat, f.channels, f.rate)
	}
	switch {
	case f.tag == wavePCM && (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32),
		f.tag == waveFloat && (f.bits == 32 || f.bits == 64),
		(f.tag == waveMuLaw || f.tag == waveALaw) && f.bits == 8:
		return f, nil
	default:
		return waveFormat{}, fmt.Errorf("%w: format 0x%04x with %d bits per sample", ErrWAVFormat, f.tag, f.bits)
	}
}

func decodeWAVData(f waveFormat, data []byte) ([][]int16, int, error) {
	size := f.bits / 8
	frames := len(data) / (size * f.channels)
	channels := make([][]int16, f.channels)
	for c := range channels {
		channels[c] = make([]int16, frames)
	}
	le := binary.LittleEndian
	var sample func([]byte) int16
	switch f.tag {
	case wavePCM:
		switch f.bits {
		case 8:
			sample = func(b []byte) int16 { return int16(int(b[0])-128) << 8 }
		case 16:
			sample = func(b []byte) int16 { return int16(le.Uint16(b)) }
		case 24:
			sample = func(b []byte) int16 { return int16(uint16(b[1]) | uint16(b[2])<<8) }
		default:
			sample = func(b []byte) int16 { return int16(le.Uint32(b) >> 16) }
		}
	case waveFloat:
		if f.bits == 32 {
			sample = func(b []byte) int16 { return floatSample(float64(math.Float32frombits(le.Uint32(b)))) }
		} else {
			sample = func(b []byte) int16 { return floatSample(math.Float64frombits(le.Uint64(b))) }
		}
	case waveMuLaw, waveALaw:
		g := media.PCMU
		if f.tag == waveALaw {
			g = media.PCMA
		}
		var one [1]int16
		sample = func(b []byte) int16 {
			g.Decode(one[:], b[:1])
			return one[0]
		}
	}
	for i := range frames {
		frame := data[i*size*f.channels:]
		for c := range channels {
			channels[c][i] = sample(frame[c*size:])
		}
	}
	return channels, f.rate, nil
}

// floatSample converts a float sample in -1..1 to 16 bits, clipping.
func floatSample(v float64) int16 {
	if math.IsNaN(v) {
		return 0
	}
	return int16(min(max(math.Round(v*fullScale), -fullScale), fullScale-1))
}

// WriteWAV writes samples as a 16-bit PCM mono WAV file at rate Hz.
func WriteWAV(path string, samples []int16, rate int) error {
	if rate <= 0 {
		return fmt.Errorf("write wav %s: %w: rate %d", path, ErrWAVFormat, rate)
	}
	if err := os.WriteFile(path, encodeWAV(samples, rate), 0o644); err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return nil
}

func encodeWAV(samples []int16, rate int) []byte {
	dataSize := 2 * len(samples)
	b := make([]byte, 0, 44+dataSize)
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(36+dataSize))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, wavePCM)
	b = le.AppendUint16(b, 1)              // channels
	b = le.AppendUint32(b, uint32(rate))   // sample rate
	b = le.AppendUint32(b, uint32(2*rate)) // byte rate
	b = le.AppendUint16(b, 2)              // block align
	b = le.AppendUint16(b, 16)             // bits per sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(dataSize))
	for _, s := range samples {
		b = le.AppendUint16(b, uint16(s))
	}
	return b
}
