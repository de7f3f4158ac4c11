package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const callColumns = `id, direction, from_number, to_number, caller_name, agent, contact_id, ticket_id, number, department, menu_path, queue,
	wait_ms, hold_ms, ring_ms, talk_ms, started_at, answered_at, ended_at, cause, status, hung_up_by, abandoned, voicemail`

func scanCall(r scanner) (CallRecord, error) {
	var c CallRecord
	var dir string
	var contact, ticket, answered, ended sql.NullInt64
	var started int64
	err := r.Scan(&c.ID, &dir, &c.From, &c.To, &c.CallerName, &c.Agent, &contact, &ticket, &c.Number, &c.Department, &c.MenuPath, &c.Queue,
		&c.WaitMS, &c.HoldMS, &c.RingMS, &c.TalkMS, &started, &answered, &ended, &c.Cause, &c.Status, &c.HungUpBy, &c.Abandoned, &c.Voicemail)
	if err != nil {
		return c, err
	}
	c.Direction = Direction(dir)
	c.ContactID, c.TicketID = contact.Int64, ticket.Int64
	c.Started, c.Answered, c.Ended = fromMS(started), fromNullMS(answered), fromNullMS(ended)
	return c, nil
}

// CallFilter selects call records.
type CallFilter struct {
	Agent     string
	ContactID int64
	TicketID  int64
	Direction Direction
	// Since and Until bound the start time.
	Since, Until time.Time
	// Visible restricts the list to what an agent may see: calls they
	// answered, placed or had a leg on, and calls on tickets they may see
	// (Visibility.Allows); nil: all.
	Visible *Visibility
	// Limit (1-500, default 50). Records are listed newest first; the next
	// page starts after the last record of this one: Before its start and
	// BeforeID its ID (calls that started in the same millisecond are
	// ordered by ID).
	Limit    int
	Before   time.Time
	BeforeID string
}

// Calls lists call records, newest first, without legs and events.
func (s *Service) Calls(ctx context.Context, f CallFilter) ([]CallRecord, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Agent != "" {
		add(`(agent = ? OR id IN (SELECT call_id FROM call_legs WHERE agent = ?))`, f.Agent)
		args = append(args, f.Agent)
	}
	if f.ContactID != 0 {
		add(`contact_id = ?`, f.ContactID)
	}
	if f.TicketID != 0 {
		add(`ticket_id = ?`, f.TicketID)
	}
	if f.Direction != "" {
		add(`direction = ?`, string(f.Direction))
	}
	if !f.Since.IsZero() {
		add(`started_at >= ?`, ms(f.Since))
	}
	if !f.Until.IsZero() {
		add(`started_at < ?`, ms(f.Until))
	}
	if !f.Before.IsZero() {
		add(`(started_at < ? OR (started_at = ? AND id > ?))`, ms(f.Before))
		args = append(args, ms(f.Before), f.BeforeID)
	}
	if v := f.Visible; v != nil {
		visible, vargs := v.sql()
		where = append(where, `(agent = ? OR id IN (SELECT call_id FROM call_legs WHERE agent = ?) OR ticket_id IN (SELECT id FROM tickets WHERE `+visible+`))`)
		args = append(append(args, v.Agent, v.Agent), vargs...)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q := `SELECT ` + callColumns + ` FROM calls`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ") //nolint:gosec // constant fragments; every value is bound
	}
	q += ` ORDER BY started_at DESC, id LIMIT ?`
	args = append(args, min(limit, 500))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("tickets: calls: %w", err)
	}
	defer rows.Close()
	out := []CallRecord{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("tickets: calls: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tickets: calls: %w", err)
	}
	return out, nil
}

