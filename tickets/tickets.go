package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on ticket text.
const (
	maxSubjectLen = 300
	maxBodyLen    = 64 << 10
)

// TicketInput creates a ticket by hand (or from the API).
type TicketInput struct {
	Subject    string  `json:"subject"`
	Status     Status  `json:"status"`
	Department string  `json:"department"`
	Assignee   string  `json:"assignee"`
	ContactID  int64   `json:"contact_id"`
	Channel    Channel `json:"channel"`
	// Comment is an optional first comment (internal unless Public).
	Comment string `json:"comment"`
	Public  bool   `json:"public"`
}

// TicketUpdate changes some of a ticket's fields; nil leaves one as it is.
type TicketUpdate struct {
	Subject    *string `json:"subject"`
	Status     *Status `json:"status"`
	Assignee   *string `json:"assignee"`
	Department *string `json:"department"`
	ContactID  *int64  `json:"contact_id"`
}

// Filter selects tickets.
type Filter struct {
	Statuses   []Status
	Assignee   *string // "" for unassigned
	Department string
	ContactID  int64
	// Text is a full-text query over subjects and comments.
	Text string
	// Visible restricts the result to what an agent may see; nil: all.
	Visible *Visibility
	// Limit (1-500, default 50) and Before (a ticket id, for the next
	// page: tickets are listed newest first).
	Limit  int
	Before int64
}

// Visibility is what an agent may see: tickets of their departments, those
// assigned to them, and those of no department.
type Visibility struct {
	Agent       string
	Departments []string
}

// Allows reports whether v may see t.
func (v *Visibility) Allows(t Ticket) bool {
	if v == nil || t.Department == "" || t.Assignee == v.Agent {
		return true
	}
	for _, d := range v.Departments {
		if d == t.Department {
			return true
		}
	}
	return false
}

// sql is Allows as an SQL condition on the tickets table, with its
// arguments.
func (v *Visibility) sql() (string, []any) {
	cond := []string{`department = ''`, `assignee = ?`}
	args := []any{v.Agent}
	for _, d := range v.Departments {
		cond = append(cond, `department = ?`)
		args = append(args, d)
	}
	return `(` + strings.Join(cond, " OR ") + `)`, args
}

func validText(field, v string, maxLen int) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	}
	if len(v) > maxLen {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, field, maxLen)
	}
	return nil
}

// CreateTicket opens a ticket by hand. author is the agent creating it.
func (s *Service) CreateTicket(ctx context.Context, author string, in TicketInput) (TicketView, error) {
	in.Subject = strings.TrimSpace(in.Subject)
	if in.Subject == "" {
		return TicketView{}, fmt.Errorf("%w: a ticket needs a subject", ErrInvalid)
	}
	if err := validText("subject", in.Subject, maxSubjectLen); err != nil {
		return TicketView{}, err
	}
	if err := validText("comment", in.Comment, maxBodyLen); err != nil {
		return TicketView{}, err
	}
	if in.Status == "" {
		in.Status = StatusNew
	}
	if !in.Status.Valid() {
		return TicketView{}, fmt.Errorf("%w: status %q is not one of new, open, pending, on-hold, solved, closed", ErrInvalid, in.Status)
	}
	if in.Channel == "" {
		in.Channel = ChannelPhone
	}
	switch in.Channel {
	case ChannelPhone, ChannelSMS, ChannelWeb, ChannelEmail:
	default:
		return TicketView{}, fmt.Errorf("%w: channel %q is not one of phone, sms, web, email", ErrInvalid, in.Channel)
	}
	var id int64
	err := s.write(ctx, func(tx *txn) error {
		if in.ContactID != 0 {
			if err := tx.contactExists(in.ContactID); err != nil {
				return err
			}
		}
		var err error
		id, err = tx.insertTicket(Ticket{
			Subject: in.Subject, Status: in.Status, Department: in.Department,
			Assignee: in.Assignee, ContactID: in.ContactID, Channel: in.Channel,
		})
		if err != nil {
			return err
		}
		if in.Comment != "" {
			_, err = tx.addEntry(Entry{TicketID: id, Kind: EntryComment, Public: in.Public, Author: author, Body: in.Comment})
		}
		return err
	})
	if err != nil {
		return TicketView{}, err
	}
	return s.Ticket(ctx, id)
}

