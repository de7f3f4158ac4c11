package webhooks

import "errors"

// Errors Verify and Run return. Compare with errors.Is.
var (
	// ErrNoSecret: Verify was given an empty secret. A webhook without a
	// secret is never sent either.
	ErrNoSecret = errors.New("webhooks: no secret")
	// ErrMalformedSignature: the Ringdesk-Signature header is missing, or
	// lacks a "t=" timestamp or a "v1=" signature.
	ErrMalformedSignature = errors.New("webhooks: malformed signature header")
	// ErrSignatureMismatch: no v1 signature in the header is the HMAC of
	// this body and timestamp under the secret (wrong secret, or the body
	// or timestamp was changed).
	ErrSignatureMismatch = errors.New("webhooks: signature does not match")
	// ErrStaleTimestamp: the signature is right but its timestamp is
	// further from now than the tolerance (a replay, or a skewed clock).
	ErrStaleTimestamp = errors.New("webhooks: timestamp outside tolerance")
	// ErrAlreadyRunning: Run was called on a Sender that is running. One
	// Sender (and one Run) per database: the outbox has no leases.
	ErrAlreadyRunning = errors.New("webhooks: sender already running")
)
