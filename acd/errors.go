package acd

import "errors"

var (
	// ErrUnknownAgent is returned for an agent ID the pool does not know
	// (not in the last SetAgents list).
	ErrUnknownAgent = errors.New("acd: unknown agent")
	// ErrInvalidStatus is returned for a Status other than Offline, Online
	// and Busy, or a name ParseStatus does not know.
	ErrInvalidStatus = errors.New("acd: invalid status")
	// ErrInvalidMode is returned for a Mode other than Web and Phone, or a
	// name ParseMode does not know.
	ErrInvalidMode = errors.New("acd: invalid mode")
	// ErrInvalidForward is returned for an unknown ForwardWhen, or for
	// forwarding (Always or NoAnswer) without a number.
	ErrInvalidForward = errors.New("acd: invalid forwarding")
)
