package calls

import (
	"fmt"
	"strconv"
)

// Cause is why a call (or one leg of it) ended.
type Cause int

// Causes. The zero value means unknown.
const (
	CauseUnknown      Cause = iota
	CauseNormal             // a party hung up after answer
	CauseCancelled          // the caller hung up before answer
	CauseBusy               // the callee was busy (486)
	CauseNoAnswer           // nobody answered within the ring timeout
	CauseUnavailable        // the callee has no reachable phone
	CauseNotFound           // no such extension
	CauseDeclined           // the callee declined (603)
	CauseIncompatible       // no common codec (488)
	CauseMediaTimeout       // no RTP for the media timeout
	CauseSignaling          // a SIP exchange failed (no ACK, BYE refused)
	CauseShutdown           // Ringdesk was stopping
	CauseInternal           // a bug or failed dependency in Ringdesk
	CauseRejected           // the callee refused for another reason
	CauseTransferred        // the leg was released by a transfer
	CauseCongestion         // no trunk channel free for the call
)

// causeInfo is one row of the table that maps a Cause to the SIP status a
// caller gets before answer, and the Reason header (RFC 3326) with its
// Q.850 cause code sent in BYE and final responses.
type causeInfo struct {
	name   string
	status int
	q850   int
	text   string
}

var causes = [...]causeInfo{ //nolint:gochecknoglobals // immutable table
	CauseUnknown:      {"unknown", 500, 31, "Normal, unspecified"},
	CauseNormal:       {"normal", 200, 16, "Normal call clearing"},
	CauseCancelled:    {"cancelled", 487, 16, "Call cancelled by caller"},
	CauseBusy:         {"busy", 486, 17, "User busy"},
	CauseNoAnswer:     {"no_answer", 480, 19, "No answer from user"},
	CauseUnavailable:  {"unavailable", 480, 20, "Subscriber absent"},
	CauseNotFound:     {"not_found", 404, 1, "Unallocated number"},
	CauseDeclined:     {"declined", 603, 21, "Call rejected"},
	CauseIncompatible: {"incompatible", 488, 88, "Incompatible destination"},
	CauseMediaTimeout: {"media_timeout", 408, 102, "Recovery on timer expiry: no RTP"},
	CauseSignaling:    {"signaling", 500, 41, "Temporary failure: signaling"},
	CauseShutdown:     {"shutdown", 503, 41, "Temporary failure: server shutting down"},
	CauseInternal:     {"internal", 500, 41, "Temporary failure: internal error"},
	CauseRejected:     {"rejected", 480, 21, "Call rejected"},
	CauseTransferred:  {"transferred", 200, 16, "Call transferred"},
	CauseCongestion:   {"congestion", 503, 34, "No circuit/channel available"},
}

func (c Cause) info() causeInfo {
	if c < 0 || int(c) >= len(causes) {
		return causes[CauseUnknown]
	}
	return causes[c]
}

// String is the cause's name as logged and stored, e.g. "no_answer".
func (c Cause) String() string { return c.info().name }

// Status is the SIP status a caller gets when the call ends before answer.
func (c Cause) Status() int { return c.info().status }

// Q850 is the ITU-T Q.850 cause value.
func (c Cause) Q850() int { return c.info().q850 }

// Reason is the Reason header value (RFC 3326) for BYE and final responses.
func (c Cause) Reason() string {
	i := c.info()
	return "Q.850;cause=" + strconv.Itoa(i.q850) + ";text=\"" + i.text + "\""
}

// Text is a human description, e.g. for a ticket note.
func (c Cause) Text() string { return c.info().text }

// CauseFromStatus maps a callee's final SIP response to a cause.
func CauseFromStatus(code int) Cause {
	switch {
	case code >= 200 && code < 300:
		return CauseNormal
	case code == 486 || code == 600:
		return CauseBusy
	case code == 603 || code == 607:
		return CauseDeclined
	case code == 404 || code == 604 || code == 484:
		return CauseNotFound
	case code == 488 || code == 606 || code == 415:
		return CauseIncompatible
	case code == 487:
		return CauseCancelled
	case code == 408 || code == 480 || code == 410 || code == 503 || code == 504:
		return CauseUnavailable
	default:
		return CauseRejected
	}
}

// MarshalText implements encoding.TextMarshaler, for logs and JSON.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Cause) UnmarshalText(b []byte) error {
	for i, ci := range causes {
		if ci.name == string(b) {
			*c = Cause(i)
			return nil
		}
	}
	return fmt.Errorf("unknown call cause %q", b)
}
