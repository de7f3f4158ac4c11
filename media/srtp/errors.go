package srtp

import "errors"

// Sentinel errors. Compare with errors.Is. None of the errors of this
// package carries key material.
var (
	// ErrAuth means that a received packet failed authentication (its tag
	// does not match, it is too short to carry one, or its MKI is not the
	// expected one) or is a replay (RFC 3711 §3.3). Drop the packet.
	// Receiver.Unprotect returns it unwrapped, so that refusing a flood of
	// forged packets allocates nothing.
	ErrAuth = errors.New("srtp: packet failed authentication")

	// ErrProtect means that a packet could not be protected: it is not an
	// RTP packet, or the stream has used up its key (2^48 packets,
	// RFC 3711 §9.2). Drop the packet.
	ErrProtect = errors.New("srtp: cannot protect packet")

	// ErrSuite means that a crypto suite is unknown or not supported.
	ErrSuite = errors.New("srtp: unsupported crypto suite")

	// ErrKey means that a master key has the wrong length for its suite, or
	// that a master key indicator (MKI) is longer than MaxMKILen bytes.
	ErrKey = errors.New("srtp: bad master key")
)
