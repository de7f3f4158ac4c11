package sdp

import "errors"

// Sentinel errors. Compare with errors.Is: the errors returned by this package
// wrap them with context.
var (
	// ErrNoCommonCodec means that the other side offers or accepts no audio
	// codec Ringdesk has (telephone-event alone does not count). Callers answer
	// an INVITE that fails this way with 488 Not Acceptable Here (RFC 3261
	// §13.3.1.3). Errors that match ErrNoAudio match ErrNoCommonCodec too.
	ErrNoCommonCodec = errors.New("sdp: no common audio codec")

	// ErrNoAudio means that the session description has no audio stream
	// Ringdesk can use: no m=audio line, or only ones that are disabled
	// (port 0) or use a profile other than RTP/AVP, RTP/AVPF, RTP/SAVP and
	// RTP/SAVPF, such as WebRTC's UDP/TLS/RTP/SAVPF (DTLS-SRTP); or an answer
	// that uses SRTP where the offer did not. It is always returned together
	// with ErrNoCommonCodec.
	ErrNoAudio = errors.New("sdp: no usable audio stream")

	// ErrNoCrypto means that an RTP/SAVP stream has no a=crypto attribute
	// Ringdesk can use (RFC 4568; see Crypto for what it ignores), or that
	// an answer to Ringdesk's SRTP offer accepts none of the offered ones
	// with a usable key. The error says why each attribute was refused, and
	// never contains a key. It is always returned together with
	// ErrNoCommonCodec: callers answer an offer that fails this way with 488
	// Not Acceptable Here (RFC 4568 §7.1.2).
	ErrNoCrypto = errors.New("sdp: no usable SRTP crypto attribute")

	// ErrSRTPRequired means that the answer to Ringdesk's RTP/SAVP offer
	// uses plain RTP. Ringdesk offered SRTP because the trunk requires it,
	// so it does not fall back to unprotected media. It is always returned
	// together with ErrNoCommonCodec.
	ErrSRTPRequired = errors.New("sdp: answer refuses SRTP")

	// ErrMalformed means that the body is not a session description that
	// can be parsed (RFC 4566 §5), or that its connection address is not an
	// IP address. The parser's own error is wrapped as well.
	ErrMalformed = errors.New("sdp: malformed session description")

	// ErrTooLarge means that the body is longer than MaxBodySize.
	ErrTooLarge = errors.New("sdp: session description too large")

	// ErrTooManyMedia means that the body has more than MaxMediaLines m= lines.
	ErrTooManyMedia = errors.New("sdp: too many media descriptions")
)
