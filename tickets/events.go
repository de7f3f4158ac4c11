package tickets

import "time"

// EventKind names a call event the service applies.
type EventKind string

// Call event kinds. cmd/ringdesk translates the calls package's events into
// these; tickets never imports calls.
const (
	// CallStarted opens the call record: Direction, From, To, CallerName,
	// and for an outbound call the Agent who placed it.
	CallStarted EventKind = "call_started"
	// CallRouted: the dialplan took the call: Number, Department.
	CallRouted EventKind = "call_routed"
	// MenuSelected: the caller chose an option: MenuPath (the whole path so
	// far) and Department when the option names one.
	MenuSelected EventKind = "menu_selected"
	// QueueJoined: the caller waits in Queue.
	QueueJoined EventKind = "queue_joined"
	// QueueLeft: the caller left Queue after Wait, for Reason.
	QueueLeft EventKind = "queue_left"
	// LegRinging: Leg (an agent's phone, a customer) rings.
	LegRinging EventKind = "leg_ringing"
	// LegEnded: Leg ended without answering (declined, timed out,
	// cancelled).
	LegEnded EventKind = "leg_ended"
	// CallAnswered: Leg answered; the call is connected.
	CallAnswered EventKind = "call_answered"
	// LegConnected: Leg joined after the first answer (a conference
	// participant, a transfer target).
	LegConnected EventKind = "leg_connected"
	// LegLeft: Leg left a call that goes on.
	LegLeft EventKind = "leg_left"
	// CallHeld and CallResumed: Leg put on and taken off hold (Hold is how
	// long, on resume).
	CallHeld    EventKind = "call_held"
	CallResumed EventKind = "call_resumed"
	// TransferEnded: a transfer to Agent (or To) ended with Outcome
	// ("completed", "failed", "cancelled").
	TransferEnded EventKind = "transfer_ended"
	// VoicemailLeft: the caller left File in Department's box.
	VoicemailLeft EventKind = "voicemail_left"
	// CallEnded closes the record with End, and attaches File (the
	// recording) when there is one.
	CallEnded EventKind = "call_ended"
)

// Event is one thing that happened to a call. Seq numbers a call's events
// from 1 in the order they happened; the service applies each once, in one
// transaction, and ignores one it has seen (a replay) or one that comes
// after the call ended.
type Event struct {
	Call string    `json:"call"`
	Seq  int       `json:"seq"`
	At   time.Time `json:"at"`
	Kind EventKind `json:"kind"`

	Direction  Direction `json:"direction,omitempty"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	CallerName string    `json:"caller_name,omitempty"`
	// Agent is the agent id the event concerns: who placed an outbound
	// call, who took a transfer.
	Agent string `json:"agent,omitempty"`

	Number     string        `json:"number,omitempty"`
	Department string        `json:"department,omitempty"`
	MenuPath   string        `json:"menu_path,omitempty"`
	Queue      string        `json:"queue,omitempty"`
	Wait       time.Duration `json:"wait,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	Outcome    string        `json:"outcome,omitempty"`
	Hold       time.Duration `json:"hold,omitempty"`

	Leg  *LegRecord `json:"leg,omitempty"`
	File *FileInfo  `json:"file,omitempty"`
	End  *CallEnd   `json:"end,omitempty"`
}

// FileInfo is a recording or voicemail file as the call reports it.
type FileInfo struct {
	Path     string        `json:"path"`
	Duration time.Duration `json:"duration"`
	Size     int64         `json:"size"`
}

// CallEnd is how a call ended.
type CallEnd struct {
	Cause    string `json:"cause"`
	Status   int    `json:"status"`
	HungUpBy string `json:"hung_up_by"`
	// Answered: an agent (or the customer, outbound) answered.
	Answered  bool          `json:"answered"`
	Abandoned bool          `json:"abandoned"`
	Ring      time.Duration `json:"ring"`
	Talk      time.Duration `json:"talk"`
	Hold      time.Duration `json:"hold"`
	// Wait is the time from entering the queue (or from the first agent
	// rung) to the answer or the hang-up.
	Wait       time.Duration `json:"wait"`
	Queue      string        `json:"queue,omitempty"`
	Department string        `json:"department,omitempty"`
	MenuPath   string        `json:"menu_path,omitempty"`
	// Legs are every leg of the call as it ended.
	Legs []LegRecord `json:"legs,omitempty"`
}

// ChangeKind names a change the service reports.
type ChangeKind string

// Change kinds.
const (
	TicketCreated ChangeKind = "ticket.created"
	TicketUpdated ChangeKind = "ticket.updated"
	// CallAttached: a call was put on a ticket's timeline.
	CallAttached ChangeKind = "call.attached"
	// CallMissed: a missed or abandoned call made an unassigned ticket;
	// Notify lists the department's agents to tell (A69).
	CallMissed ChangeKind = "call.missed"
	// ContactCreated: a contact was created (by hand or for a new caller).
	ContactCreated ChangeKind = "contact.created"
)

// Change is something that changed in the helpdesk, after it committed.
type Change struct {
	Kind       ChangeKind `json:"kind"`
	TicketID   int64      `json:"ticket_id,omitempty"`
	ContactID  int64      `json:"contact_id,omitempty"`
	CallID     string     `json:"call_id,omitempty"`
	Department string     `json:"department,omitempty"`
	Assignee   string     `json:"assignee,omitempty"`
	Status     Status     `json:"status,omitempty"`
	Notify     []string   `json:"notify,omitempty"`
	At         time.Time  `json:"at"`
}
