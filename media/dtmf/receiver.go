package dtmf

import "time"

// EventTimeout is how long a Receiver waits for another packet of an event
// whose end packets (E bit) have not arrived before Tick reports it anyway.
// Senders update an event every packetization interval, typically 20-50 ms
// (RFC 4733 §2.5.1.2), so 200 ms without a packet means that several updates
// and all three end packets were lost, or that the sender stopped without
// ending the event.
const EventTimeout = 200 * time.Millisecond

// recentEvents is how many reported event timestamps a Receiver remembers, so
// that late duplicates of an event are recognised even after 15 more
// keypresses. 16 covers any realistic reordering or replay
// for the price of 64 bytes and a short scan per packet.
const recentEvents = 16

// segmentMin is the least timestamp difference, in RTP clock units, at which a
// new event with the same code continues an unfinished one: RFC 4733
// §2.5.1.3 splits an event longer than the 16-bit duration field (0xFFFF
// units: 8.2 s at 8 kHz, 1.4 s at 48 kHz) into segments that start where the
// previous one ran out, and a new press of the same key cannot start that
// precisely at the saturation point of an unfinished one.
const segmentMin = 0xFF00

// Receiver turns the RFC 4733 telephone-event packets of one RTP stream into
// digits, each reported exactly once per keypress.
//
// An event is identified by its RTP timestamp: every packet of an event,
// including its retransmitted end packets, carries the event's start
// timestamp (RFC 4733 §2.5.1). An event is reported when its first end
// packet (E bit, §2.5.1.4) arrives. If its end packets were all lost, it is
// reported when a packet of another event arrives, or by Tick once no packet
// of it has arrived for EventTimeout. Events whose first packets were lost
// count all the same. The timestamps of the last 16 reported events are
// remembered, and any later packet of theirs (the other end packets, late
// duplicates, reordered updates) is ignored. The segments of a long event
// (§2.5.1.3) are one keypress. Event codes above 15 (not DTMF) and payloads
// shorter than 4 bytes are ignored.
//
// The zero Receiver is ready to use. It is not safe for concurrent use; it
// never allocates. Call Reset when the stream changes (a new SSRC), because
// timestamps of one stream mean nothing in another.
type Receiver struct {
	// The pending event: seen, not yet reported.
	pending bool
	ended   bool   // its end packet arrived, but reporting it had to wait
	ts      uint32 // its timestamp
	code    uint8
	last    time.Time // arrival of its latest packet

	// Timestamps of reported events (and of the finished segments of a long
	// one), a ring of which the first n entries are valid.
	recent [recentEvents]uint32
	n      int
	next   int
}

// Packet processes the payload of one telephone-event packet with RTP
// timestamp timestamp, arrived at now, and returns a digit if a keypress was
// decided: this packet's event, or a pending one that this packet shows to be
// over. When both are decided at once (an event whose end packets were lost,
// followed by a packet that is already another event's end), the second is
// returned by the next call to Packet or Tick.
func (r *Receiver) Packet(timestamp uint32, payload []byte, now time.Time) (Digit, bool) {
	// ParseEvent's error would allocate; the checks are the same.
	if len(payload) < EventSize || payload[0] >= uint8(len(eventDigits)) || r.reported(timestamp) {
		return r.owed()
	}
	code, end := payload[0], payload[1]&0x80 != 0
	if r.pending && timestamp == r.ts {
		r.last = now
		if end {
			r.ended = true
		}
		return r.owed()
	}
	if r.pending && !r.ended && code == r.code {
		if d := timestamp - r.ts; d >= segmentMin && d <= 0xFFFF {
			// The next segment of a long event (RFC 4733 §2.5.1.3).
			r.remember(r.ts)
			r.ts, r.last = timestamp, now
			r.ended = end
			return r.owed()
		}
	}
	// A new event: the pending one is over, whether or not its end packets
	// arrived.
	var d Digit
	ok := false
	if r.pending {
		d, ok = r.report()
	}
	r.pending, r.ended = true, end
	r.ts, r.code, r.last = timestamp, code, now
	if !ok {
		return r.owed()
	}
	return d, true
}

// Tick reports the pending event if its end was seen but not yet reported, or
// if no packet of it has arrived for EventTimeout before now: call it
// periodically (every packet of the stream, or every 20-50 ms), so that an
// event whose end packets were all lost is not held back until the next one.
func (r *Receiver) Tick(now time.Time) (Digit, bool) {
	if r.pending && (r.ended || now.Sub(r.last) >= EventTimeout) {
		return r.report()
	}
	return 0, false
}

// Flush reports the pending event, if any, whether or not it has ended: use it
// when the stream stops.
func (r *Receiver) Flush() (Digit, bool) {
	if r.pending {
		return r.report()
	}
	return 0, false
}

// Reset forgets the pending event, unreported, and the reported ones.
func (r *Receiver) Reset() {
	*r = Receiver{}
}

// owed reports the pending event if it has ended.
func (r *Receiver) owed() (Digit, bool) {
	if r.pending && r.ended {
		return r.report()
	}
	return 0, false
}

// report returns the pending event's digit and remembers its timestamp.
func (r *Receiver) report() (Digit, bool) {
	r.pending, r.ended = false, false
	r.remember(r.ts)
	return FromEventCode(r.code)
}

// reported reports whether ts is among the remembered timestamps.
func (r *Receiver) reported(ts uint32) bool {
	for _, t := range r.recent[:r.n] {
		if t == ts {
			return true
		}
	}
	return false
}

// remember adds ts to the ring of reported timestamps.
func (r *Receiver) remember(ts uint32) {
	r.recent[r.next] = ts
	r.next = (r.next + 1) % recentEvents
	r.n = min(r.n+1, recentEvents)
}
