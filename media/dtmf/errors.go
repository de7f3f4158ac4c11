package dtmf

import "errors"

// Sentinel errors. Compare with errors.Is: the errors returned by this package
// wrap them with context.
var (
	// ErrNotDTMF means that a SIP INFO body's content type is neither
	// application/dtmf-relay nor application/dtmf: the INFO carries something
	// else, and the caller should handle or refuse it (for example with 415
	// Unsupported Media Type, RFC 6086 §4.2.2).
	ErrNotDTMF = errors.New("dtmf: not a dtmf content type")

	// ErrMalformed means that a SIP INFO body or an RFC 4733 telephone-event
	// payload does not parse, or names no DTMF digit.
	ErrMalformed = errors.New("dtmf: malformed")
)
