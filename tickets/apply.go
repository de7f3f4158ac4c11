package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// callState is a call's row as the rules see it.
type callState struct {
	ID            string
	Direction     Direction
	From, To      string
	CallerName    string
	Agent         string
	ContactID     int64
	ContactPicked bool
	TicketID      int64
	TicketChoice  string
	Number        string
	Department    string
	MenuPath      string
	Queue         string
	WaitMS        int64
	Started       time.Time
	Answered      time.Time
	Ended         time.Time
	Abandoned     bool
	Voicemail     bool
	LastSeq       int
	LastAt        time.Time
}

// customer is the customer's number on the call ("" for internal calls).
func (c *callState) customer() string {
	switch c.Direction {
	case Inbound:
		return c.From
	case Outbound:
		return c.To
	case Internal:
	}
	return ""
}

func (tx *txn) loadCall(id string) (*callState, error) {
	c := &callState{ID: id}
	var dir string
	var contact, ticket, answered, ended sql.NullInt64
	var started, lastAt int64
	err := tx.queryRow(`SELECT direction, from_number, to_number, caller_name, agent, contact_id, contact_picked, ticket_id, ticket_choice,
		number, department, menu_path, queue, wait_ms, started_at, answered_at, ended_at, abandoned, voicemail, last_seq, last_at FROM calls WHERE id = ?`, id).
		Scan(&dir, &c.From, &c.To, &c.CallerName, &c.Agent, &contact, &c.ContactPicked, &ticket, &c.TicketChoice,
			&c.Number, &c.Department, &c.MenuPath, &c.Queue, &c.WaitMS, &started, &answered, &ended, &c.Abandoned, &c.Voicemail, &c.LastSeq, &lastAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil //nolint:nilnil // no such call is not an error here
	}
	if err != nil {
		return nil, fmt.Errorf("tickets: call %s: %w", id, err)
	}
	c.Direction = Direction(dir)
	c.ContactID, c.TicketID = contact.Int64, ticket.Int64
	c.Started, c.Answered, c.Ended, c.LastAt = fromMS(started), fromNullMS(answered), fromNullMS(ended), fromMS(lastAt)
	return c, nil
}

// saveCall writes back the fields the rules change.
func (tx *txn) saveCall(c *callState) error {
	_, err := tx.exec(`UPDATE calls SET agent = ?, contact_id = ?, contact_picked = ?, ticket_id = ?, ticket_choice = ?, number = ?, department = ?,
		menu_path = ?, queue = ?, wait_ms = ?, answered_at = ?, abandoned = ?, voicemail = ?, last_seq = ?, last_at = ? WHERE id = ?`,
		c.Agent, nullID(c.ContactID), c.ContactPicked, nullID(c.TicketID), c.TicketChoice, c.Number, c.Department,
		c.MenuPath, c.Queue, c.WaitMS, nullMS(c.Answered), c.Abandoned, c.Voicemail, c.LastSeq, ms(c.LastAt), c.ID)
	if err != nil {
		return fmt.Errorf("tickets: call %s: %w", c.ID, err)
	}
	return nil
}

// Apply applies one call event, in one transaction: all of it or, on an
// error, none of it. An event whose sequence number the call has already
// passed (a replay), an event after the call ended (a late BYE) and an
// event of a call that never started change nothing.
func (s *Service) Apply(ctx context.Context, e Event) error {
	if err := s.checkEvent(&e); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error { return tx.apply(e) })
}

