package media

import "errors"

var (
	// ErrNoPorts is returned when every RTP port of the range is taken.
	ErrNoPorts = errors.New("media: no free rtp port")
)
