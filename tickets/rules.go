package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The call-to-ticket rules. Each is one function, named after what it
// decides, with the checklist items it implements; rules_test.go has a
// table test for each.

// ruleStart opens a call's record and finds or creates the customer's
// contact (ruleContactForNumber).
func (tx *txn) ruleStart(e Event) (*callState, error) {
	c := &callState{ID: e.Call, Direction: e.Direction, From: e.From, To: e.To, CallerName: e.CallerName, Started: e.At}
	switch c.Direction {
	case Inbound, Outbound, Internal:
	default:
		return nil, fmt.Errorf("%w: call %s: direction %q", ErrInvalid, e.Call, e.Direction)
	}
	if c.Direction == Outbound {
		c.Agent = e.Agent
	}
	if _, err := tx.exec(`INSERT INTO calls (id, direction, from_number, to_number, caller_name, agent, started_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, string(c.Direction), c.From, c.To, c.CallerName, c.Agent, ms(e.At), ms(e.At)); err != nil {
		return nil, fmt.Errorf("tickets: call %s: %w", c.ID, err)
	}
	if number := c.customer(); number != "" {
		id, err := tx.ruleContactForNumber(number, c.CallerName)
		if err != nil {
			return nil, err
		}
		c.ContactID = id
	}
	return c, nil
}

// ruleContactForNumber: a call from a number no contact has creates a
// contact (A167); a number one contact has is that contact; a number
// several contacts share is left undecided (0), for the agent to pick or
// for the fallback at the end of the call (A146, A170). A number that is
// not a phone number (anonymous) has no contact.
func (tx *txn) ruleContactForNumber(number, name string) (int64, error) {
	n, err := tx.s.NormalizePhone(number)
	if err != nil {
		return 0, nil //nolint:nilerr // an anonymous or odd caller ID has no contact
	}
	ids, err := queryIDs(tx.ctx, tx.Tx, `SELECT contact_id FROM contact_phones WHERE number = ? LIMIT 2`, n)
	if err != nil {
		return 0, err
	}
	switch len(ids) {
	case 0:
		if strings.Trim(name, "+0123456789 ") == "" {
			name = "" // a display name that is only the number again
		}
		return tx.insertContact(ContactInput{Name: name, Phones: []Phone{{Number: n}}})
	case 1:
		return ids[0], nil
	}
	return 0, nil
}

// ruleMostRecentContact: when the agent picked none of the contacts that
// share the caller's number, the most recently created one is used at the
// end of the call (A146, A170).
func (tx *txn) ruleMostRecentContact(number string) (int64, error) {
	n, err := tx.s.NormalizePhone(number)
	if err != nil {
		return 0, nil //nolint:nilerr // no number, no contact
	}
	ids, err := queryIDs(tx.ctx, tx.Tx, `SELECT c.id FROM contacts c JOIN contact_phones p ON p.contact_id = c.id
		WHERE p.number = ? ORDER BY c.created_at DESC, c.id DESC LIMIT 1`, n)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// ruleActiveTicket finds the contact's ticket that a call of this menu path
// and channel joins: the most recently updated one in New, Open, Pending
// or On-hold, not merged away (A153; off when SameTicket is off).
func (tx *txn) ruleActiveTicket(contactID int64, menuPath string, channel Channel) (int64, error) {
	if contactID == 0 || !tx.s.Settings().SameTicket {
		return 0, nil
	}
	ids, err := queryIDs(tx.ctx, tx.Tx, `SELECT id FROM tickets WHERE contact_id = ? AND menu_path = ? AND channel = ?
		AND status IN ('new', 'open', 'pending', 'on-hold') AND merged_into IS NULL ORDER BY updated_at DESC, id DESC LIMIT 1`,
		contactID, menuPath, string(channel))
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// ruleAnsweredInbound: an answered inbound call joins the contact's active
// ticket with the same menu path and channel (A153), or creates one; either
// way the ticket is assigned to the agent who answered (A66, A71). While
// several contacts share the number and no agent picked one, the ticket
// waits for the pick or the end of the call (A146).
func (tx *txn) ruleAnsweredInbound(c *callState, _ Event) error {
	if c.ContactID == 0 && !c.ContactPicked && c.From != "" {
		if n, err := tx.s.NormalizePhone(c.From); err == nil {
			var count int
			if err := tx.queryRow(`SELECT count(*) FROM contact_phones WHERE number = ?`, n).Scan(&count); err != nil {
				return fmt.Errorf("tickets: call %s: %w", c.ID, err)
			}
			if count > 1 {
				return nil // A146: decided by the agent's pick or at the end
			}
		}
	}
	if c.TicketID != 0 {
		return tx.assignCallTicket(c, c.Agent)
	}
	id, err := tx.ruleActiveTicket(c.ContactID, c.MenuPath, ChannelPhone)
	if err != nil {
		return err
	}
	if id != 0 {
		c.TicketID = id
		return tx.assignCallTicket(c, c.Agent)
	}
	return tx.newCallTicket(c, StatusOpen, c.Department, c.Agent, "Call from "+tx.callerLabel(c))
}

// assignCallTicket puts the call on its ticket's timeline and assigns the
// ticket to agent.
func (tx *txn) assignCallTicket(c *callState, agent string) error {
	t, err := tx.ticket(c.TicketID)
	if err != nil {
		return err
	}
	if agent != "" && t.Assignee != agent {
		if err := tx.assign(t, agent, ""); err != nil {
			return err
		}
	}
	if err := tx.callEntry(c, t.ID); err != nil {
		return err
	}
	tx.change(Change{Kind: CallAttached, TicketID: t.ID, CallID: c.ID, Department: t.Department, Assignee: firstNonEmpty(agent, t.Assignee)})
	tx.ticketUpdated(t.ID)
	return nil
}

// newCallTicket creates the call's ticket, with the internal comment that
// records the call ID, language and menu path (A164).
func (tx *txn) newCallTicket(c *callState, status Status, department, assignee, subject string) error {
	id, err := tx.insertTicket(Ticket{
		Subject: subject, Status: status, Department: department, Assignee: assignee,
		ContactID: c.ContactID, Channel: ChannelPhone, ByCall: true, MenuPath: c.MenuPath,
	})
	if err != nil {
		return err
	}
	c.TicketID = id
	if err := tx.ruleCallComment(c, id); err != nil {
		return err
	}
	if err := tx.callEntry(c, id); err != nil {
		return err
	}
	tx.change(Change{Kind: CallAttached, TicketID: id, CallID: c.ID, Department: department, Assignee: assignee})
	return nil
}

// ruleCallComment: right after a call creates a ticket, an internal
// comment records the call ID, the language and the menu path (A164).
func (tx *txn) ruleCallComment(c *callState, ticketID int64) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Call ID: %s\nLanguage: %s\n", c.ID, firstNonEmpty(tx.s.Settings().Language, "en"))
	fmt.Fprintf(&b, "Menu selection: %s", firstNonEmpty(c.MenuPath, "(none)"))
	if c.Queue != "" {
		fmt.Fprintf(&b, "\nQueue: %s", c.Queue)
	}
	if c.Number != "" {
		fmt.Fprintf(&b, "\nNumber called: %s", c.Number)
	}
	_, err := tx.addEntry(Entry{TicketID: ticketID, Kind: EntryComment, Body: b.String(), CallID: c.ID})
	return err
}

// callEntry puts the call on a ticket's timeline once; ruleEnd fills in its
// details.
func (tx *txn) callEntry(c *callState, ticketID int64) error {
	var one int
	err := tx.queryRow(`SELECT 1 FROM timeline WHERE ticket_id = ? AND call_id = ? AND kind = 'call'`, ticketID, c.ID).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("tickets: ticket %d timeline: %w", ticketID, err)
	}
	_, err = tx.addEntry(Entry{TicketID: ticketID, Kind: EntryCall, Author: c.Agent, Body: callSummaryLine(c, nil), CallID: c.ID})
	return err
}

func (tx *txn) callerLabel(c *callState) string {
	number := c.customer()
	if c.ContactID != 0 {
		var name string
		if err := tx.queryRow(`SELECT name FROM contacts WHERE id = ?`, c.ContactID).Scan(&name); err == nil && name != "" {
			if number == "" {
				return name
			}
			return name + " (" + number + ")"
		}
	}
	return firstNonEmpty(number, c.CallerName, "an unknown number")
}

// callSummaryLine describes a call for its timeline entry; end is nil
// while it goes on.
func callSummaryLine(c *callState, end *CallEnd) string {
	var b strings.Builder
	switch c.Direction {
	case Outbound:
		fmt.Fprintf(&b, "Outbound call to %s by %s", c.To, firstNonEmpty(c.Agent, "an agent"))
	case Inbound, Internal:
		fmt.Fprintf(&b, "Inbound call from %s", firstNonEmpty(c.From, "an unknown number"))
		if c.Number != "" {
			fmt.Fprintf(&b, " to %s", c.Number)
		}
		if c.Agent != "" && !c.Answered.IsZero() {
			fmt.Fprintf(&b, ", answered by %s", c.Agent)
		}
	}
	if c.MenuPath != "" {
		fmt.Fprintf(&b, "; menu %s", c.MenuPath)
	}
	if c.Queue != "" {
		fmt.Fprintf(&b, "; queue %s, waited %s", c.Queue, (time.Duration(c.WaitMS) * time.Millisecond).Round(time.Second))
	}
	if end == nil {
		b.WriteString("; in progress")
		return b.String()
	}
	switch {
	case c.Voicemail:
		b.WriteString("; left a voicemail")
	case end.Abandoned || c.Abandoned:
		b.WriteString("; abandoned by the caller")
	case !end.Answered:
		b.WriteString("; not answered")
	default:
		fmt.Fprintf(&b, "; talked %s", end.Talk.Round(time.Second))
		if end.Hold > 0 {
			fmt.Fprintf(&b, " (on hold %s)", end.Hold.Round(time.Second))
		}
	}
	fmt.Fprintf(&b, "; ended: %s", end.Cause)
	if end.HungUpBy != "" && end.HungUpBy != "none" {
		fmt.Fprintf(&b, " by %s", end.HungUpBy)
	}
	return b.String()
}

// ruleOutbound: an outbound call goes on the ticket of a callback (a
// call with the number that lasted under ShortCall and ended within
// CallbackWindow: A155, A156); else on the contact's latest ticket that a
// call created and that is still New, Open, Pending or On-hold, which
// becomes Open (A154, A181, A83 off); else on a new ticket (A147). The
// ticket is assigned to the calling agent (A71). The agent may move the
// call to another ticket, a new one or none (ChooseTicket, A83-A86).
func (tx *txn) ruleOutbound(c *callState, _ Event) error {
	id, err := tx.ruleCallback(c)
	if err != nil {
		return err
	}
	if id == 0 && c.ContactID != 0 {
		ids, qerr := queryIDs(tx.ctx, tx.Tx, `SELECT id FROM tickets WHERE contact_id = ? AND by_call = 1 AND merged_into IS NULL
			AND status IN ('new', 'open', 'pending', 'on-hold') ORDER BY updated_at DESC, id DESC LIMIT 1`, c.ContactID)
		if qerr != nil {
			return qerr
		}
		if len(ids) > 0 {
			id = ids[0]
		}
	}
	if id == 0 {
		return tx.newCallTicket(c, StatusOpen, tx.agentDepartment(c.Agent), c.Agent, "Call to "+tx.callerLabel(c))
	}
	c.TicketID = id
	c.TicketChoice = "ticket"
	t, err := tx.ticket(id)
	if err != nil {
		return err
	}
	if t.Status != StatusOpen {
		if err := tx.setStatus(t, StatusOpen, ""); err != nil {
			return err
		}
	}
	return tx.assignCallTicket(c, c.Agent)
}

// ruleCallback: the ticket of the last call with this number, when that
// call lasted under ShortCall and ended at most CallbackWindow ago, and
// the ticket is still active: a callback goes on it (A155, A156).
func (tx *txn) ruleCallback(c *callState) (int64, error) {
	st := tx.s.Settings()
	if st.CallbackWindow <= 0 || st.ShortCall <= 0 {
		return 0, nil
	}
	var ticket sql.NullInt64
	var ended sql.NullInt64
	var talk, ring int64
	err := tx.queryRow(`SELECT ticket_id, ended_at, talk_ms, ring_ms FROM calls
		WHERE id != ? AND ended_at IS NOT NULL AND ((direction = 'inbound' AND from_number = ?) OR (direction = 'outbound' AND to_number = ?))
		ORDER BY ended_at DESC LIMIT 1`, c.ID, c.To, c.To).Scan(&ticket, &ended, &talk, &ring)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("tickets: callback: %w", err)
	}
	if !ticket.Valid || talk >= st.ShortCall.Milliseconds() || c.Started.Sub(fromMS(ended.Int64)) > st.CallbackWindow {
		return 0, nil
	}
	id, err := tx.resolveMerged(ticket.Int64)
	if err != nil {
		return 0, err
	}
	t, err := tx.ticket(id)
	if err != nil || !t.Status.Active() {
		return 0, err
	}
	return id, nil
}

// agentDepartment is the first configured department agent belongs to.
func (tx *txn) agentDepartment(agent string) string {
	st := tx.s.Settings()
	best := ""
	for d, agents := range st.Departments {
		for _, a := range agents {
			if a == agent && (best == "" || d < best) {
				best = d
			}
		}
	}
	return best
}

// ruleTransfer: a completed transfer reassigns the call's ticket to the
// agent who takes the call (A104, A159).
func (tx *txn) ruleTransfer(c *callState, e Event) error {
	if e.Outcome != "completed" || e.Agent == "" {
		return nil
	}
	c.Agent = e.Agent
	if c.TicketID == 0 {
		return nil
	}
	id, err := tx.resolveMerged(c.TicketID)
	if err != nil {
		return err
	}
	c.TicketID = id
	t, err := tx.ticket(id)
	if err != nil {
		return err
	}
	if t.Assignee != e.Agent {
		if err := tx.assign(t, e.Agent, ""); err != nil {
			return err
		}
		tx.ticketUpdated(id)
	}
	return nil
}

// ruleVoicemail: a voicemail always creates a new ticket with the
// recording, even when the contact has an open one (A149), in the
// voicemail box's department (A70), assigned to the configured default
// user (A150). Being an active ticket created by a call, a later call of
// the same menu path joins it (A151).
func (tx *txn) ruleVoicemail(c *callState, e Event) error {
	if e.Department != "" {
		c.Department = e.Department
	}
	if e.MenuPath != "" {
		c.MenuPath = e.MenuPath
	}
	c.Voicemail = true
	if c.ContactID == 0 && !c.ContactPicked && c.From != "" {
		id, err := tx.ruleMostRecentContact(c.From)
		if err != nil {
			return err
		}
		c.ContactID = id
	}
	assignee := tx.s.Settings().VoicemailAssignee
	if err := tx.newCallTicket(c, StatusNew, c.Department, assignee, "Voicemail from "+tx.callerLabel(c)); err != nil {
		return err
	}
	if e.File == nil {
		return nil
	}
	fileID, err := tx.insertFile(FileVoicemail, c.ID, c.TicketID, e.File)
	if err != nil {
		return err
	}
	_, err = tx.addEntry(Entry{
		TicketID: c.TicketID, Kind: EntryVoicemail, Body: fmt.Sprintf("Voicemail, %s", e.File.Duration.Round(time.Second)),
		CallID: c.ID, FileID: fileID,
	})
	return err
}

func (tx *txn) insertFile(kind FileKind, callID string, ticketID int64, f *FileInfo) (int64, error) {
	res, err := tx.exec(`INSERT INTO files (kind, call_id, ticket_id, path, duration_ms, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(kind), callID, nullID(ticketID), f.Path, f.Duration.Milliseconds(), f.Size, ms(tx.now))
	if err != nil {
		return 0, fmt.Errorf("tickets: %s of call %s: %w", kind, callID, err)
	}
	return res.LastInsertId()
}

// ruleMissed: an inbound call nobody answered that reached a number of
// the dialplan or rang an agent, and left no voicemail, creates an
// unassigned ticket in the department it reached (A69, A70, A148, A152),
// and the department's agents are notified; switched off with
// MissedCalls. A second missed call joins an unassigned active ticket of
// the same contact and menu path rather than making another.
func (tx *txn) ruleMissed(c *callState, end *CallEnd) error {
	if !tx.s.Settings().MissedCalls || c.Voicemail || end.Answered || c.Direction != Inbound {
		return nil
	}
	if c.Number == "" {
		var rang int
		if err := tx.queryRow(`SELECT count(*) FROM call_legs WHERE call_id = ? AND agent != ''`, c.ID).Scan(&rang); err != nil {
			return fmt.Errorf("tickets: call %s: %w", c.ID, err)
		}
		if rang == 0 {
			return nil // refused before it reached anyone: not a missed call
		}
	}
	what := "Missed call from "
	if end.Abandoned || c.Abandoned {
		what = "Abandoned call from "
	}
	id, err := tx.ruleActiveTicket(c.ContactID, c.MenuPath, ChannelPhone)
	if err != nil {
		return err
	}
	if id != 0 {
		if t, err := tx.ticket(id); err == nil && t.Assignee == "" {
			c.TicketID = id
			if err := tx.callEntry(c, id); err != nil {
				return err
			}
			tx.ticketUpdated(id)
		}
	}
	if c.TicketID == 0 {
		if err := tx.newCallTicket(c, StatusNew, c.Department, "", what+tx.callerLabel(c)); err != nil {
			return err
		}
	}
	tx.change(Change{
		Kind: CallMissed, TicketID: c.TicketID, CallID: c.ID, ContactID: c.ContactID, Department: c.Department,
		Notify: tx.s.Settings().Departments[c.Department],
	})
	return nil
}

// ruleEnd closes the call: its record, the deferred contact choice (A146),
// a missed call's ticket (ruleMissed), then on the ticket it ends on
// (after merges, A158): the call fields of its last call (A171-A175), the
// call's timeline entry, and the recording as a comment (A116, A119,
// A157).
func (tx *txn) ruleEnd(c *callState, e Event) error {
	end := e.End
	if end == nil {
		end = &CallEnd{Cause: "unknown"}
	}
	c.Ended = e.At
	if end.Queue != "" {
		c.Queue = end.Queue
	}
	if end.Department != "" {
		c.Department = end.Department
	}
	if end.MenuPath != "" {
		c.MenuPath = end.MenuPath
	}
	if end.Wait > 0 {
		c.WaitMS = end.Wait.Milliseconds()
	}
	if end.Abandoned {
		c.Abandoned = true
	}
	for i := range end.Legs {
		if err := tx.upsertLeg(c.ID, &end.Legs[i]); err != nil {
			return err
		}
	}
	if _, err := tx.exec(`UPDATE calls SET ended_at = ?, cause = ?, status = ?, hung_up_by = ?, ring_ms = ?, talk_ms = ?, hold_ms = ? WHERE id = ?`,
		ms(e.At), end.Cause, end.Status, end.HungUpBy, end.Ring.Milliseconds(), end.Talk.Milliseconds(), end.Hold.Milliseconds(), c.ID); err != nil {
		return fmt.Errorf("tickets: call %s: %w", c.ID, err)
	}
	if c.Direction == Inbound && c.ContactID == 0 && c.From != "" {
		id, err := tx.ruleMostRecentContact(c.From)
		if err != nil {
			return err
		}
		c.ContactID = id
		if c.ContactID != 0 && end.Answered && c.TicketID == 0 && c.Agent != "" {
			if err := tx.ruleAnsweredInbound(c, e); err != nil {
				return err
			}
		}
	}
	if err := tx.ruleMissed(c, end); err != nil {
		return err
	}
	if c.TicketID == 0 || c.TicketChoice == "none" {
		if e.File != nil {
			_, err := tx.insertFile(FileRecording, c.ID, 0, e.File)
			return err
		}
		return nil
	}
	id, err := tx.resolveMerged(c.TicketID)
	if err != nil {
		return err
	}
	c.TicketID = id
	if err = tx.ruleCallFields(c, end); err != nil {
		return err
	}
	body := callSummaryLine(c, end)
	res, err := tx.exec(`UPDATE timeline SET body = ?, author = ? WHERE ticket_id = ? AND call_id = ? AND kind = 'call'`, body, c.Agent, id, c.ID)
	if err != nil {
		return fmt.Errorf("tickets: ticket %d timeline: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.addEntry(Entry{TicketID: id, Kind: EntryCall, Author: c.Agent, Body: body, CallID: c.ID}); err != nil {
			return err
		}
	}
	if e.File != nil {
		fileID, err := tx.insertFile(FileRecording, c.ID, id, e.File)
		if err != nil {
			return err
		}
		if _, err := tx.addEntry(Entry{
			TicketID: id, Kind: EntryRecording, Author: c.Agent,
			Body: fmt.Sprintf("Call recording, %s", e.File.Duration.Round(time.Second)), CallID: c.ID, FileID: fileID,
		}); err != nil {
			return err
		}
	}
	tx.ticketUpdated(id)
	return nil
}

// ruleCallFields: the ticket's call fields take the values of its last
// call (A171-A175): session type and from number, the duration with hold
// (talk time), the wait from entering the queue to the answer, the last
// queue, the call ID and the hold time.
func (tx *txn) ruleCallFields(c *callState, end *CallEnd) error {
	_, err := tx.exec(`UPDATE tickets SET session_type = 'call', from_number = ?, call_id = ?, call_ms = ?, wait_ms = ?, hold_ms = ?, queue = ?, updated_at = ?
		WHERE id = ?`, c.From, c.ID, end.Talk.Milliseconds(), c.WaitMS, end.Hold.Milliseconds(), c.Queue, ms(tx.now), c.TicketID)
	if err != nil {
		return fmt.Errorf("tickets: ticket %d call fields: %w", c.TicketID, err)
	}
	return nil
}

// TicketChoice is an agent's choice of ticket for a call: an existing
// ticket, a new one, or none.
type TicketChoice struct {
	TicketID int64 `json:"ticket_id,omitempty"`
	New      bool  `json:"new,omitempty"`
	None     bool  `json:"none,omitempty"`
}

// ChooseTicket moves a call in progress to the ticket the agent chose. An
// existing ticket must have been created by a call and be New, Open,
// Pending or On-hold (A154, A181) and becomes Open; a new ticket or none
// need OutboundNew and OutboundNone (A84, A85). A ticket the call itself
// created, that holds nothing else, is removed.
func (s *Service) ChooseTicket(ctx context.Context, agent, callID string, ch TicketChoice) error {
	n := 0
	for _, b := range []bool{ch.TicketID != 0, ch.New, ch.None} {
		if b {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: choose exactly one of ticket_id, new and none", ErrInvalid)
	}
	st := s.Settings()
	if ch.New && !st.OutboundNew {
		return fmt.Errorf("%w: starting a new ticket for a call is switched off", ErrConflict)
	}
	if ch.None && !st.OutboundNone {
		return fmt.Errorf("%w: calls without a ticket are switched off", ErrConflict)
	}
	return s.write(ctx, func(tx *txn) error {
		c, err := tx.activeCall(callID)
		if err != nil {
			return err
		}
		if c.Direction == Internal {
			return fmt.Errorf("%w: internal calls have no ticket", ErrConflict)
		}
		if ch.TicketID != 0 {
			id, err := tx.resolveMerged(ch.TicketID)
			if err != nil {
				return err
			}
			t, err := tx.ticket(id)
			if err != nil {
				return err
			}
			if !t.ByCall || !t.Status.Active() {
				return fmt.Errorf("%w: ticket %d is %s and was %screated by a call: only an active ticket created by a call takes a call", ErrConflict, id, t.Status, map[bool]string{true: "", false: "not "}[t.ByCall])
			}
			if id == c.TicketID {
				return nil
			}
		}
		if err := tx.dropOwnTicket(c); err != nil {
			return err
		}
		switch {
		case ch.None:
			c.TicketChoice = "none"
		case ch.New:
			c.TicketChoice = "new"
			if err := tx.newCallTicket(c, StatusOpen, tx.agentDepartment(firstNonEmpty(c.Agent, agent)), firstNonEmpty(c.Agent, agent), "Call with "+tx.callerLabel(c)); err != nil {
				return err
			}
		default:
			c.TicketChoice = "ticket"
			c.TicketID = ch.TicketID
			t, err := tx.ticket(c.TicketID)
			if err != nil {
				return err
			}
			if t.Status != StatusOpen {
				if err := tx.setStatus(t, StatusOpen, agent); err != nil {
					return err
				}
			}
			if err := tx.assignCallTicket(c, firstNonEmpty(c.Agent, agent)); err != nil {
				return err
			}
		}
		return tx.saveCall(c)
	})
}

// dropOwnTicket detaches a call from its ticket, and deletes the ticket if
// the call created it and it holds nothing but the call's own entries.
func (tx *txn) dropOwnTicket(c *callState) error {
	if c.TicketID == 0 {
		return nil
	}
	id := c.TicketID
	c.TicketID = 0
	var others, otherCalls int
	if err := tx.queryRow(`SELECT count(*) FROM timeline WHERE ticket_id = ? AND call_id != ? AND kind NOT IN ('assignment', 'status')`, id, c.ID).Scan(&others); err != nil {
		return fmt.Errorf("tickets: ticket %d: %w", id, err)
	}
	if err := tx.queryRow(`SELECT count(*) FROM calls WHERE ticket_id = ? AND id != ?`, id, c.ID).Scan(&otherCalls); err != nil {
		return fmt.Errorf("tickets: ticket %d: %w", id, err)
	}
	if others > 0 || otherCalls > 0 {
		_, err := tx.exec(`DELETE FROM timeline WHERE ticket_id = ? AND call_id = ? AND kind = 'call'`, id, c.ID)
		if err != nil {
			return fmt.Errorf("tickets: ticket %d: %w", id, err)
		}
		tx.ticketUpdated(id)
		return nil
	}
	for _, q := range []string{
		`UPDATE calls SET ticket_id = NULL WHERE id = ?`,
	} {
		if _, err := tx.exec(q, c.ID); err != nil {
			return fmt.Errorf("tickets: ticket %d: %w", id, err)
		}
	}
	for _, q := range []string{
		`DELETE FROM timeline WHERE ticket_id = ?`,
		`DELETE FROM ticket_text WHERE ticket_id = ?`,
		`DELETE FROM tickets WHERE id = ?`,
	} {
		if _, err := tx.exec(q, id); err != nil {
			return fmt.Errorf("tickets: remove ticket %d: %w", id, err)
		}
	}
	kept := tx.changes[:0]
	for _, ch := range tx.changes {
		if ch.TicketID != id {
			kept = append(kept, ch)
		}
	}
	tx.changes = kept
	return nil
}

// activeCall loads a call in progress: ErrNotFound for no such call,
// ErrConflict for one that has ended.
func (tx *txn) activeCall(id string) (*callState, error) {
	c, err := tx.loadCall(id)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("call %s: %w", id, ErrNotFound)
	}
	if !c.Ended.IsZero() {
		return nil, fmt.Errorf("%w: call %s has ended", ErrConflict, id)
	}
	return c, nil
}

// PickContact sets the contact of a call in progress, when several share
// the caller's number (A146). An answered inbound call then gets its
// ticket.
func (s *Service) PickContact(ctx context.Context, callID string, contactID int64) error {
	return s.write(ctx, func(tx *txn) error {
		c, err := tx.activeCall(callID)
		if err != nil {
			return err
		}
		if err := tx.contactExists(contactID); err != nil {
			return err
		}
		c.ContactID, c.ContactPicked = contactID, true
		if c.TicketID != 0 {
			if _, err := tx.exec(`UPDATE tickets SET contact_id = ? WHERE id = ? AND by_call = 1
				AND NOT EXISTS (SELECT 1 FROM calls WHERE ticket_id = tickets.id AND id != ?)`, contactID, c.TicketID, c.ID); err != nil {
				return fmt.Errorf("tickets: ticket %d: %w", c.TicketID, err)
			}
			tx.ticketUpdated(c.TicketID)
		} else if c.Direction == Inbound && !c.Answered.IsZero() && c.Agent != "" {
			if err := tx.ruleAnsweredInbound(c, Event{}); err != nil {
				return err
			}
		}
		return tx.saveCall(c)
	})
}

// Heartbeat records that the process is alive at t; CloseInterrupted ends
// interrupted calls at the last heartbeat. Call it every few seconds.
func (s *Service) Heartbeat(ctx context.Context, t time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, ms(t)); err != nil {
		return fmt.Errorf("tickets: heartbeat: %w", err)
	}
	return nil
}

