package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Writer limits.
const (
	// headerSize is the size of the header Create writes: RIFF header (12),
	// fmt chunk (8 + 16), data chunk header (8).
	headerSize = 44
	// maxRIFFData is the most data a RIFF file can describe: the RIFF size,
	// 36 + data, is a uint32.
	maxRIFFData = 0xFFFFFFFF - (headerSize - 8)
	// maxBuffered is how much Write buffers before it flushes on its own:
	// 1 MiB, about 33 s of 8 kHz stereo.
	maxBuffered = 1 << 20
	// maxWriteRate bounds the sample rate a Writer accepts.
	maxWriteRate = 384000
	// Permissions of what Create makes: the files are recordings of calls.
	dirPerm  = 0o750
	filePerm = 0o640
)

// Writer writes a 16-bit PCM WAV file, such as a call recording, so that the
// file on disk is a valid WAV file at all times: it covers everything up to
// the last Flush. Create writes a complete header with sizes 0; each Flush
// appends the buffered samples and then rewrites the header with the new
// RIFF and data sizes. The data always reaches the file before the header
// that counts it, so a process killed at any moment (even SIGKILL, even
// mid-Flush) leaves a file that plays up to its last complete Flush, and at
// worst the samples of an interrupted Flush sit beyond the declared data
// size. This survives the process, not the machine: the kernel writes the
// page cache out on its own schedule; call Sync to survive a power loss too.
//
// The caller picks the cadence; a recorder flushing every 0.5-1 s loses at
// most that much on a crash. Write flushes on its own when 1 MiB is pending.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	f        *os.File
	path     string
	rate     int
	channels int
	buf      []byte // samples not yet written, little-endian
	flushed  int64  // data bytes written to the file
	declared int64  // data bytes the header on disk declares
	limit    int64  // most data bytes: maxRIFFData in whole frames
	hdr      [headerSize]byte
	closed   bool
}

// Create creates a WAV file at path for 16-bit PCM at rate Hz with the given
// number of channels (interleaved), and writes its header. It makes the
// parent directories (mode 0750) and the file (mode 0640, both less the
// umask), and refuses to replace an existing file (an error wrapping
// fs.ErrExist). Channels must be 1 to MaxChannels, the rate 1 Hz to 384 kHz,
// otherwise ErrUnsupported.
func Create(path string, rate, channels int) (*Writer, error) {
	if rate < 1 || rate > maxWriteRate || channels < 1 || channels > MaxChannels {
		return nil, fmt.Errorf("create wav %s: %w: %d channels at %d Hz", path, ErrUnsupported, channels, rate)
	}
	path = filepath.Clean(path)
	if err := os.MkdirAll(filepath.Dir(path), dirPerm); err != nil {
		return nil, fmt.Errorf("create wav: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return nil, fmt.Errorf("create wav: %w", err)
	}
	frame := int64(2 * channels)
	w := &Writer{
		f:        f,
		path:     path,
		rate:     rate,
		channels: channels,
		buf:      make([]byte, 0, 32<<10),
		limit:    maxRIFFData / frame * frame,
	}
	w.header()
	if _, err := f.WriteAt(w.hdr[:], 0); err != nil {
		f.Close()
		return nil, errors.Join(fmt.Errorf("create wav %s: %w", path, err), os.Remove(path))
	}
	return w, nil
}

// header fills w.hdr for w.flushed bytes of data: a canonical 44-byte
// header, RIFF size at offset 4 and data size at offset 40.
func (w *Writer) header() {
	le := binary.LittleEndian
	h := w.hdr[:0]
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, uint32(headerSize-8+w.flushed))
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, 16)
	h = le.AppendUint16(h, tagPCM)
	h = le.AppendUint16(h, uint16(w.channels))
	h = le.AppendUint32(h, uint32(w.rate))
	h = le.AppendUint32(h, uint32(w.rate*w.channels*2)) // byte rate
	h = le.AppendUint16(h, uint16(w.channels*2))        // block align
	h = le.AppendUint16(h, 16)                          // bits per sample
	h = append(h, "data"...)
	_ = le.AppendUint32(h, uint32(w.flushed))
}

// Write buffers interleaved samples: one sample per channel for each frame,
// whole frames only. It does not allocate once its buffer has grown to the
// caller's flush cadence. It fails with ErrTooLarge, writing nothing, if the
// file would pass the 4 GiB RIFF limit (about 37 hours of 8 kHz stereo): the
// caller should close this file and go on in a new one.
func (w *Writer) Write(interleaved []int16) error {
	if w.closed {
		return fmt.Errorf("write wav %s: %w", w.path, ErrClosed)
	}
	if len(interleaved)%w.channels != 0 {
		return fmt.Errorf("write wav %s: %d samples are not whole frames of %d channels", w.path, len(interleaved), w.channels)
	}
	if w.flushed+int64(len(w.buf))+2*int64(len(interleaved)) > w.limit {
		return fmt.Errorf("write wav %s: %w: the 4 GiB RIFF limit", w.path, ErrTooLarge)
	}
	n := len(w.buf)
	w.buf = slices.Grow(w.buf, 2*len(interleaved))[:n+2*len(interleaved)]
	out := w.buf[n:]
	for i, s := range interleaved {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(s))
	}
	if len(w.buf) >= maxBuffered {
		return w.flush()
	}
	return nil
}

// Flush writes the buffered samples to the file and then updates the sizes
// in its header, so the file is a valid WAV file of everything written so
// far. After a failed Flush the samples stay buffered and the file stays
// valid up to the previous Flush; the next Flush tries again.
func (w *Writer) Flush() error {
	if w.closed {
		return fmt.Errorf("flush wav %s: %w", w.path, ErrClosed)
	}
	return w.flush()
}

func (w *Writer) flush() error {
	if len(w.buf) > 0 {
		if _, err := w.f.WriteAt(w.buf, headerSize+w.flushed); err != nil {
			return fmt.Errorf("flush wav %s: %w", w.path, err)
		}
		w.flushed += int64(len(w.buf))
		w.buf = w.buf[:0]
	}
	if w.declared != w.flushed {
		// The whole header in one pwrite: bytes 4 and 40 change, the
		// rest is rewritten as it was.
		w.header()
		if _, err := w.f.WriteAt(w.hdr[:], 0); err != nil {
			return fmt.Errorf("flush wav %s: header: %w", w.path, err)
		}
		w.declared = w.flushed
	}
	return nil
}

// Sync flushes and then commits the file to stable storage (fsync), so that
// it survives a power loss or a kernel crash up to this point. It costs a
// disk write: call it rarely, if at all.
func (w *Writer) Sync() error {
	if err := w.Flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync wav %s: %w", w.path, err)
	}
	return nil
}

// Close flushes and closes the file. It does not fsync (see Sync). Calling
// it again does nothing and returns nil.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.flush()
	if cerr := w.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close wav %s: %w", w.path, cerr))
	}
	return err
}

// Duration returns the length of the audio written so far, buffered or
// flushed.
func (w *Writer) Duration() time.Duration {
	frames := (w.flushed + int64(len(w.buf))) / int64(2*w.channels)
	return time.Duration(frames) * time.Second / time.Duration(w.rate)
}

// Size returns the size of the file on disk, header included: what was
// flushed, not what is buffered.
func (w *Writer) Size() int64 {
	return headerSize + w.flushed
}
