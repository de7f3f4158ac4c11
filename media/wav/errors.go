package wav

import "errors"

// Errors of package wav. They come wrapped with context; compare with
// errors.Is.
var (
	// ErrFormat: the input is not a RIFF/WAVE file, or its structure is
	// broken (no fmt or data chunk, a fmt chunk that is too short, a data
	// chunk before the fmt chunk, ...).
	ErrFormat = errors.New("wav: malformed WAV file")
	// ErrUnsupported: a well-formed file whose sample format, sample rate or
	// channel count this package does not handle, or a Writer asked for a
	// format it cannot write.
	ErrUnsupported = errors.New("wav: unsupported WAV format")
	// ErrTooLarge: the audio is over MaxDataSize, the chunks before it are
	// over MaxMetadataSize, or a Writer would pass the 4 GiB RIFF limit.
	ErrTooLarge = errors.New("wav: too large")
	// ErrClosed: the Writer was closed.
	ErrClosed = errors.New("wav: writer closed")
)