// CloseInterrupted ends every call the database still has in progress,
// which after a start means calls that were going on when Ringdesk
// stopped without ending them (killed, crashed, power lost): each gets a
// CallEnded with cause "restart" at the last heartbeat before the stop (at
// its last event, if that is later), through the same rules as any end, so
// its ticket is whole. It returns how many calls it closed.
func (s *Service) CloseInterrupted(ctx context.Context) (int, error) {
	var beat int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(at), 0) FROM heartbeat`).Scan(&beat); err != nil {
		return 0, fmt.Errorf("tickets: interrupted calls: %w", err)
	}
	calls, err := s.openCalls(ctx)
	if err != nil {
		return 0, err
	}
	for _, o := range calls {
		o.last = max(o.last, beat)
		at := fromMS(o.last)
		end := &CallEnd{Cause: "restart", HungUpBy: "system", Answered: o.answered.Valid}
		if o.answered.Valid {
			end.Ring = time.Duration(o.answered.Int64-o.started) * time.Millisecond
			end.Talk = time.Duration(o.last-o.answered.Int64) * time.Millisecond
		} else {
			end.Ring = time.Duration(o.last-o.started) * time.Millisecond
		}
		if err := s.Apply(ctx, Event{Call: o.id, Seq: o.seq + 1, At: at, Kind: CallEnded, End: end}); err != nil {
			return 0, fmt.Errorf("tickets: close interrupted call %s: %w", o.id, err)
		}
	}
	return len(calls), nil
}

// openCall is a call the database still has in progress.
type openCall struct {
	id            string
	seq           int
	last, started int64
	answered      sql.NullInt64
}

func (s *Service) openCalls(ctx context.Context) ([]openCall, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, last_seq, last_at, started_at, answered_at FROM calls WHERE ended_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("tickets: interrupted calls: %w", err)
	}
	defer rows.Close()
	var calls []openCall
	for rows.Next() {
		var o openCall
		if err := rows.Scan(&o.id, &o.seq, &o.last, &o.started, &o.answered); err != nil {
			return nil, fmt.Errorf("tickets: interrupted calls: %w", err)
		}
		calls = append(calls, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tickets: interrupted calls: %w", err)
	}
	return calls, nil
}
