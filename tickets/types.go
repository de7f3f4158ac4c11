package tickets

import "time"

// Status is where a ticket is in its life.
type Status string

// Ticket statuses.
const (
	StatusNew     Status = "new"
	StatusOpen    Status = "open"
	StatusPending Status = "pending"
	StatusOnHold  Status = "on-hold"
	StatusSolved  Status = "solved"
	StatusClosed  Status = "closed"
)

// Statuses lists every status, in the order of a ticket's life.
func Statuses() []Status {
	return []Status{StatusNew, StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed}
}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusNew, StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed:
		return true
	}
	return false
}

// Active reports whether a ticket in s still takes calls: New, Open,
// Pending or On-hold (A153, A181).
func (s Status) Active() bool {
	switch s {
	case StatusNew, StatusOpen, StatusPending, StatusOnHold:
		return true
	case StatusSolved, StatusClosed:
	}
	return false
}

// Channel is how the customer reached us.
type Channel string

// Channels.
const (
	ChannelPhone Channel = "phone"
	ChannelSMS   Channel = "sms"
	ChannelWeb   Channel = "web"
	ChannelEmail Channel = "email"
)

// Contact is a customer.
type Contact struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Company string    `json:"company"`
	Address string    `json:"address"`
	Emails  []string  `json:"emails"`
	Phones  []Phone   `json:"phones"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Phone is one of a contact's numbers, in E.164.
type Phone struct {
	Number string `json:"number"`
	// Label says which number it is: mobile, work, home.
	Label string `json:"label,omitempty"`
}

// Ticket is one customer request.
type Ticket struct {
	ID      int64  `json:"id"`
	Subject string `json:"subject"`
	Status  Status `json:"status"`
	// Department is where the ticket belongs; Assignee the agent id who
	// owns it ("" unassigned).
	Department string `json:"department"`
	Assignee   string `json:"assignee"`
	// ContactID is the customer (0: none).
	ContactID int64   `json:"contact_id,omitempty"`
	Channel   Channel `json:"channel"`
	// ByCall: a call created the ticket.
	ByCall bool `json:"created_by_call"`
	// MenuPath is the IVR path of the call that created it.
	MenuPath string `json:"menu_path,omitempty"`
	// MergedInto is the ticket this one was merged into (0: none).
	MergedInto int64     `json:"merged_into,omitempty"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	// Call holds the fields of the ticket's last call (A171-A175); nil when
	// no call touched it.
	Call *CallFields `json:"call,omitempty"`
}

// CallFields are a ticket's call fields, with the values of its last call
// (A173): session type and from number at the start (A174); duration
// (hold included), wait, queue, call ID, hold time and CSAT at the end
// (A175).
type CallFields struct {
	SessionType string `json:"session_type"`
	From        string `json:"from"`
	CallID      string `json:"call_id"`
	DurationMS  int64  `json:"duration_ms"`
	WaitMS      int64  `json:"wait_ms"`
	HoldMS      int64  `json:"hold_ms"`
	Queue       string `json:"queue,omitempty"`
	// CSAT is the caller's rating, nil when there is none.
	CSAT *int `json:"csat,omitempty"`
}

// EntryKind says what a timeline entry is.
type EntryKind string

// Timeline entry kinds.
const (
	EntryComment    EntryKind = "comment"
	EntryCall       EntryKind = "call"
	EntryRecording  EntryKind = "recording"
	EntryVoicemail  EntryKind = "voicemail"
	EntryStatus     EntryKind = "status"
	EntryAssignment EntryKind = "assignment"
	EntrySubject    EntryKind = "subject"
	EntryMerge      EntryKind = "merge"
)

// Entry is one item of a ticket's timeline.
type Entry struct {
	ID       int64     `json:"id"`
	TicketID int64     `json:"ticket_id"`
	Kind     EntryKind `json:"kind"`
	// Public: a comment the customer may see; the others are internal.
	Public bool `json:"public"`
	// Author is the agent id, or "" for Ringdesk itself.
	Author string `json:"author"`
	Body   string `json:"body"`
	// CallID links a call entry (and the call's comments) to its record.
	CallID string `json:"call_id,omitempty"`
	// FileID is the recording or voicemail of the entry.
	FileID int64     `json:"file_id,omitempty"`
	At     time.Time `json:"at"`
}

// TicketView is a ticket with its timeline, oldest first.
type TicketView struct {
	Ticket
	Timeline []Entry `json:"timeline"`
}

// FileKind is a recording or a voicemail.
type FileKind string

// File kinds.
const (
	FileRecording FileKind = "recording"
	FileVoicemail FileKind = "voicemail"
)

