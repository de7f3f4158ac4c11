package dialer

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Outcome is how a call ended. The zero value means unknown.
type Outcome int

// Outcomes.
const (
	OutcomeUnknown      Outcome = iota
	OutcomeHungUp               // answered; we hung up after Script.Duration
	OutcomeRemoteHungUp         // answered; the far end hung up
	OutcomeInterrupted          // our context ended: BYE, or CANCEL while ringing
	OutcomeRejected             // a final response of 300 or more
	OutcomeNoAnswer             // Script.Timeout passed while ringing: CANCEL
	OutcomeNoResponse           // no final response (RFC 3261 Timer B, transport error), or no response at all within Script.Timeout
	OutcomeFailed               // answered, but the media could not be agreed: BYE at once
)

var outcomeNames = [...]string{ //nolint:gochecknoglobals // constant table
	OutcomeUnknown:      "unknown",
	OutcomeHungUp:       "hung_up",
	OutcomeRemoteHungUp: "remote_hung_up",
	OutcomeInterrupted:  "interrupted",
	OutcomeRejected:     "rejected",
	OutcomeNoAnswer:     "no_answer",
	OutcomeNoResponse:   "no_response",
	OutcomeFailed:       "failed",
}

// String returns the outcome's name, "hung_up".
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Outcome) UnmarshalText(b []byte) error {
	i, err := lookup(outcomeNames[:], string(b), "outcome")
	*o = Outcome(i)
	return err
}

// EventKind says what an Event reports. The zero value means unknown.
type EventKind int

// Event kinds, in the order they happen.
const (
	EventUnknown    EventKind = iota
	EventDialing              // the INVITE goes out: Target, Server, Transport
	EventChallenged           // a 401/407 is answered with credentials: Status, Reason, User, Method (the digest algorithm)
	EventRinging              // the first 180 or 183: Status, Reason
	EventEarlyMedia           // a provisional response with SDP (RFC 3960): Status, Reason, Codec
	EventAnswered             // the 2xx: Status, Reason, From (its Server or User-Agent), Codec
	EventDigitSent            // a digit went out: Digit, Method, Error; At counts from the answer
	EventDigitHeard           // the far end sent a digit: Digit, Method; At counts from the answer
	EventHungUp               // an answered call ended: Outcome, Error; At counts from the answer
	EventFailed               // the call ended unanswered: Outcome, Status, Reason, Error
	EventHeard                // what the call heard: Heard, Path
)

var eventNames = [...]string{ //nolint:gochecknoglobals // constant table
	EventUnknown:    "unknown",
	EventDialing:    "dialing",
	EventChallenged: "challenged",
	EventRinging:    "ringing",
	EventEarlyMedia: "early_media",
	EventAnswered:   "answered",
	EventDigitSent:  "digit_sent",
	EventDigitHeard: "digit_heard",
	EventHungUp:     "hung_up",
	EventFailed:     "failed",
	EventHeard:      "heard",
}

// String returns the kind's name, "digit_sent".
func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *EventKind) UnmarshalText(b []byte) error {
	i, err := lookup(eventNames[:], string(b), "event kind")
	*k = EventKind(i)
	return err
}

