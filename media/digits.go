package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ringdesk/ringdesk/media/dtmf"
)

// Where a digit was detected.
const (
	DigitRFC4733 = "rfc4733" // telephone-event packets (RFC 4733)
	DigitInband  = "inband"  // dual tones in the audio (Goertzel)
)

// ErrNoTelephoneEvent: the peer did not negotiate telephone-event, so
// digits cannot be sent as RFC 4733 events (send SIP INFO instead).
var ErrNoTelephoneEvent = errors.New("peer did not negotiate telephone-event")

// Digit is one keypress detected on a session.
type Digit struct {
	Digit  dtmf.Digit
	Source string // DigitRFC4733 or DigitInband
	At     time.Time
}

// DigitFunc receives the digits a session detects. It is called from the
// session's reader or its mixer's ticker and must not block.
type DigitFunc func(Digit)

// OnDigit sets where detected digits go; nil drops them.
func (s *Session) OnDigit(f DigitFunc) {
	if f == nil {
		s.onDigit.Store(nil)
		return
	}
	s.onDigit.Store(&f)
}

func (s *Session) digit(d dtmf.Digit, source string) {
	if f := s.onDigit.Load(); f != nil {
		(*f)(Digit{Digit: d, Source: source, At: time.Now()})
	}
}

// SendDigit sends d to the peer as an RFC 4733 event lasting dur (at least
// 40 ms), paced in real time: it blocks for about dur plus 40 ms. Audio to
// the peer pauses meanwhile. Digits are sent one at a time.
func (s *Session) SendDigit(ctx context.Context, d dtmf.Digit, dur time.Duration) error {
	if !dtmf.Valid(d) {
		return fmt.Errorf("send digit %q: %w", byte(d), dtmf.ErrMalformed)
	}
	dur = max(dur, 40*time.Millisecond)
	s.digitMu.Lock()
	defer s.digitMu.Unlock()
	p := s.params.Load()
	if p.DTMFPayloadType == 0 {
		return fmt.Errorf("send digit: %w", ErrNoTelephoneEvent)
	}
	train := dtmf.Train(d, dur, 10, SampleRate, nil)
	s.digitOut.Store(true)
	defer s.digitOut.Store(false)
	start := time.Now()
	var eventTS uint32
	for i, pkt := range train {
		if wait := time.Until(start.Add(pkt.Offset)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if s.closed.Load() {
			return net.ErrClosed
		}
		eventTS = s.sendEvent(p, pkt, i == 0, eventTS)
	}
	return nil
}

// sendEvent sends one telephone-event packet; all packets of an event carry
// its start timestamp (RFC 4733 §2.5.1.3), which it returns.
func (s *Session) sendEvent(p *compiled, pkt dtmf.Packet, first bool, eventTS uint32) uint32 {
	dest, ok := s.destination(p)
	if !ok {
		s.txDropped.Add(1)
		return eventTS
	}
	o := &s.out
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now().UnixNano()
	if first {
		h := o.generatedHeader(&s.digitSrc, p.DTMFPayloadType, 0, now)
		eventTS = h.Timestamp
	} else {
		o.seq++
	}
	h := &o.hdr
	h.Marker = first
	h.PayloadType = p.DTMFPayloadType
	h.SequenceNumber = o.seq
	h.Timestamp = eventTS
	h.SSRC = o.ssrc
	hn, err := h.MarshalTo(o.buf[:maxPacket])
	if err != nil {
		s.txDropped.Add(1)
		return eventTS
	}
	n := copy(o.buf[hn:maxPacket], pkt.Payload[:])
	s.writeLocked(p, hn+n, dest)
	return eventTS
}
