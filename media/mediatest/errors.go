package mediatest

import "errors"

// Errors returned by the WAV and capture readers and writers. They are
// wrapped with context; compare with errors.Is.
var (
	// ErrNotWAV: the file is not a RIFF/WAVE file, or lacks fmt or data.
	ErrNotWAV = errors.New("mediatest: not a WAV file")
	// ErrWAVFormat: the WAV file's sample format is not supported.
	ErrWAVFormat = errors.New("mediatest: unsupported WAV format")
	// ErrNotPcap: the file is neither a classic pcap nor a pcapng capture.
	ErrNotPcap = errors.New("mediatest: not a pcap or pcapng file")
	// ErrBadPcap: the capture's structure is broken.
	ErrBadPcap = errors.New("mediatest: malformed capture")
	// ErrRecordTooLarge: a capture record exceeds the 256 KiB limit.
	ErrRecordTooLarge = errors.New("mediatest: capture record too large")
	// ErrDigit: a DTMF digit is not one of 0-9, *, #, A-D.
	ErrDigit = errors.New("mediatest: not a DTMF digit")
	// ErrCodec: the law is not PCMU or PCMA.
	ErrCodec = errors.New("mediatest: not a G.711 law")
)