// ApplyAll applies events in order, each as Apply would: all of an event
// or none of it (a savepoint each), a replayed or late one ignored. They
// share one transaction, which saves the cost of a commit per event when
// events queue up. It returns each event's error (nil when applied or
// ignored), or an error for them all when the transaction fails.
func (s *Service) ApplyAll(ctx context.Context, events []Event) ([]error, error) {
	errs := make([]error, len(events))
	if len(events) == 1 { // the transaction is the savepoint
		err := s.Apply(ctx, events[0])
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		errs[0] = err
		return errs, nil
	}
	err := s.write(ctx, func(tx *txn) error {
		for i := range events {
			e := events[i]
			if errs[i] = s.checkEvent(&e); errs[i] != nil {
				continue
			}
			if _, err := tx.exec(`SAVEPOINT event`); err != nil {
				return fmt.Errorf("tickets: savepoint: %w", err)
			}
			changes := len(tx.changes)
			if errs[i] = tx.apply(e); errs[i] != nil {
				tx.changes = tx.changes[:changes]
				if _, err := tx.exec(`ROLLBACK TO event`); err != nil {
					return fmt.Errorf("tickets: rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.exec(`RELEASE event`); err != nil {
				return fmt.Errorf("tickets: release savepoint: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

func (s *Service) checkEvent(e *Event) error {
	if e.Call == "" || e.Seq < 1 || e.Kind == "" {
		return fmt.Errorf("%w: event needs a call, a sequence number from 1 and a kind", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	return nil
}

// apply applies one event within tx.
func (tx *txn) apply(e Event) error {
	c, err := tx.loadCall(e.Call)
	if err != nil {
		return err
	}
	if c == nil {
		if e.Kind != CallStarted {
			tx.s.log.Debug("tickets: event of an unknown call ignored", "call", e.Call, "kind", e.Kind, "seq", e.Seq)
			return nil
		}
		c, err = tx.ruleStart(e)
		if err != nil {
			return err
		}
	} else if e.Seq <= c.LastSeq || !c.Ended.IsZero() {
		tx.s.log.Debug("tickets: replayed or late event ignored", "call", e.Call, "kind", e.Kind, "seq", e.Seq, "last", c.LastSeq)
		return nil
	}
	if _, err := tx.exec(`INSERT INTO call_events (call_id, seq, kind, at, detail) VALUES (?, ?, ?, ?, ?)`,
		e.Call, e.Seq, string(e.Kind), ms(e.At), describe(e)); err != nil {
		return fmt.Errorf("tickets: call %s event %d: %w", e.Call, e.Seq, err)
	}
	c.LastSeq = e.Seq
	if err := tx.dispatch(c, e); err != nil {
		return err
	}
	c.LastAt = e.At
	return tx.saveCall(c)
}

func (tx *txn) dispatch(c *callState, e Event) error {
	switch e.Kind {
	case CallStarted:
		if c.Direction == Outbound {
			return tx.ruleOutbound(c, e)
		}
	case CallRouted:
		c.Number = e.Number
		if e.Department != "" {
			c.Department = e.Department
		}
	case MenuSelected:
		c.MenuPath = e.MenuPath
		if e.Department != "" {
			c.Department = e.Department
		}
	case QueueJoined:
		c.Queue = e.Queue
		if e.Department != "" {
			c.Department = e.Department
		}
	case QueueLeft:
		c.Queue = e.Queue
		c.WaitMS += e.Wait.Milliseconds()
		if e.Reason == "abandoned" {
			c.Abandoned = true
		}
	case LegRinging, LegEnded, LegLeft:
		return tx.upsertLeg(c.ID, e.Leg)
	case LegConnected:
		return tx.upsertLeg(c.ID, e.Leg)
	case CallAnswered:
		if err := tx.upsertLeg(c.ID, e.Leg); err != nil {
			return err
		}
		c.Answered = e.At
		if c.Direction == Inbound && e.Leg != nil && e.Leg.Agent != "" {
			c.Agent = e.Leg.Agent
			return tx.ruleAnsweredInbound(c, e)
		}
	case CallHeld, CallResumed:
	case TransferEnded:
		return tx.ruleTransfer(c, e)
	case VoicemailLeft:
		return tx.ruleVoicemail(c, e)
	case CallEnded:
		return tx.ruleEnd(c, e)
	}
	return nil
}

func (tx *txn) upsertLeg(callID string, l *LegRecord) error {
	if l == nil || l.ID == "" {
		return nil
	}
	_, err := tx.exec(`INSERT INTO call_legs (call_id, leg_id, direction, agent, extension, number, sip_call_id, started_at, ringing_at, answered_at, ended_at,
			status, cause, rang_out, held_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (call_id, leg_id) DO UPDATE SET
			agent = excluded.agent, extension = excluded.extension, number = excluded.number, sip_call_id = excluded.sip_call_id,
			ringing_at = coalesce(excluded.ringing_at, ringing_at), answered_at = coalesce(excluded.answered_at, answered_at),
			ended_at = coalesce(excluded.ended_at, ended_at), status = max(status, excluded.status),
			cause = CASE excluded.cause WHEN '' THEN cause ELSE excluded.cause END,
			rang_out = max(rang_out, excluded.rang_out), held_ms = max(held_ms, excluded.held_ms)`,
		callID, l.ID, l.Direction, l.Agent, l.Extension, l.Number, l.SIPCallID, ms(l.Started), nullMS(l.Ringing), nullMS(l.Answered), nullMS(l.Ended),
		l.Status, l.Cause, l.RangOut, l.HeldMS)
	if err != nil {
		return fmt.Errorf("tickets: call %s leg %s: %w", callID, l.ID, err)
	}
	return nil
}

// describe is the one line a call's event log shows for e.
func describe(e Event) string {
	who := func(l *LegRecord) string {
		if l == nil {
			return ""
		}
		switch {
		case l.Agent != "" && l.Extension != "":
			return l.Agent + " (" + l.Extension + ")"
		case l.Agent != "":
			return l.Agent
		case l.Extension != "":
			return l.Extension
		}
		return firstNonEmpty(l.Number, l.ID)
	}
	switch e.Kind {
	case CallStarted:
		return fmt.Sprintf("%s call from %s to %s", e.Direction, e.From, e.To)
	case CallRouted:
		return "dialplan number " + e.Number
	case MenuSelected:
		return "menu: " + e.MenuPath
	case QueueJoined:
		return "joined queue " + e.Queue
	case QueueLeft:
		return fmt.Sprintf("left queue %s (%s) after %s", e.Queue, e.Reason, e.Wait.Round(time.Second))
	case LegRinging:
		return who(e.Leg) + " rang"
	case LegEnded:
		switch {
		case e.Leg == nil:
		case e.Leg.RangOut:
			return who(e.Leg) + " did not answer (rang out)"
		case e.Leg.Status == 486 || e.Leg.Status == 603:
			return fmt.Sprintf("%s declined (%d)", who(e.Leg), e.Leg.Status)
		case e.Leg.Status == 487:
			return who(e.Leg) + " stopped ringing (answered elsewhere or cancelled)"
		}
		if e.Leg != nil {
			return fmt.Sprintf("%s did not answer (%d %s)", who(e.Leg), e.Leg.Status, e.Leg.Cause)
		}
	case CallAnswered:
		return "answered by " + who(e.Leg)
	case LegConnected:
		return who(e.Leg) + " joined"
	case LegLeft:
		return who(e.Leg) + " left"
	case CallHeld:
		return "held by " + who(e.Leg)
	case CallResumed:
		return fmt.Sprintf("resumed by %s after %s", who(e.Leg), e.Hold.Round(time.Second))
	case TransferEnded:
		return fmt.Sprintf("transfer to %s: %s", firstNonEmpty(e.Agent, e.To), e.Outcome)
	case VoicemailLeft:
		if e.File != nil {
			return fmt.Sprintf("voicemail of %s", e.File.Duration.Round(time.Second))
		}
	case CallEnded:
		if e.End != nil {
			return fmt.Sprintf("ended: %s by %s", e.End.Cause, e.End.HungUpBy)
		}
	}
	return string(e.Kind)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