// File is a recording or voicemail message: its metadata; the audio is the
// WAV file at Path.
type File struct {
	ID         int64     `json:"id"`
	Kind       FileKind  `json:"kind"`
	CallID     string    `json:"call_id"`
	TicketID   int64     `json:"ticket_id,omitempty"`
	Path       string    `json:"-"`
	DurationMS int64     `json:"duration_ms"`
	Size       int64     `json:"size"`
	Created    time.Time `json:"created"`
	// Deleted: the audio was deleted; the metadata stays.
	Deleted bool `json:"deleted,omitempty"`
}

// Direction of a call as the helpdesk sees it.
type Direction string

// Call directions.
const (
	// Inbound: a customer called a number of ours.
	Inbound Direction = "inbound"
	// Outbound: an agent called a customer.
	Outbound Direction = "outbound"
	// Internal: an agent called an agent or an internal number; no ticket.
	Internal Direction = "internal"
)

// CallRecord is a call's record.
type CallRecord struct {
	ID        string    `json:"id"`
	Direction Direction `json:"direction"`
	// From and To are the numbers: E.164 for customers, the extension for
	// agents.
	From       string `json:"from"`
	To         string `json:"to"`
	CallerName string `json:"caller_name,omitempty"`
	// Agent answered the inbound call, or placed the outbound one.
	Agent     string `json:"agent,omitempty"`
	ContactID int64  `json:"contact_id,omitempty"`
	TicketID  int64  `json:"ticket_id,omitempty"`
	// Number is the dialplan number the caller reached; Department the
	// last one the route reached.
	Number     string    `json:"number,omitempty"`
	Department string    `json:"department,omitempty"`
	MenuPath   string    `json:"menu_path,omitempty"`
	Queue      string    `json:"queue,omitempty"`
	WaitMS     int64     `json:"wait_ms"`
	HoldMS     int64     `json:"hold_ms"`
	RingMS     int64     `json:"ring_ms"`
	TalkMS     int64     `json:"talk_ms"`
	Started    time.Time `json:"started"`
	Answered   time.Time `json:"answered,omitzero"`
	Ended      time.Time `json:"ended,omitzero"`
	// Cause is how it ended ("normal", "no_answer", "restart"...); Status
	// the caller's final SIP status; HungUpBy caller, callee or system.
	Cause     string `json:"cause,omitempty"`
	Status    int    `json:"status,omitempty"`
	HungUpBy  string `json:"hung_up_by,omitempty"`
	Abandoned bool   `json:"abandoned,omitempty"`
	Voicemail bool   `json:"voicemail,omitempty"`
	// Legs and Events are filled by Call (not by Calls).
	Legs   []LegRecord `json:"legs,omitempty"`
	Events []CallLog   `json:"events,omitempty"`
}

// LegRecord is one leg of a call: a phone rung, a party connected.
type LegRecord struct {
	ID        string    `json:"id"`
	Direction string    `json:"direction"`
	Agent     string    `json:"agent,omitempty"`
	Extension string    `json:"extension,omitempty"`
	Number    string    `json:"number,omitempty"`
	SIPCallID string    `json:"sip_call_id,omitempty"`
	Started   time.Time `json:"started"`
	Ringing   time.Time `json:"ringing,omitzero"`
	Answered  time.Time `json:"answered,omitzero"`
	Ended     time.Time `json:"ended,omitzero"`
	// Status is the leg's final SIP status (486 declined, 487 cancelled,
	// 408 timed out); Cause how it ended.
	Status  int    `json:"status,omitempty"`
	Cause   string `json:"cause,omitempty"`
	RangOut bool   `json:"rang_out,omitempty"`
	HeldMS  int64  `json:"held_ms,omitempty"`
}

// CallLog is one event of a call, in order.
type CallLog struct {
	Seq    int       `json:"seq"`
	Kind   EventKind `json:"kind"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

// Summary is what an agent writes after a call: an outcome from the
// configured list, notes, and an optional follow-up task.
type Summary struct {
	CallID  string    `json:"call_id"`
	Agent   string    `json:"agent"`
	Outcome string    `json:"outcome"`
	Notes   string    `json:"notes"`
	Task    *Task     `json:"task,omitempty"`
	Updated time.Time `json:"updated"`
}

// Task is a follow-up an agent owes.
type Task struct {
	ID       int64     `json:"id"`
	Title    string    `json:"title"`
	Agent    string    `json:"agent"`
	CallID   string    `json:"call_id,omitempty"`
	TicketID int64     `json:"ticket_id,omitempty"`
	Due      time.Time `json:"due,omitzero"`
	Done     bool      `json:"done"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}