// Call returns a call record with its legs and events.
func (s *Service) Call(ctx context.Context, id string) (CallRecord, error) {
	c, err := scanCall(s.db.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("call %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("tickets: call %s: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT leg_id, direction, agent, extension, number, sip_call_id, started_at, ringing_at, answered_at, ended_at,
		status, cause, rang_out, held_ms FROM call_legs WHERE call_id = ? ORDER BY started_at, leg_id`, id)
	if err != nil {
		return c, fmt.Errorf("tickets: call %s legs: %w", id, err)
	}
	defer rows.Close()
	c.Legs = []LegRecord{}
	for rows.Next() {
		var l LegRecord
		var started int64
		var ringing, answered, ended sql.NullInt64
		if err = rows.Scan(&l.ID, &l.Direction, &l.Agent, &l.Extension, &l.Number, &l.SIPCallID, &started, &ringing, &answered, &ended,
			&l.Status, &l.Cause, &l.RangOut, &l.HeldMS); err != nil {
			return c, fmt.Errorf("tickets: call %s legs: %w", id, err)
		}
		l.Started, l.Ringing, l.Answered, l.Ended = fromMS(started), fromNullMS(ringing), fromNullMS(answered), fromNullMS(ended)
		c.Legs = append(c.Legs, l)
	}
	if err = rows.Err(); err != nil {
		return c, fmt.Errorf("tickets: call %s legs: %w", id, err)
	}
	ev, err := s.db.QueryContext(ctx, `SELECT seq, kind, at, detail FROM call_events WHERE call_id = ? ORDER BY seq`, id)
	if err != nil {
		return c, fmt.Errorf("tickets: call %s events: %w", id, err)
	}
	defer ev.Close()
	c.Events = []CallLog{}
	for ev.Next() {
		var e CallLog
		var kind string
		var at int64
		if err := ev.Scan(&e.Seq, &kind, &at, &e.Detail); err != nil {
			return c, fmt.Errorf("tickets: call %s events: %w", id, err)
		}
		e.Kind, e.At = EventKind(kind), fromMS(at)
		c.Events = append(c.Events, e)
	}
	return c, ev.Err()
}

// SummaryInput is what an agent writes after a call.
type SummaryInput struct {
	Outcome string `json:"outcome"`
	Notes   string `json:"notes"`
	// Task, when set, is a follow-up: its title and due date.
	Task *TaskInput `json:"task"`
}

// TaskInput creates or changes a task.
type TaskInput struct {
	Title    string    `json:"title"`
	Due      time.Time `json:"due"`
	TicketID int64     `json:"ticket_id"`
	Done     bool      `json:"done"`
}

// SetSummary records agent's summary of a call: outcome (one of the
// configured outcomes when there are any), notes (also put on the call's
// ticket as an internal comment) and an optional follow-up task.
func (s *Service) SetSummary(ctx context.Context, agent, callID string, in SummaryInput) (Summary, error) {
	in.Outcome, in.Notes = strings.TrimSpace(in.Outcome), strings.TrimSpace(in.Notes)
	if outcomes := s.Settings().Outcomes; len(outcomes) > 0 && in.Outcome != "" && !slices.Contains(outcomes, in.Outcome) {
		return Summary{}, fmt.Errorf("%w: outcome %q is not one of %s", ErrInvalid, in.Outcome, strings.Join(outcomes, ", "))
	}
	if err := validText("notes", in.Notes, maxBodyLen); err != nil {
		return Summary{}, err
	}
	if err := validText("outcome", in.Outcome, maxSubjectLen); err != nil {
		return Summary{}, err
	}
	if in.Task != nil {
		if err := checkTask(in.Task); err != nil {
			return Summary{}, err
		}
	}
	sum := Summary{CallID: callID, Agent: agent, Outcome: in.Outcome, Notes: in.Notes}
	err := s.write(ctx, func(tx *txn) error {
		var ticket sql.NullInt64
		err := tx.queryRow(`SELECT ticket_id FROM calls WHERE id = ?`, callID).Scan(&ticket)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("call %s: %w", callID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("tickets: call %s: %w", callID, err)
		}
		if _, err := tx.exec(`INSERT INTO call_summaries (call_id, agent, outcome, notes, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (call_id, agent) DO UPDATE SET outcome = excluded.outcome, notes = excluded.notes, updated_at = excluded.updated_at`,
			callID, agent, in.Outcome, in.Notes, ms(tx.now)); err != nil {
			return fmt.Errorf("tickets: call %s summary: %w", callID, err)
		}
		sum.Updated = tx.now.UTC().Truncate(time.Millisecond)
		if ticket.Valid && (in.Notes != "" || in.Outcome != "") {
			body := "Call summary"
			if in.Outcome != "" {
				body += ": " + in.Outcome
			}
			if in.Notes != "" {
				body += "\n" + in.Notes
			}
			id, err := tx.resolveMerged(ticket.Int64)
			if err != nil {
				return err
			}
			if _, err := tx.addEntry(Entry{TicketID: id, Kind: EntryComment, Author: agent, Body: body, CallID: callID}); err != nil {
				return err
			}
			tx.ticketUpdated(id)
		}
		if in.Task != nil {
			t := *in.Task
			if t.TicketID == 0 && ticket.Valid {
				t.TicketID = ticket.Int64
			}
			task, err := tx.insertTask(agent, callID, t)
			if err != nil {
				return err
			}
			sum.Task = &task
		}
		return nil
	})
	return sum, err
}

func checkTask(t *TaskInput) error {
	t.Title = strings.TrimSpace(t.Title)
	if t.Title == "" {
		return fmt.Errorf("%w: a task needs a title", ErrInvalid)
	}
	return validText("task title", t.Title, maxSubjectLen)
}

func (tx *txn) insertTask(agent, callID string, in TaskInput) (Task, error) {
	if err := tx.ticketExists(in.TicketID); err != nil {
		return Task{}, err
	}
	res, err := tx.exec(`INSERT INTO tasks (title, agent, call_id, ticket_id, due_at, done, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		in.Title, agent, callID, nullID(in.TicketID), nullMS(in.Due), in.Done, ms(tx.now), ms(tx.now))
	if err != nil {
		return Task{}, fmt.Errorf("tickets: task: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Task{}, fmt.Errorf("tickets: task: %w", err)
	}
	now := tx.now.UTC().Truncate(time.Millisecond)
	return Task{
		ID: id, Title: in.Title, Agent: agent, CallID: callID, TicketID: in.TicketID, Due: in.Due.UTC().Truncate(time.Millisecond),
		Done: in.Done, Created: now, Updated: now,
	}, nil
}

// Summaries returns the summaries agents wrote for a call.
func (s *Service) Summaries(ctx context.Context, callID string) ([]Summary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT agent, outcome, notes, updated_at FROM call_summaries WHERE call_id = ? ORDER BY updated_at`, callID)
	if err != nil {
		return nil, fmt.Errorf("tickets: call %s summaries: %w", callID, err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		sum := Summary{CallID: callID}
		var at int64
		if err := rows.Scan(&sum.Agent, &sum.Outcome, &sum.Notes, &at); err != nil {
			return nil, fmt.Errorf("tickets: call %s summaries: %w", callID, err)
		}
		sum.Updated = fromMS(at)
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tickets: call %s summaries: %w", callID, err)
	}
	for i := range out {
		t, err := scanTask(s.db.QueryRowContext(ctx, `SELECT id, title, agent, call_id, ticket_id, due_at, done, created_at, updated_at
			FROM tasks WHERE call_id = ? AND agent = ? ORDER BY id DESC LIMIT 1`, callID, out[i].Agent))
		if err == nil {
			out[i].Task = &t
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	return out, nil
}

// CreateTask adds a task for agent.
func (s *Service) CreateTask(ctx context.Context, agent string, in TaskInput) (Task, error) {
	if err := checkTask(&in); err != nil {
		return Task{}, err
	}
	var t Task
	err := s.write(ctx, func(tx *txn) error {
		var err error
		t, err = tx.insertTask(agent, "", in)
		return err
	})
	return t, err
}

// Tasks lists agent's tasks ("" for everyone's), open first by due date.
func (s *Service) Tasks(ctx context.Context, agent string, includeDone bool) ([]Task, error) {
	q := `SELECT id, title, agent, call_id, ticket_id, due_at, done, created_at, updated_at FROM tasks WHERE (? = '' OR agent = ?)`
	if !includeDone {
		q += ` AND done = 0`
	}
	q += ` ORDER BY done, due_at IS NULL, due_at, id LIMIT 500`
	rows, err := s.db.QueryContext(ctx, q, agent, agent)
	if err != nil {
		return nil, fmt.Errorf("tickets: tasks: %w", err)
	}
	defer rows.Close()
	out := []Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func scanTask(r scanner) (Task, error) {
	var t Task
	var ticket, due sql.NullInt64
	var created, updated int64
	if err := r.Scan(&t.ID, &t.Title, &t.Agent, &t.CallID, &ticket, &due, &t.Done, &created, &updated); err != nil {
		return t, fmt.Errorf("tickets: task: %w", err)
	}
	t.TicketID, t.Due, t.Created, t.Updated = ticket.Int64, fromNullMS(due), fromMS(created), fromMS(updated)
	return t, nil
}

// Task returns one task.
func (s *Service) Task(ctx context.Context, id int64) (Task, error) {
	t, err := scanTask(s.db.QueryRowContext(ctx, `SELECT id, title, agent, call_id, ticket_id, due_at, done, created_at, updated_at FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("task %d: %w", id, ErrNotFound)
	}
	return t, err
}

// UpdateTask replaces a task's title, due date, ticket and done flag.
func (s *Service) UpdateTask(ctx context.Context, id int64, in TaskInput) (Task, error) {
	if err := checkTask(&in); err != nil {
		return Task{}, err
	}
	err := s.write(ctx, func(tx *txn) error {
		if err := tx.ticketExists(in.TicketID); err != nil {
			return err
		}
		res, err := tx.exec(`UPDATE tasks SET title = ?, due_at = ?, ticket_id = ?, done = ?, updated_at = ? WHERE id = ?`,
			in.Title, nullMS(in.Due), nullID(in.TicketID), in.Done, ms(tx.now), id)
		if err != nil {
			return fmt.Errorf("tickets: task %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("task %d: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return Task{}, err
	}
	return s.Task(ctx, id)
}

// File returns a recording's or voicemail's metadata.
func (s *Service) File(ctx context.Context, id int64) (File, error) {
	var f File
	var kind string
	var ticket, deleted sql.NullInt64
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, kind, call_id, ticket_id, path, duration_ms, size, created_at, deleted_at FROM files WHERE id = ?`, id).
		Scan(&f.ID, &kind, &f.CallID, &ticket, &f.Path, &f.DurationMS, &f.Size, &created, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("file %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("tickets: file %d: %w", id, err)
	}
	f.Kind, f.TicketID, f.Created, f.Deleted = FileKind(kind), ticket.Int64, fromMS(created), deleted.Valid
	return f, nil
}

// Files lists a ticket's recordings and voicemails.
func (s *Service) Files(ctx context.Context, ticketID int64) ([]File, error) {
	ids, err := queryIDs(ctx, s.db, `SELECT id FROM files WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(ids))
	for _, id := range ids {
		f, err := s.File(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// DeleteFile removes a recording's or voicemail's audio; the metadata and
// timeline entry stay, marked deleted, with who deleted it.
func (s *Service) DeleteFile(ctx context.Context, author string, id int64) error {
	f, err := s.File(ctx, id)
	if err != nil {
		return err
	}
	if f.Deleted {
		return nil
	}
	if s.filesRoot != "" {
		rel, rerr := filepath.Rel(filepath.Clean(s.filesRoot), filepath.Clean(f.Path))
		if rerr != nil || !filepath.IsLocal(rel) {
			return fmt.Errorf("%w: file %d is not under %s: not deleting it", ErrConflict, id, s.filesRoot)
		}
	}
	err = s.write(ctx, func(tx *txn) error {
		if _, xerr := tx.exec(`UPDATE files SET deleted_at = ? WHERE id = ?`, ms(tx.now), id); xerr != nil {
			return fmt.Errorf("tickets: file %d: %w", id, xerr)
		}
		if f.TicketID != 0 {
			body := fmt.Sprintf("Deleted the %s of call %s", f.Kind, f.CallID)
			if _, xerr := tx.addEntry(Entry{TicketID: f.TicketID, Kind: EntryComment, Author: author, Body: body, CallID: f.CallID}); xerr != nil {
				return xerr
			}
			tx.ticketUpdated(f.TicketID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The row says deleted before the file goes: a crash between the two
	// leaves an orphan file, never a row pointing at nothing.
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("tickets: delete %s: %w", f.Path, err)
	}
	return nil
}

// ticketExists is nil for 0 (no ticket) or a ticket that exists, else an
// ErrInvalid.
func (tx *txn) ticketExists(id int64) error {
	if id == 0 {
		return nil
	}
	if _, err := tx.ticket(id); errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: ticket %d does not exist", ErrInvalid, id)
	} else if err != nil {
		return err
	}
	return nil
}
