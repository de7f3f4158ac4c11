package tickets

import "errors"

// Errors callers tell apart (errors.Is).
var (
	// ErrNotFound: no such contact, ticket, call, file or task.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the request breaks a rule of the data (a bad status, an
	// unparsable phone number, an empty subject); the wrapped message says
	// which.
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the request cannot apply to the current state (merging a
	// ticket into itself, attaching a call to a solved ticket).
	ErrConflict = errors.New("conflict")
)
