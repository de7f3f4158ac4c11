package web

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors callers tell apart (errors.Is).
var (
	// ErrUnknownUser is returned by CreateToken for a user id that is not
	// one of the configured users.
	ErrUnknownUser = errors.New("web: unknown user")
	// ErrInvalidConfig is returned by Config.Validate and New for a Config
	// that cannot work; the wrapped message says why.
	ErrInvalidConfig = errors.New("web: invalid config")
)

// apiError is an error with the HTTP status and the message the client
// gets, as {"error": message}.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

// errorf returns an apiError with status and a formatted message.
func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// Common errors.
func errUnauthorized() error {
	return errorf(http.StatusUnauthorized, "authentication required: log in, or send Authorization: Bearer <token>")
}

func errForbidden(format string, args ...any) error {
	return errorf(http.StatusForbidden, format, args...)
}
