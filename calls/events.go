package calls

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.38.0 -type=Direction -trimprefix=Direction -output=direction_string.go
//go:generate go run golang.org/x/tools/cmd/stringer@v0.38.0 -type=LegState -trimprefix=LegState -output=legstate_string.go
//go:generate go run golang.org/x/tools/cmd/stringer@v0.38.0 -type=Role -trimprefix=Role -output=role_string.go

// CallID identifies a call inside Ringdesk (not a SIP Call-ID: a call has one
// SIP Call-ID per leg).
type CallID string

// LegID identifies one leg of a call.
type LegID string

// Direction of a leg as seen from Ringdesk.
type Direction int

// Directions.
const (
	DirectionUnknown Direction = iota
	Inbound                    // the leg called Ringdesk
	Outbound                   // Ringdesk called the leg
)

// LegState is where a leg is in its life.
type LegState int

// Leg states.
const (
	LegStateUnknown  LegState = iota
	LegStateTrying            // INVITE sent or received, no ringing yet
	LegStateRinging           // 180/183 seen
	LegStateAnswered          // in a conversation
	LegStateHeld              // the leg put the call on hold
	LegStateEnded             // over
)

// Role says which party hung up.
type Role int

// Roles.
const (
	RoleNone   Role = iota
	RoleCaller      // the calling party
	RoleCallee      // the called party
	RoleSystem      // Ringdesk (timeout, shutdown, failure)
)

