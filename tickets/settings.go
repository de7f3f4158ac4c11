package tickets

import "time"

// Settings are the ticket rules' switches, from ringdesk.yaml's tickets
// section. The zero value is not the default: start from DefaultSettings.
type Settings struct {
	// Country is the ISO 3166 code national phone numbers are read in.
	Country string
	// SameTicket appends a call to the contact's active ticket with the
	// same menu path and channel instead of opening a new one (A153).
	SameTicket bool
	// MissedCalls: a missed or abandoned inbound call creates an unassigned
	// ticket in the department (A69, A148).
	MissedCalls bool
	// VoicemailAssignee is the agent id voicemail tickets are assigned to
	// (A150); "" leaves them unassigned in the department.
	VoicemailAssignee string
	// Language is written into the first internal comment of a call's
	// ticket (A164).
	Language string
	// Outcomes are the choices of a call summary; empty allows any text.
	Outcomes []string
	// OutboundNew and OutboundNone let an agent start a new ticket, or
	// none, for an outbound call (A84, A85).
	OutboundNew  bool
	OutboundNone bool
	// CallbackWindow: an outbound call to a number whose last call lasted
	// under ShortCall and ended at most this long ago is a callback and
	// goes on that call's ticket (A155, A156).
	CallbackWindow time.Duration
	ShortCall      time.Duration
	// Departments maps each department to its agents' ids: whom a missed
	// call notifies, and what agents may see.
	Departments map[string][]string
	// Webhooks receive every change, signed with their secret.
	Webhooks []Webhook
}

// Webhook is a URL told of every change, signed with HMAC-SHA256 of Secret.
type Webhook struct {
	URL    string
	Secret string
}

// DefaultSettings are the rules as the checklist describes them.
func DefaultSettings() Settings {
	return Settings{
		SameTicket:     true,
		MissedCalls:    true,
		Language:       "en",
		OutboundNew:    true,
		OutboundNone:   false,
		CallbackWindow: 10 * time.Minute,
		ShortCall:      10 * time.Second,
	}
}
