package dialer

import "errors"

var (
	// ErrBadDigits: the -digits schedule does not parse.
	ErrBadDigits = errors.New("bad digit schedule")
	// ErrBadScript: a Script field is unusable (see Script.Validate).
	ErrBadScript = errors.New("bad script")
	// ErrNoResponse: the server sent no final response to the INVITE.
	ErrNoResponse = errors.New("no response")
	// ErrAnswerUnusable: the call was answered, but its SDP answer agreed on
	// no audio we can send and receive; the dialer hung up at once.
	ErrAnswerUnusable = errors.New("answer unusable")
	// ErrNoCredentials: the server asked for credentials and none were
	// given, or none of its challenges uses a digest algorithm we know.
	ErrNoCredentials = errors.New("no usable credentials")
	// errNoDialog: an in-dialog request before the 2xx.
	errNoDialog = errors.New("no dialog yet")
	// ErrUsed: Run was called twice on the same Dialer.
	ErrUsed = errors.New("dialer already ran")
)