// Party is one person on a call.
type Party struct {
	// Extension is the internal number, "" for an outside party.
	Extension string `json:"extension,omitempty"`
	// Number is an outside party's number, E.164 when it parsed.
	Number string `json:"number,omitempty"`
	// Trunk is the trunk an outside party is reached through.
	Trunk string `json:"trunk,omitempty"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// AgentID is the configured agent the extension belongs to.
	AgentID string `json:"agent_id,omitempty"`
	// URI is the SIP address.
	URI string `json:"uri,omitempty"`
}

// LegRecord is what happened on one leg.
type LegRecord struct {
	ID        LegID     `json:"id"`
	Direction Direction `json:"direction"`
	// SIPCallID is the leg's SIP Call-ID.
	SIPCallID string `json:"sip_call_id"`
	// Party is who the leg reaches.
	Party Party `json:"party"`
	// Contact is the registered contact rung (outbound legs) and Source the
	// address the leg's SIP comes from.
	Contact   string         `json:"contact,omitempty"`
	Source    netip.AddrPort `json:"source"`
	Transport string         `json:"transport"`
	UserAgent string         `json:"user_agent,omitempty"`
	Codec     string         `json:"codec,omitempty"`
	// SRTP is the SRTP suite of an encrypted leg (AES_CM_128_HMAC_SHA1_80),
	// empty for plain RTP.
	SRTP     string    `json:"srtp,omitempty"`
	Started  time.Time `json:"started"`
	Ringing  time.Time `json:"ringing,omitzero"`
	Answered time.Time `json:"answered,omitzero"`
	Ended    time.Time `json:"ended,omitzero"`
	// Status is the leg's final SIP status: 200 when answered, else the
	// callee's rejection (486, 603, 487 when cancelled, 408 on timeout...).
	Status int `json:"status"`
	// Cause says how the leg ended.
	Cause Cause `json:"cause"`
	// HeldFor is how long this leg kept the call on hold.
	HeldFor time.Duration `json:"held_for"`
	// RTP counters of the leg's media session.
	RxPackets uint64 `json:"rx_packets"`
	TxPackets uint64 `json:"tx_packets"`
}

// CallRecord is everything a call record needs, delivered with CallEnded.
type CallRecord struct {
	ID     CallID `json:"id"`
	Caller Party  `json:"caller"`
	// Dialed is the number the caller dialed.
	Dialed string `json:"dialed"`
	// Callee is the party the number belongs to; AnsweredBy the leg that
	// answered (empty when nobody did).
	Callee     Party     `json:"callee"`
	AnsweredBy LegID     `json:"answered_by,omitempty"`
	Started    time.Time `json:"started"`
	Answered   time.Time `json:"answered,omitzero"`
	Ended      time.Time `json:"ended"`
	Cause      Cause     `json:"cause"`
	// Status is the final SIP status the caller saw: 200 if answered.
	Status   int  `json:"status"`
	HungUpBy Role `json:"hung_up_by"`
	// RingDuration is from start to answer (or to the end, unanswered).
	RingDuration time.Duration `json:"ring_duration"`
	// TalkDuration is from answer to end, hold included.
	TalkDuration time.Duration `json:"talk_duration"`
	// HoldDuration is how long the call was on hold, all holds summed.
	HoldDuration time.Duration `json:"hold_duration"`
	Legs         []LegRecord   `json:"legs"`
	// Recording is the call's recording, nil when it was not recorded.
	Recording *Recording `json:"recording,omitempty"`
	// Transfers lists the call's transfers, in order.
	Transfers []TransferRecord `json:"transfers,omitempty"`
	// Route is what the dialplan did with the call; nil when the call did
	// not go through it.
	Route *RouteRecord `json:"route,omitempty"`
}

// Recording is a call's recording file when the call ended.
type Recording struct {
	Path     string        `json:"path"`
	Duration time.Duration `json:"duration"`
	Size     int64         `json:"size"`
	// Deleted: the recording was deleted during the call (no file).
	Deleted bool `json:"deleted,omitempty"`
}

// TransferKind is blind or attended.
type TransferKind string

// Transfer kinds.
const (
	TransferBlind    TransferKind = "blind"
	TransferAttended TransferKind = "attended"
)

// TransferRecord is one transfer of a call.
type TransferRecord struct {
	Kind TransferKind `json:"kind"`
	// By is the transferring leg; Target who the call went to.
	By     LegID  `json:"by"`
	Target string `json:"target"`
	// Outcome: "completed", "failed", "cancelled".
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// Event is something that happened to a call. Implementations are the
// past-tense types below.
type Event interface {
	// Call is the call the event belongs to.
	Call() CallID
	// Time is when it happened.
	Time() time.Time
}

// Observer receives every call's events, in order per call. Observe is called
// from the call's goroutine and must not block for long.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe implements Observer.
func (f ObserverFunc) Observe(e Event) { f(e) }

type base struct {
	CallID CallID    `json:"call_id"`
	At     time.Time `json:"at"`
}

func (b base) Call() CallID    { return b.CallID }
func (b base) Time() time.Time { return b.At }

// CallStarted: a caller's INVITE was accepted for routing.
type CallStarted struct {
	base
	Caller Party  `json:"caller"`
	Dialed string `json:"dialed"`
	// Leg is the caller's leg.
	Leg LegRecord `json:"leg"`
}

// LegRinging: a callee's phone is ringing.
type LegRinging struct {
	base
	Leg LegRecord `json:"leg"`
	// EarlyMedia is true when the callee sent SDP (183).
	EarlyMedia bool `json:"early_media"`
}

// LegEnded: one callee leg ended without answering (declined, busy,
// cancelled because another phone answered, timed out).
type LegEnded struct {
	base
	Leg LegRecord `json:"leg"`
	// RangOut: an agent's phone rang for the whole ring interval and
	// nobody picked up.
	RangOut bool `json:"rang_out,omitempty"`
}

// CallAnswered: a callee answered; the call is connected.
type CallAnswered struct {
	base
	Leg LegRecord `json:"leg"`
}

// CallHeld: a party put the call on hold.
type CallHeld struct {
	base
	// By is the leg that holds.
	By LegID `json:"by"`
}

// CallResumed: the party that held took the call off hold.
type CallResumed struct {
	base
	By LegID `json:"by"`
	// HeldFor is how long this hold lasted.
	HeldFor time.Duration `json:"held_for"`
}

// LegConnected: a party joined the conversation after the first answer: a
// participant added to a conference, a transfer target that answered.
type LegConnected struct {
	base
	Leg LegRecord `json:"leg"`
}

// LegLeft: a connected party left while the call goes on (hung up, was
// removed from a conference, was released by a transfer).
type LegLeft struct {
	base
	Leg LegRecord `json:"leg"`
}

// HostChanged: the party controlling the conference changed, because the
// host left.
type HostChanged struct {
	base
	Host LegID `json:"host"`
}

// PartyHeld: Ringdesk put a party on hold (the agent UI's hold, a
// consultation): it hears hold music and is not heard.
type PartyHeld struct {
	base
	Leg LegID `json:"leg"`
}

// PartyResumed: a party Ringdesk held is back in the conversation.
type PartyResumed struct {
	base
	Leg     LegID         `json:"leg"`
	HeldFor time.Duration `json:"held_for"`
}

// DigitReceived: a party pressed a key; reported once per keypress however
// the phone sent it.
type DigitReceived struct {
	base
	Leg   LegID `json:"leg"`
	Digit byte  `json:"digit"`
	// Source is "rfc4733", "inband" or "info".
	Source string `json:"source"`
}

// TransferStarted: a transfer began: the target is being called.
type TransferStarted struct {
	base
	Transfer TransferRecord `json:"transfer"`
}

// TransferEnded: a transfer completed, failed or was cancelled.
type TransferEnded struct {
	base
	Transfer TransferRecord `json:"transfer"`
	// Recalled: the target did not answer and the transferring agent's
	// phone was rung again to take the customer back.
	Recalled bool `json:"recalled,omitempty"`
}

// TransferRecalled: after a failed transfer the transferring phone hung
// up (as baresip does on the failure NOTIFY), so Ringdesk rang it again to
// take the customer back. It follows the transfer's TransferEnded.
type TransferRecalled struct {
	base
	Transfer TransferRecord `json:"transfer"`
}

// RecordingStarted: the call is being recorded to Path.
type RecordingStarted struct {
	base
	Path string `json:"path"`
}

// RecordingPaused: the recording holds silence until resumed.
type RecordingPaused struct{ base }

// RecordingResumed: the recording holds audio again.
type RecordingResumed struct{ base }

// RecordingDeleted: the recording's file was removed.
type RecordingDeleted struct {
	base
	Path string `json:"path"`
}

// CallEnded: the call is over; Record has its whole story.
type CallEnded struct {
	base
	Record CallRecord `json:"record"`
}

// MarshalText implements encoding.TextMarshaler: the lower-case name.
func (d Direction) MarshalText() ([]byte, error) { return []byte(strings.ToLower(d.String())), nil }

// MarshalText implements encoding.TextMarshaler: the lower-case name.
func (r Role) MarshalText() ([]byte, error) { return []byte(strings.ToLower(r.String())), nil }

// MarshalText implements encoding.TextMarshaler: the lower-case name.
func (s LegState) MarshalText() ([]byte, error) { return []byte(strings.ToLower(s.String())), nil }

// UnmarshalText implements encoding.TextUnmarshaler: the name MarshalText
// writes, in any case.
func (d *Direction) UnmarshalText(b []byte) error {
	return unmarshalEnum(b, "direction", d, DirectionUnknown, Outbound)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Role) UnmarshalText(b []byte) error {
	return unmarshalEnum(b, "role", r, RoleNone, RoleSystem)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *LegState) UnmarshalText(b []byte) error {
	return unmarshalEnum(b, "leg state", s, LegStateUnknown, LegStateEnded)
}

// unmarshalEnum sets *v to the value in first..last whose String is b,
// ignoring case.
func unmarshalEnum[T interface {
	~int
	String() string
}](b []byte, what string, v *T, first, last T) error {
	for x := first; x <= last; x++ {
		if strings.EqualFold(x.String(), string(b)) {
			*v = x
			return nil
		}
	}
	return fmt.Errorf("calls: unknown %s %q", what, b)
}

// Reasons a caller leaves a queue (QueueLeft).
const (
	QueueAnswered  = "answered"  // an agent took the call
	QueueAbandoned = "abandoned" // the caller hung up while waiting or ringing
	QueueTimeout   = "timeout"   // the queue's maximum wait passed
	QueueHungUp    = "hung_up"   // Ringdesk ended the call (shutdown, failure)
)

// CallRouted: the dialplan took the call: Ringdesk answered it for the
// flow of Number (a DID or internal number).
type CallRouted struct {
	base
	Number      string `json:"number"`
	Description string `json:"description,omitempty"`
	Department  string `json:"department,omitempty"`
	// Open: within the number's business hours.
	Open bool `json:"open"`
}

// MenuSelected: the caller chose an option of an IVR menu. Path is the
// caller's whole way through the menus so far, "Support > Billing".
type MenuSelected struct {
	base
	Menu   string `json:"menu"`
	Digit  byte   `json:"digit"`
	Option string `json:"option"`
	Path   string `json:"path"`
	// Department is the call's department after the choice: the option's,
	// else the menu's, else the one before.
	Department string `json:"department,omitempty"`
}

// MenuFailed: the caller pressed nothing, or only invalid keys, through
// every retry of a menu.
type MenuFailed struct {
	base
	Menu string `json:"menu"`
	// NoInput: the last attempt timed out (else it was an invalid key).
	NoInput bool `json:"no_input"`
}

// QueueJoined: the caller waits in a queue.
type QueueJoined struct {
	base
	Queue    string `json:"queue"`
	Position int    `json:"position"`
	// Department is the call's department in the queue.
	Department string `json:"department,omitempty"`
}

// QueueFull: the queue already held its maximum of callers; the caller
// goes to its fallback.
type QueueFull struct {
	base
	Queue string `json:"queue"`
}

// QueueLeft: the caller left a queue: answered, abandoned (hung up), or
// sent on after the maximum wait.
type QueueLeft struct {
	base
	Queue  string        `json:"queue"`
	Reason string        `json:"reason"`
	Waited time.Duration `json:"waited"`
}

// VoicemailLeft: the caller left a voicemail message.
type VoicemailLeft struct {
	base
	Voicemail Voicemail `json:"voicemail"`
	MenuPath  string    `json:"menu_path,omitempty"`
}

// Voicemail is a message left in a voicemail box.
type Voicemail struct {
	Box        string        `json:"box"`
	Department string        `json:"department,omitempty"`
	Path       string        `json:"path"`
	Duration   time.Duration `json:"duration"`
	Size       int64         `json:"size"`
	Started    time.Time     `json:"started"`
}

// RouteRecord is what the dialplan did with a call.
type RouteRecord struct {
	// Number is the dialplan number called (E.164 DID or internal number).
	Number string `json:"number"`
	// Department is the last one the flow reached: the number's, a menu
	// option's, a ring group's or queue's, a voicemail box's.
	Department string `json:"department,omitempty"`
	// Open: the call came within business hours.
	Open bool `json:"open"`
	// MenuPath is the caller's way through the menus, "Support > Billing".
	MenuPath string `json:"menu_path,omitempty"`
	// Queue is the last queue the caller waited in; QueueWait the time
	// spent in queues.
	Queue     string        `json:"queue,omitempty"`
	QueueWait time.Duration `json:"queue_wait,omitempty"`
	// Waited is from the first agent rung to the answer (or to the hang-up).
	Waited time.Duration `json:"waited,omitempty"`
	// Abandoned: the caller hung up while waiting for an agent.
	Abandoned bool       `json:"abandoned,omitempty"`
	Voicemail *Voicemail `json:"voicemail,omitempty"`
}
