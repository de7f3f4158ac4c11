package tone

import "errors"

// Errors of package tone. They come wrapped with context; compare with
// errors.Is.
var (
	// ErrRegion: the region has no tone plan here (see Regions).
	ErrRegion = errors.New("tone: unknown region")
	// ErrInvalid: a Tone's fields are out of range (see Tone.Validate), or
	// a frequency is not below half the sample rate.
	ErrInvalid = errors.New("tone: invalid tone")
)