func (tx *txn) contactExists(id int64) error {
	var one int
	err := tx.queryRow(`SELECT 1 FROM contacts WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: contact %d does not exist", ErrInvalid, id)
	}
	if err != nil {
		return fmt.Errorf("tickets: contact %d: %w", id, err)
	}
	return nil
}

// insertTicket writes a new ticket and indexes its subject.
func (tx *txn) insertTicket(t Ticket) (int64, error) {
	res, err := tx.exec(`INSERT INTO tickets (subject, status, department, assignee, contact_id, channel, by_call, menu_path, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Subject, string(t.Status), t.Department, t.Assignee, nullID(t.ContactID), string(t.Channel), t.ByCall, t.MenuPath, ms(tx.now), ms(tx.now))
	if err != nil {
		return 0, fmt.Errorf("tickets: create ticket: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("tickets: create ticket: %w", err)
	}
	if _, err := tx.exec(`INSERT INTO ticket_text (body, ticket_id) VALUES (?, ?)`, t.Subject, id); err != nil {
		return 0, fmt.Errorf("tickets: index ticket %d: %w", id, err)
	}
	tx.change(Change{Kind: TicketCreated, TicketID: id, ContactID: t.ContactID, Department: t.Department, Assignee: t.Assignee, Status: t.Status})
	return id, nil
}

// addEntry appends to a ticket's timeline and touches the ticket.
func (tx *txn) addEntry(e Entry) (int64, error) {
	res, err := tx.exec(`INSERT INTO timeline (ticket_id, kind, public, author, body, call_id, file_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TicketID, string(e.Kind), e.Public, e.Author, e.Body, e.CallID, nullID(e.FileID), ms(tx.now))
	if err != nil {
		return 0, fmt.Errorf("tickets: ticket %d timeline: %w", e.TicketID, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("tickets: ticket %d timeline: %w", e.TicketID, err)
	}
	if e.Kind == EntryComment {
		if _, err := tx.exec(`INSERT INTO ticket_text (body, ticket_id) VALUES (?, ?)`, e.Body, e.TicketID); err != nil {
			return 0, fmt.Errorf("tickets: index ticket %d: %w", e.TicketID, err)
		}
	}
	if _, err := tx.exec(`UPDATE tickets SET updated_at = ? WHERE id = ?`, ms(tx.now), e.TicketID); err != nil {
		return 0, fmt.Errorf("tickets: ticket %d: %w", e.TicketID, err)
	}
	return id, nil
}

const ticketColumns = `id, subject, status, department, assignee, contact_id, channel, by_call, menu_path, merged_into, created_at, updated_at,
	session_type, from_number, call_id, call_ms, wait_ms, hold_ms, queue, csat`

type scanner interface{ Scan(dest ...any) error }

func scanTicket(r scanner) (Ticket, error) {
	var t Ticket
	var contact, merged, csat sql.NullInt64
	var created, updated int64
	var status, channel string
	var cf CallFields
	err := r.Scan(&t.ID, &t.Subject, &status, &t.Department, &t.Assignee, &contact, &channel, &t.ByCall, &t.MenuPath, &merged,
		&created, &updated, &cf.SessionType, &cf.From, &cf.CallID, &cf.DurationMS, &cf.WaitMS, &cf.HoldMS, &cf.Queue, &csat)
	if err != nil {
		return t, err
	}
	t.Status, t.Channel = Status(status), Channel(channel)
	t.ContactID, t.MergedInto = contact.Int64, merged.Int64
	t.Created, t.Updated = fromMS(created), fromMS(updated)
	if csat.Valid {
		v := int(csat.Int64)
		cf.CSAT = &v
	}
	if cf.CallID != "" {
		t.Call = &cf
	}
	return t, nil
}

func (tx *txn) ticket(id int64) (Ticket, error) {
	t, err := scanTicket(tx.queryRow(`SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("ticket %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("tickets: ticket %d: %w", id, err)
	}
	return t, nil
}

// TicketOnly returns a ticket without its timeline: enough to decide who
// may see it.
func (s *Service) TicketOnly(ctx context.Context, id int64) (Ticket, error) {
	t, err := scanTicket(s.db.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("ticket %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("tickets: ticket %d: %w", id, err)
	}
	return t, nil
}

// Ticket returns a ticket with its timeline.
func (s *Service) Ticket(ctx context.Context, id int64) (TicketView, error) {
	t, err := s.TicketOnly(ctx, id)
	if err != nil {
		return TicketView{}, err
	}
	v := TicketView{Ticket: t, Timeline: []Entry{}}
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, public, author, body, call_id, file_id, at FROM timeline WHERE ticket_id = ? ORDER BY id`, id)
	if err != nil {
		return TicketView{}, fmt.Errorf("tickets: ticket %d timeline: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		e := Entry{TicketID: id}
		var kind string
		var file sql.NullInt64
		var at int64
		if err := rows.Scan(&e.ID, &kind, &e.Public, &e.Author, &e.Body, &e.CallID, &file, &at); err != nil {
			return TicketView{}, fmt.Errorf("tickets: ticket %d timeline: %w", id, err)
		}
		e.Kind, e.FileID, e.At = EntryKind(kind), file.Int64, fromMS(at)
		v.Timeline = append(v.Timeline, e)
	}
	if err := rows.Err(); err != nil {
		return TicketView{}, fmt.Errorf("tickets: ticket %d timeline: %w", id, err)
	}
	return v, nil
}

// Tickets lists tickets matching f, newest first.
func (s *Service) Tickets(ctx context.Context, f Filter) ([]Ticket, error) {
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			if !st.Valid() {
				return nil, fmt.Errorf("%w: status %q", ErrInvalid, st)
			}
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, `status IN (`+strings.Join(ph, ", ")+`)`)
	}
	if f.Assignee != nil {
		where = append(where, `assignee = ?`)
		args = append(args, *f.Assignee)
	}
	if f.Department != "" {
		where = append(where, `department = ?`)
		args = append(args, f.Department)
	}
	if f.ContactID != 0 {
		where = append(where, `contact_id = ?`)
		args = append(args, f.ContactID)
	}
	if f.Before != 0 {
		where = append(where, `id < ?`)
		args = append(args, f.Before)
	}
	if q := ftsQuery(f.Text); q != "" {
		where = append(where, `id IN (SELECT ticket_id FROM ticket_text WHERE body MATCH ?)`)
		args = append(args, q)
	} else if strings.TrimSpace(f.Text) != "" {
		return []Ticket{}, nil
	}
	if v := f.Visible; v != nil {
		cond, vargs := v.sql()
		where = append(where, cond)
		args = append(args, vargs...)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	q := `SELECT ` + ticketColumns + ` FROM tickets`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ") //nolint:gosec // constant fragments; every value is bound
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("tickets: list: %w", err)
	}
	defer rows.Close()
	out := []Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("tickets: list: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tickets: list: %w", err)
	}
	return out, nil
}

// ftsQuery turns what a user typed into an FTS4 query of prefix terms that
// must all match: "print jam" finds "printer jammed". It never passes the
// user's operators through.
func ftsQuery(text string) string {
	words := splitWords(text)
	if len(words) > 8 {
		words = words[:8]
	}
	for i, w := range words {
		words[i] = w + "*"
	}
	return strings.Join(words, " ")
}

// UpdateTicket changes a ticket's subject, status, assignee, department or
// contact; each change goes on the timeline with its author.
func (s *Service) UpdateTicket(ctx context.Context, author string, id int64, u TicketUpdate) (TicketView, error) {
	if u.Subject != nil {
		v := strings.TrimSpace(*u.Subject)
		if v == "" {
			return TicketView{}, fmt.Errorf("%w: a ticket needs a subject", ErrInvalid)
		}
		if err := validText("subject", v, maxSubjectLen); err != nil {
			return TicketView{}, err
		}
		u.Subject = &v
	}
	if u.Status != nil && !u.Status.Valid() {
		return TicketView{}, fmt.Errorf("%w: status %q is not one of new, open, pending, on-hold, solved, closed", ErrInvalid, *u.Status)
	}
	err := s.write(ctx, func(tx *txn) error {
		t, err := tx.ticket(id)
		if err != nil {
			return err
		}
		changed := false
		if u.Subject != nil && *u.Subject != t.Subject {
			if _, err := tx.exec(`UPDATE tickets SET subject = ? WHERE id = ?`, *u.Subject, id); err != nil {
				return fmt.Errorf("tickets: ticket %d: %w", id, err)
			}
			if _, err := tx.exec(`INSERT INTO ticket_text (body, ticket_id) VALUES (?, ?)`, *u.Subject, id); err != nil {
				return fmt.Errorf("tickets: index ticket %d: %w", id, err)
			}
			if _, err := tx.addEntry(Entry{TicketID: id, Kind: EntrySubject, Author: author, Body: fmt.Sprintf("Subject changed from %q to %q", t.Subject, *u.Subject)}); err != nil {
				return err
			}
			changed = true
		}
		if u.Status != nil && *u.Status != t.Status {
			if err := tx.setStatus(t, *u.Status, author); err != nil {
				return err
			}
			changed = true
		}
		if u.Assignee != nil && *u.Assignee != t.Assignee {
			if err := tx.assign(t, *u.Assignee, author); err != nil {
				return err
			}
			changed = true
		}
		if u.Department != nil && *u.Department != t.Department {
			if _, err := tx.exec(`UPDATE tickets SET department = ? WHERE id = ?`, *u.Department, id); err != nil {
				return fmt.Errorf("tickets: ticket %d: %w", id, err)
			}
			if _, err := tx.addEntry(Entry{TicketID: id, Kind: EntryAssignment, Author: author, Body: fmt.Sprintf("Department changed from %q to %q", t.Department, *u.Department)}); err != nil {
				return err
			}
			changed = true
		}
		if u.ContactID != nil && *u.ContactID != t.ContactID {
			if *u.ContactID != 0 {
				if err := tx.contactExists(*u.ContactID); err != nil {
					return err
				}
			}
			if _, err := tx.exec(`UPDATE tickets SET contact_id = ? WHERE id = ?`, nullID(*u.ContactID), id); err != nil {
				return fmt.Errorf("tickets: ticket %d: %w", id, err)
			}
			changed = true
		}
		if changed {
			tx.ticketUpdated(id)
		}
		return nil
	})
	if err != nil {
		return TicketView{}, err
	}
	return s.Ticket(ctx, id)
}

// ticketUpdated reports the ticket's state after the transaction's changes.
func (tx *txn) ticketUpdated(id int64) {
	for _, c := range tx.changes {
		if c.TicketID == id && (c.Kind == TicketCreated || c.Kind == TicketUpdated) {
			return // one report per ticket and transaction
		}
	}
	t, err := tx.ticket(id)
	if err != nil {
		return
	}
	tx.change(Change{Kind: TicketUpdated, TicketID: id, ContactID: t.ContactID, Department: t.Department, Assignee: t.Assignee, Status: t.Status})
}

func (tx *txn) setStatus(t Ticket, to Status, author string) error {
	if _, err := tx.exec(`UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?`, string(to), ms(tx.now), t.ID); err != nil {
		return fmt.Errorf("tickets: ticket %d: %w", t.ID, err)
	}
	_, err := tx.addEntry(Entry{TicketID: t.ID, Kind: EntryStatus, Author: author, Body: fmt.Sprintf("Status changed from %s to %s", t.Status, to)})
	return err
}

func (tx *txn) assign(t Ticket, to, author string) error {
	if _, err := tx.exec(`UPDATE tickets SET assignee = ?, updated_at = ? WHERE id = ?`, to, ms(tx.now), t.ID); err != nil {
		return fmt.Errorf("tickets: ticket %d: %w", t.ID, err)
	}
	body := "Assigned to " + to
	switch {
	case to == "":
		body = "Unassigned (was " + t.Assignee + ")"
	case t.Assignee != "":
		body = fmt.Sprintf("Reassigned from %s to %s", t.Assignee, to)
	}
	_, err := tx.addEntry(Entry{TicketID: t.ID, Kind: EntryAssignment, Author: author, Body: body})
	return err
}

// AddComment adds a comment to a ticket: internal, or public (the
// customer may see it).
func (s *Service) AddComment(ctx context.Context, author string, ticketID int64, body string, public bool) (Entry, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return Entry{}, fmt.Errorf("%w: the comment is empty", ErrInvalid)
	}
	if err := validText("comment", body, maxBodyLen); err != nil {
		return Entry{}, err
	}
	var e Entry
	err := s.write(ctx, func(tx *txn) error {
		if _, err := tx.ticket(ticketID); err != nil {
			return err
		}
		e = Entry{TicketID: ticketID, Kind: EntryComment, Public: public, Author: author, Body: body, At: tx.now.UTC().Truncate(1e6)}
		id, err := tx.addEntry(e)
		e.ID = id
		tx.ticketUpdated(ticketID)
		return err
	})
	return e, err
}

// Merge merges ticket from into ticket into: from is closed and points to
// into, and a call still going on from's ticket ends on into (A158).
func (s *Service) Merge(ctx context.Context, author string, from, into int64) (TicketView, error) {
	if from == into {
		return TicketView{}, fmt.Errorf("%w: a ticket cannot be merged into itself", ErrConflict)
	}
	err := s.write(ctx, func(tx *txn) error {
		src, err := tx.ticket(from)
		if err != nil {
			return err
		}
		dst, err := tx.ticket(into)
		if err != nil {
			return err
		}
		if src.MergedInto != 0 {
			return fmt.Errorf("%w: ticket %d was already merged into %d", ErrConflict, from, src.MergedInto)
		}
		if dst.MergedInto != 0 {
			return fmt.Errorf("%w: ticket %d was merged into %d; merge into that one", ErrConflict, into, dst.MergedInto)
		}
		if _, err := tx.exec(`UPDATE tickets SET merged_into = ?, status = 'closed', updated_at = ? WHERE id = ?`, into, ms(tx.now), from); err != nil {
			return fmt.Errorf("tickets: merge %d: %w", from, err)
		}
		if _, err := tx.addEntry(Entry{TicketID: from, Kind: EntryMerge, Author: author, Body: fmt.Sprintf("Merged into ticket #%d", into)}); err != nil {
			return err
		}
		if _, err := tx.addEntry(Entry{TicketID: into, Kind: EntryMerge, Author: author, Body: fmt.Sprintf("Ticket #%d (%s) merged into this one", from, src.Subject)}); err != nil {
			return err
		}
		// calls still going on follow the ticket they will end on (A158)
		if _, err := tx.exec(`UPDATE calls SET ticket_id = ? WHERE ticket_id = ? AND ended_at IS NULL`, into, from); err != nil {
			return fmt.Errorf("tickets: merge %d: %w", from, err)
		}
		tx.ticketUpdated(from)
		tx.ticketUpdated(into)
		return nil
	})
	if err != nil {
		return TicketView{}, err
	}
	return s.Ticket(ctx, into)
}

// resolveMerged follows merges from ticket id to the ticket that is still
// itself.
func (tx *txn) resolveMerged(id int64) (int64, error) {
	for range 32 {
		var merged sql.NullInt64
		if err := tx.queryRow(`SELECT merged_into FROM tickets WHERE id = ?`, id).Scan(&merged); err != nil {
			return 0, fmt.Errorf("tickets: ticket %d: %w", id, err)
		}
		if !merged.Valid {
			return id, nil
		}
		id = merged.Int64
	}
	return id, nil
}
