package dtmf

import "fmt"

// EventSize is the size of an RFC 4733 telephone-event payload (§2.3).
const EventSize = 4

// Event is one RFC 4733 telephone-event payload (§2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Event struct {
	// Code is the event code; 0-15 are the DTMF digits (§3.2, see
	// FromEventCode).
	Code uint8
	// End is the E bit: the event has ended (§2.3.3).
	End bool
	// Volume is the power level of the tone, 0-63, in -dBm0: 10 means
	// -10 dBm0 (§2.3.4). AppendTo writes only its low six bits.
	Volume uint8
	// Duration is how long the event has lasted so far, in units of the RTP
	// clock of the payload type, counted from the event's timestamp (§2.3.5).
	Duration uint16
}

// ParseEvent parses an RFC 4733 telephone-event payload. The payload must be
// at least EventSize bytes long; only its first event is read. The reserved
// bit is ignored. It never panics.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) < EventSize {
		return Event{}, fmt.Errorf("%w: telephone-event payload of %d bytes, want %d", ErrMalformed, len(payload), EventSize)
	}
	return Event{
		Code:     payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: uint16(payload[2])<<8 | uint16(payload[3]),
	}, nil
}

// AppendTo appends the EventSize bytes of e's payload to b and returns the
// extended slice. It does not allocate if b has room.
func (e Event) AppendTo(b []byte) []byte {
	flags := e.Volume & 0x3f
	if e.End {
		flags |= 0x80
	}
	return append(b, e.Code, flags, byte(e.Duration>>8), byte(e.Duration))
}
