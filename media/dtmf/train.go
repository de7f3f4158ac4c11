package dtmf

import (
	"slices"
	"time"
)

// TrainInterval is the time between the packets of a Train: the usual
// audio packetization interval, at which RFC 4733 §2.5.1.2 recommends sending
// event updates.
const TrainInterval = 20 * time.Millisecond

// trainEnds is how many end packets a Train has: the final packet is sent
// three times (RFC 4733 §2.5.1.4).
const trainEnds = 3

// Packet is one RTP packet of an RFC 4733 telephone-event train. All packets
// of a train carry the event's start timestamp (RFC 4733 §2.5.1.3) and
// consecutive sequence numbers; the sender supplies both.
type Packet struct {
	// Payload is the telephone-event payload (RFC 4733 §2.3).
	Payload [EventSize]byte
	// Marker is the RTP marker bit, set on the first packet of the event
	// (RFC 4733 §2.5.1.1).
	Marker bool
	// End says the packet is one of the end packets (E bit, §2.5.1.4).
	End bool
	// Offset is when to send the packet, counted from the first one.
	Offset time.Duration
}

// Train appends to dst the packets that send digit d as an RFC 4733 event
// lasting dur and returns the extended slice (it does not allocate if dst
// has room for them). Durations are in units of clockRate, the RTP clock rate
// of the telephone-event payload type (8000 when clockRate ≤ 0); volume is the
// tone level in -dBm0 (RFC 4733 §2.3.4), at most 63. If d is not Valid, Train
// returns dst unchanged.
//
// dur is rounded up to a whole number n of TrainIntervals (at least one) and
// capped at the duration field's limit (0xFFFF units, 8.19 s at 8 kHz): long
// events are not split into segments. The packets are one every
// TrainInterval: n-1 updates, the first with the marker bit and each with the
// duration reached at its send time (one interval, two, ...), then three end
// packets (§2.5.1.4) with the full duration, the first of them at offset
// (n-1)·TrainInterval. An event of one interval is just the three end
// packets, the first with the marker bit.
func Train(d Digit, dur time.Duration, volume uint8, clockRate int, dst []Packet) []Packet {
	code, ok := EventCode(d)
	if !ok {
		return dst
	}
	if clockRate <= 0 {
		clockRate = 8000
	}
	step := max(int(int64(clockRate)*int64(TrainInterval)/int64(time.Second)), 1)
	step = min(step, 0xFFFF)
	n := max(int((dur+TrainInterval-1)/TrainInterval), 1)
	n = min(n, 0xFFFF/step)
	e := Event{Code: code, Volume: min(volume, 63)}
	dst = slices.Grow(dst, n-1+trainEnds)
	for i := range n - 1 {
		e.Duration = uint16((i + 1) * step)
		dst = append(dst, trainPacket(e, i == 0, time.Duration(i)*TrainInterval))
	}
	e.End, e.Duration = true, uint16(n*step)
	for i := range trainEnds {
		dst = append(dst, trainPacket(e, n == 1 && i == 0, time.Duration(n-1+i)*TrainInterval))
	}
	return dst
}

func trainPacket(e Event, marker bool, offset time.Duration) Packet {
	p := Packet{Marker: marker, End: e.End, Offset: offset}
	e.AppendTo(p.Payload[:0])
	return p
}