// lookup finds name in names.
func lookup(names []string, name, what string) (int, error) {
	for i, n := range names {
		if n == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q", what, clip(name))
}

// Event is one thing that happened during a call, as the summary prints
// it. Which fields are set depends on Kind.
type Event struct {
	Kind EventKind `json:"kind"`
	// At is when it happened, since the INVITE was sent; for digits and
	// the hang-up, since the answer.
	At time.Duration `json:"at"`
	// Status and Reason are the SIP response the event is about.
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Target, Server and Transport are what EventDialing dials.
	Target    string `json:"target,omitempty"`
	Server    string `json:"server,omitempty"`
	Transport string `json:"transport,omitempty"`
	// User is the digest user name of EventChallenged.
	User string `json:"user,omitempty"`
	// From names the far end (Server or User-Agent of the answer).
	From string `json:"from,omitempty"`
	// Codec is the audio codec agreed.
	Codec string `json:"codec,omitempty"`
	// Digit and Method are a digit sent or heard and how ("rfc4733",
	// "inband", "info"); for EventChallenged Method is the digest algorithm.
	Digit  string `json:"digit,omitempty"`
	Method string `json:"method,omitempty"`
	// Outcome is how the call ended (EventHungUp, EventFailed).
	Outcome Outcome `json:"outcome,omitempty"`
	// Heard is how long RTP arrived, and Path the recording (EventHeard).
	Heard time.Duration `json:"heard,omitempty"`
	Path  string        `json:"path,omitempty"`
	// Error says what went wrong, "" when nothing did.
	Error string `json:"error,omitempty"`
}

// String is the event as one line of the summary, without a newline:
// "answered after 25ms (200 OK from Ringdesk)".
func (e Event) String() string {
	status := statusText(e.Status, e.Reason)
	switch e.Kind {
	case EventDialing:
		return fmt.Sprintf("dialing %s at %s (%s)", e.Target, e.Server, e.Transport)
	case EventChallenged:
		return fmt.Sprintf("authenticating as %s after %s (%s, %s)", e.User, since(e.At), status, e.Method)
	case EventRinging:
		if e.Status == 180 {
			return "ringing after " + since(e.At)
		}
		return fmt.Sprintf("ringing after %s (%s)", since(e.At), status)
	case EventEarlyMedia:
		return fmt.Sprintf("early media after %s (%s, %s)", since(e.At), status, e.Codec)
	case EventAnswered:
		if e.From != "" {
			status += " from " + e.From
		}
		return fmt.Sprintf("answered after %s (%s)", since(e.At), status)
	case EventDigitSent:
		if e.Error != "" {
			return fmt.Sprintf("could not send digit %s at %s (%s): %s", e.Digit, digitTime(e.At), e.Method, e.Error)
		}
		return fmt.Sprintf("sent digit %s at %s (%s)", e.Digit, digitTime(e.At), e.Method)
	case EventDigitHeard:
		return fmt.Sprintf("heard digit %s at %s (%s)", e.Digit, digitTime(e.At), e.Method)
	case EventHungUp:
		why := "we hung up"
		switch e.Outcome {
		case OutcomeRemoteHungUp:
			why = "they hung up"
		case OutcomeInterrupted:
			why = "interrupted"
		case OutcomeFailed:
			why = "unusable answer"
		default:
		}
		if e.Error != "" {
			why += ": " + e.Error
		}
		return fmt.Sprintf("hung up after %s (%s)", seconds(e.At), why)
	case EventFailed:
		return failedLine(e, status)
	case EventHeard:
		s := "heard no audio"
		if e.Heard > 0 {
			s = fmt.Sprintf("heard %s of audio", seconds(e.Heard))
		}
		if e.Path != "" {
			s += ", recorded to " + e.Path
		}
		if e.Error != "" {
			s += " (" + e.Error + ")"
		}
		return s
	default:
		return e.Kind.String()
	}
}

func failedLine(e Event, status string) string {
	var b strings.Builder
	switch e.Outcome {
	case OutcomeNoAnswer:
		fmt.Fprintf(&b, "no answer after %s", seconds(e.At))
	case OutcomeInterrupted:
		fmt.Fprintf(&b, "interrupted after %s", seconds(e.At))
	case OutcomeNoResponse:
		fmt.Fprintf(&b, "no response after %s", seconds(e.At))
	default:
		fmt.Fprintf(&b, "call failed after %s", since(e.At))
	}
	switch {
	case e.Status != 0 && (e.Outcome == OutcomeNoAnswer || e.Outcome == OutcomeInterrupted):
		fmt.Fprintf(&b, ": cancelled (%s)", status)
	case e.Status != 0:
		b.WriteString(": " + status)
	case e.Outcome == OutcomeNoAnswer || e.Outcome == OutcomeInterrupted:
		b.WriteString(": gave up")
	}
	if e.Error != "" {
		b.WriteString(": " + e.Error)
	}
	return b.String()
}

// since formats a time since dialing: milliseconds under a second, "12ms",
// else tenths of seconds, "1.2s".
func since(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return seconds(d)
}

// seconds formats d as "30.0s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// digitTime formats a digit's time since the answer, "3.00s".
func digitTime(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// SentDigit is a digit the call sent.
type SentDigit struct {
	Digit string `json:"digit"`
	// At is when it went out, since the answer.
	At     time.Duration `json:"at"`
	Method Method        `json:"method"`
	// Error is why it could not be sent, "" when it was.
	Error string `json:"error,omitempty"`
}

// HeardDigit is a digit the far end sent.
type HeardDigit struct {
	Digit string `json:"digit"`
	// At is when it was detected, since the answer (negative during early
	// media).
	At time.Duration `json:"at"`
	// Method is "rfc4733", "inband" or "info".
	Method string `json:"method"`
}

// Result is what happened on a call.
type Result struct {
	Target    string `json:"target"`
	Server    string `json:"server"`
	Transport string `json:"transport"`
	// SIPCallID is the Call-ID of the INVITE.
	SIPCallID string `json:"sip_call_id"`
	// Status and Reason are the final response to the INVITE: 200 when
	// answered, 487 when cancelled, 0 when none came.
	Status int    `json:"status"`
	Reason string `json:"reason,omitempty"`
	// From names the far end: the final response's Server or User-Agent.
	From string `json:"from,omitempty"`
	// Outcome is how the call ended.
	Outcome Outcome `json:"outcome"`
	// Ringing is when the first 180/183 came, since the INVITE; 0 if none.
	Ringing time.Duration `json:"ringing,omitempty"`
	// EarlyMedia: a provisional response carried SDP.
	EarlyMedia bool `json:"early_media,omitempty"`
	// Answered: a 2xx came. AnsweredAfter is when, since the INVITE.
	Answered      bool          `json:"answered"`
	AnsweredAfter time.Duration `json:"answered_after,omitempty"`
	// Codec is the audio codec agreed.
	Codec string `json:"codec,omitempty"`
	// Talk is from the answer to the hang-up.
	Talk time.Duration `json:"talk,omitempty"`
	// DigitsSent and DigitsHeard are the digits each way.
	DigitsSent  []SentDigit  `json:"digits_sent,omitempty"`
	DigitsHeard []HeardDigit `json:"digits_heard,omitempty"`
	// Heard is how long RTP arrived, from early media or the answer on.
	Heard time.Duration `json:"heard"`
	// Recording is the WAV of what the call heard, "" when not recorded.
	Recording string `json:"recording,omitempty"`
	// RecordingLength is the recording's length.
	RecordingLength time.Duration `json:"recording_length,omitempty"`
	// Events are what happened, in order: the lines of WriteSummary.
	Events []Event `json:"events"`
}

// WriteSummary writes the result's events, one line each: what the CLI
// prints as the call goes.
func WriteSummary(w io.Writer, r Result) error {
	var b strings.Builder
	for _, e := range r.Events {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
