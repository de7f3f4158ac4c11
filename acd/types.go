package acd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is an agent's presence as the agent (or an admin) set it
// (checklist A56, A61). The zero value is Offline: an agent nobody has
// logged in takes no calls.
type Status int

// Statuses.
const (
	// Offline: not taking calls.
	Offline Status = iota
	// Online: taking calls ("You're available"); the agent is rung when not
	// on a call, in wrap-up or ringing for another call.
	Online
	// Busy: logged in but, by the agent's choice, not taking calls (for
	// example wrapping up the last one).
	Busy
)

// String returns the status's name: "offline", "online" or "busy".
func (s Status) String() string {
	switch s {
	case Offline:
		return "offline"
	case Online:
		return "online"
	case Busy:
		return "busy"
	default:
		return "Status(" + strconv.Itoa(int(s)) + ")"
	}
}

// valid reports whether s is one of the Status constants.
func (s Status) valid() bool { return s >= Offline && s <= Busy }

// ParseStatus returns the Status named s ("offline", "online" or "busy",
// any case). An unknown name is an error wrapping ErrInvalidStatus.
func ParseStatus(s string) (Status, error) {
	switch normalize(s) {
	case "offline":
		return Offline, nil
	case "online":
		return Online, nil
	case "busy":
		return Busy, nil
	}
	return Offline, fmt.Errorf("%w %q", ErrInvalidStatus, s)
}

