package sdp

import "strings"

// Direction of a media stream from the point of view of the side that wrote
// the SDP (RFC 3264 §5.1, RFC 4566 §6). The zero value is DirectionUnknown.
type Direction int

// Directions, named after their SDP attributes.
const (
	DirectionUnknown Direction = iota // not stated; never the result of parsing
	SendRecv                          // a=sendrecv, the default
	SendOnly                          // a=sendonly
	RecvOnly                          // a=recvonly
	Inactive                          // a=inactive
)

// String returns the SDP attribute name: "sendrecv", "sendonly", "recvonly",
// "inactive", or "unknown" for DirectionUnknown and invalid values.
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	default:
		return "unknown"
	}
}

// Reverse returns the direction an answerer states for a stream offered with
// direction d, before it applies its own wishes (RFC 3264 §6.1): sendonly
// becomes recvonly, recvonly becomes sendonly, the others stay as they are.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	default:
		return d
	}
}

// Sends reports whether the side with direction d sends media (sendrecv or
// sendonly).
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side with direction d receives media
// (sendrecv or recvonly).
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// intersect returns the direction that does only what both a and b allow.
func intersect(a, b Direction) Direction {
	send := a.Sends() && b.Sends()
	recv := a.Receives() && b.Receives()
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	default:
		return Inactive
	}
}

// parseDirection recognises a direction attribute name, ignoring case.
func parseDirection(key string) (Direction, bool) {
	for d := SendRecv; d <= Inactive; d++ {
		if strings.EqualFold(key, d.String()) {
			return d, true
		}
	}
	return DirectionUnknown, false
}
