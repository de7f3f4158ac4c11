package media

import "errors"

// ErrNoPorts is returned when every RTP port of the range is taken.
var ErrNoPorts = errors.New("media: no free rtp port")