// MarshalText implements encoding.TextMarshaler (JSON carries the name).
func (s Status) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("%w %d", ErrInvalidStatus, int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseStatus.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Mode is where an agent takes calls (checklist A55). It does not change
// whether the agent is available; it tells the caller of acd which
// endpoints to ring.
type Mode int

// Modes.
const (
	// Web: calls ring in the agent's browser (the zero value).
	Web Mode = iota
	// Phone: calls ring on the agent's desk or mobile phone, whether or not
	// the browser is open (A60).
	Phone
)

// String returns the mode's name: "web" or "phone".
func (m Mode) String() string {
	switch m {
	case Web:
		return "web"
	case Phone:
		return "phone"
	default:
		return "Mode(" + strconv.Itoa(int(m)) + ")"
	}
}

// valid reports whether m is one of the Mode constants.
func (m Mode) valid() bool { return m == Web || m == Phone }

// ParseMode returns the Mode named s ("web" or "phone", any case). An
// unknown name is an error wrapping ErrInvalidMode.
func ParseMode(s string) (Mode, error) {
	switch normalize(s) {
	case "web":
		return Web, nil
	case "phone":
		return Phone, nil
	}
	return Web, fmt.Errorf("%w %q", ErrInvalidMode, s)
}

// MarshalText implements encoding.TextMarshaler (JSON carries the name).
func (m Mode) MarshalText() ([]byte, error) {
	if !m.valid() {
		return nil, fmt.Errorf("%w %d", ErrInvalidMode, int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseMode.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// ForwardWhen says when an agent's calls go to their forwarding number
// (checklist A48-A51).
type ForwardWhen int

// Forwarding choices.
const (
	// ForwardNever: calls ring the agent's own phones only (the zero value).
	ForwardNever ForwardWhen = iota
	// ForwardAlways: every call for the agent rings the forwarding number
	// instead of the agent's phones. The agent must still be Online to be
	// rung, and is available under the same rules as any agent.
	ForwardAlways
	// ForwardNoAnswer: the agent's phones ring first; when the agent does
	// not answer within the ring interval, the caller of acd rings the
	// forwarding number.
	ForwardNoAnswer
)

// String returns the choice's name: "never", "always" or "no_answer".
func (w ForwardWhen) String() string {
	switch w {
	case ForwardNever:
		return "never"
	case ForwardAlways:
		return "always"
	case ForwardNoAnswer:
		return "no_answer"
	default:
		return "ForwardWhen(" + strconv.Itoa(int(w)) + ")"
	}
}

// valid reports whether w is one of the ForwardWhen constants.
func (w ForwardWhen) valid() bool { return w >= ForwardNever && w <= ForwardNoAnswer }

// ParseForwardWhen returns the ForwardWhen named s ("never", "always" or
// "no_answer"; any case, "no-answer" too). An unknown name is an error
// wrapping ErrInvalidForward.
func ParseForwardWhen(s string) (ForwardWhen, error) {
	switch normalize(s) {
	case "never":
		return ForwardNever, nil
	case "always":
		return ForwardAlways, nil
	case "no_answer":
		return ForwardNoAnswer, nil
	}
	return ForwardNever, fmt.Errorf("%w: when %q", ErrInvalidForward, s)
}

// MarshalText implements encoding.TextMarshaler (JSON carries the name).
func (w ForwardWhen) MarshalText() ([]byte, error) {
	if !w.valid() {
		return nil, fmt.Errorf("%w: when %d", ErrInvalidForward, int(w))
	}
	return []byte(w.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseForwardWhen.
func (w *ForwardWhen) UnmarshalText(b []byte) error {
	v, err := ParseForwardWhen(string(b))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// Forward is an agent's call forwarding to an outside number. With When
// ForwardNever the number is kept (so a UI can pre-fill it) but unused.
type Forward struct {
	// Number is the number to ring, as the dialing rules take it out
	// through a trunk; required unless When is ForwardNever.
	Number string `json:"number,omitempty"`
	// When says when calls go to Number.
	When ForwardWhen `json:"when"`
}

// AgentInfo is an agent as configured.
type AgentInfo struct {
	// ID is the agent's unique ID, as ring groups and queues name it.
	ID string `json:"id"`
	// Name is the agent's display name.
	Name string `json:"name,omitempty"`
	// Extension is the agent's extension: where their phones register.
	Extension string `json:"extension,omitempty"`
}

// AgentState is a snapshot of one agent's presence, as Pool.Agent and
// Pool.Agents return it.
type AgentState struct {
	AgentInfo

	// Status is what the agent set: Offline, Online or Busy.
	Status Status `json:"status"`
	// Mode is where the agent takes calls: Web or Phone.
	Mode Mode `json:"mode"`
	// LoggedIn is when the agent last went from Offline to Online (zero:
	// never). Sequential ringing follows the order of logins.
	LoggedIn time.Time `json:"logged_in"`
	// OnCall is the ID of the call the agent is on ("" when on none; the
	// latest when on several, e.g. during a consultation).
	OnCall string `json:"on_call,omitempty"`
	// Ringing is the ID of the call the agent is reserved (being rung)
	// for, "" when none.
	Ringing string `json:"ringing,omitempty"`
	// WrapUntil is when the wrap-up after the agent's last call ends;
	// the agent is not available before (zero: no wrap-up yet).
	WrapUntil time.Time `json:"wrap_until"`
	// Forward is the agent's call forwarding.
	Forward Forward `json:"forward"`
	// Missed counts the calls that rang the agent out without an answer.
	Missed int `json:"missed"`
	// LastMissed is when the last of them stopped ringing (zero: none).
	LastMissed time.Time `json:"last_missed"`
	// IdleSince is when the agent's last call ended, or when the agent
	// logged in if that was later (zero: never logged in). Longest-idle
	// ringing prefers the earliest.
	IdleSince time.Time `json:"idle_since"`
	// Available says whether the agent could be rung at the snapshot's
	// time: Online, on no call, out of wrap-up and not ringing for a call.
	Available bool `json:"available"`
}

// Strategy is how a hunt rings a group's agents.
type Strategy int

// Strategies.
const (
	// Sequential rings one agent at a time, in the order in which the
	// agents logged in (checklist A24, A27). The zero value.
	Sequential Strategy = iota
	// Simultaneous rings every available agent of the group at once, up
	// to MaxSimultaneous (A25, A28).
	Simultaneous
	// LongestIdle rings one agent at a time, the one whose last call
	// ended longest ago first.
	LongestIdle
)

// String returns the strategy's name: "sequential", "simultaneous" or
// "longest_idle".
func (s Strategy) String() string {
	switch s {
	case Sequential:
		return "sequential"
	case Simultaneous:
		return "simultaneous"
	case LongestIdle:
		return "longest_idle"
	default:
		return "Strategy(" + strconv.Itoa(int(s)) + ")"
	}
}

// HuntState is what Hunt.Next tells its caller to do. The zero value is
// not a state Next returns.
type HuntState int

// Hunt states.
const (
	// Ring: ring the agents returned; they are reserved for the call.
	Ring HuntState = iota + 1
	// Wait: nobody can be rung now (queues only); call Next again after
	// Pool.Changed is closed or at Pool.NextWake.
	Wait
	// Done: the hunt is over (ring groups: every cycle was tried or
	// nobody was available; or Stop was called).
	Done
)

// String returns the state's name: "ring", "wait" or "done".
func (s HuntState) String() string {
	switch s {
	case Ring:
		return "ring"
	case Wait:
		return "wait"
	case Done:
		return "done"
	default:
		return "HuntState(" + strconv.Itoa(int(s)) + ")"
	}
}

// normalize folds a name for the Parse functions: trimmed, lower case,
// '-' as '_'.
func normalize(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
}
