package sip

import "sync"

// Event is something that happened on a dialog, delivered to the dialog's
// EventHandler in the order the server processed it.
type Event interface{ sipEvent() }

// EventHandler receives a dialog's events. It is called from SIP goroutines
// and must not block: hand the event to the call's own goroutine.
type EventHandler func(Event)

// ProgressReceived: the callee sent a provisional response (180, 183), with
// SDP for early media when present. 100 Trying is not reported.
type ProgressReceived struct {
	Code   int
	Reason string
	SDP    []byte
}

// Answered: the callee accepted (2xx). Ringdesk has already sent the ACK.
type Answered struct {
	SDP []byte
	// UserAgent is the callee's User-Agent or Server header.
	UserAgent string
}

// Rejected: the INVITE ended without a dialog: a final response of 300 or
// more, a timeout (Code 408) or a transport failure (Code 503).
type Rejected struct {
	Code   int
	Reason string
	// Err carries the transaction error for timeouts and transport failures.
	Err error
}

// Cancelled: the caller sent CANCEL before the INVITE was answered; the
// server has already answered 487 Request Terminated.
type Cancelled struct{}

// AckReceived: the caller confirmed Ringdesk's 2xx. SDP holds the answer when
// Ringdesk's 2xx carried the offer (late offer, RFC 3264 §5).
type AckReceived struct {
	SDP []byte
}

// AckTimedOut: no ACK came for Ringdesk's 2xx within 64*T1 (RFC 3261
// §13.3.1.4); the dialog should be ended with BYE.
type AckTimedOut struct{}

// ByeReceived: the peer hung up; the server has answered 200 OK.
type ByeReceived struct {
	// Reason is the Reason header (RFC 3326), "" when absent.
	Reason string
}

// OfferReceived: the peer sent a re-INVITE or UPDATE inside the dialog. Respond
// must be called exactly once, with 200 and an answer SDP (or, when SDP is
// empty, an offer), or with an error code such as 488; the server answers 500
// if it is not called within a few seconds.
type OfferReceived struct {
	Method string // "INVITE" or "UPDATE"
	SDP    []byte
	// Respond answers the request. Safe to call from any goroutine.
	Respond func(code int, sdp []byte)
}

// InfoReceived: the peer sent INFO inside the dialog (e.g. DTMF as
// application/dtmf-relay); the server has answered 200 OK.
type InfoReceived struct {
	ContentType string
	Body        []byte
}

func (ProgressReceived) sipEvent() {}
func (Answered) sipEvent()         {}
func (Rejected) sipEvent()         {}
func (Cancelled) sipEvent()        {}
func (AckReceived) sipEvent()      {}
func (AckTimedOut) sipEvent()      {}
func (ByeReceived) sipEvent()      {}
func (OfferReceived) sipEvent()    {}
func (InfoReceived) sipEvent()     {}

// eventSink delivers events to a handler that may be set after the first
// events happen (a CANCEL can race the consumer taking the call): events
// before SetEventHandler are kept and flushed in order.
type eventSink struct {
	mu      sync.Mutex
	h       EventHandler
	pending []Event
}

func (e *eventSink) set(h EventHandler) {
	e.mu.Lock()
	e.h = h
	pending := e.pending
	e.pending = nil
	for _, ev := range pending {
		h(ev)
	}
	e.mu.Unlock()
}

func (e *eventSink) emit(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		if len(e.pending) < 64 {
			e.pending = append(e.pending, ev)
		}
		return
	}
	e.h(ev)
}
