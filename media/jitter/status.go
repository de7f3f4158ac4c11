package jitter

//go:generate go run golang.org/x/tools/cmd/stringer@v0.38.0 -type=Status -trimprefix=Status -output=status_string.go

// Status says what Pop put into a frame.
type Status int

const (
	// StatusUnknown is the zero value; Pop returns it only for a
	// destination shorter than one frame, which it zeroes.
	StatusUnknown Status = iota
	// StatusAudio: received audio. The first few milliseconds may be
	// cross-faded from concealment, and a frame that merged two (to
	// shorten the delay) or had a gap filled still counts as audio.
	StatusAudio
	// StatusConcealed: no audio was due or it was lost, and the frame
	// continues the last audio, fading out (loss concealment), or
	// stretches it to lengthen the delay.
	StatusConcealed
	// StatusSilence: zeroes. Nothing was received yet, the buffer is
	// filling up to its delay, or concealment has faded out.
	StatusSilence
)
